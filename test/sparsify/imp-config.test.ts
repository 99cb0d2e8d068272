/**
 * IMP / LRR from a config: the level plan (levels, prune fraction, epochs per level) against its
 * closed form, the LR schedule restarting every level (closed-form cosine), the config errors
 * naming the field; and the labels and report rows of sparsify runs next to pruning at
 * initialization (one table per setting, rows named for the method, Sign-In rows paired).
 */
import * as path from 'node:path';
import {
  ImpLevels, accuracyTables, impPlan, loadSweepFile, pairedRows, parseConfig, scheduleFor,
  sparsifyCallbacksFromConfig, type ExperimentConfigInput, type RunRecord,
} from '../../src';
import { methodLabel, plotData, runLabel } from '../../src/experiments/report';
import { runSparsity } from '../../src/experiments/schema';

const CONFIGS = path.join(__dirname, '../../examples/configs/sparsify');
const base = { dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' } } as const;

describe('IMP / LRR config', () => {
  it('derives the plan: p = 1 − (1 − s)^(1/(levels − 1)), or the levels of 20% prunes', () => {
    expect(impPlan({ sparsity: 0.9, levels: 4 }, 8).plan).toEqual({ levels: 4, pruneFraction: expect.closeTo(1 - 0.1 ** (1 / 3), 12), epochsPerLevel: 2 });
    // OpenLTH's 20% per level: 1 + round(ln 0.1 / ln 0.8) = 11 levels, p re-derived to land on 90%.
    const plan = impPlan({ sparsity: 0.9 }, 22).plan!;
    expect(plan.levels).toBe(11);
    expect(1 - (1 - plan.pruneFraction) ** 10).toBeCloseTo(0.9, 12);
    expect(impPlan({ sparsity: 0.36, pruneFraction: 0.2, epochsPerLevel: 3 }, 9).plan).toEqual({ levels: 3, pruneFraction: 0.2, epochsPerLevel: 3 });
  });

  it('builds ImpLevels from the section, the rewind epoch in iterations', () => {
    const cfg = parseConfig({ ...base, epochs: 8, sparsify: { method: 'imp', sparsity: 0.9, levels: 4, rewindEpoch: 0.5 } });
    const [imp, stats] = sparsifyCallbacksFromConfig(cfg, 100);
    expect(imp).toBeInstanceOf(ImpLevels);
    expect(stats.name).toBe('sparsity-stats');
    const i = imp as ImpLevels;
    expect([i.name, i.rewind, i.levels, i.epochsPerLevel, i.rewindStep]).toEqual(['imp', true, 4, 2, 50]);
    expect(i.pruneFraction).toBeCloseTo(1 - 0.1 ** (1 / 3), 12);
    const lrr = sparsifyCallbacksFromConfig(parseConfig({ ...base, epochs: 8, sparsify: { method: 'lrr', sparsity: 0.9, levels: 4 } }), 100)[0] as ImpLevels;
    expect([lrr.name, lrr.rewind, lrr.rewindStep]).toEqual(['lrr', false, 0]);
  });

  it('passes scope and the layers kept dense to ImpLevels (defaults: global, none dense)', () => {
    const cfg = parseConfig({ ...base, epochs: 4, sparsify: { method: 'lrr', sparsity: 0.75, levels: 2, scope: 'layerwise', denseFirst: true, denseLast: true, denseLayers: ['conv2'] } });
    const i = sparsifyCallbacksFromConfig(cfg, 10)[0] as ImpLevels;
    expect([i.scope, i.dense]).toEqual(['layerwise', { denseFirst: true, denseLast: true, denseLayers: ['conv2'] }]);
    const d = sparsifyCallbacksFromConfig(parseConfig({ ...base, epochs: 4, sparsify: { method: 'imp', sparsity: 0.75, levels: 2 } }), 10)[0] as ImpLevels;
    expect([d.scope, d.dense]).toEqual(['global', { denseFirst: false, denseLast: false, denseLayers: [] }]);
  });

  it('restarts the LR schedule every level (cosine over epochsPerLevel, after a warm-up)', () => {
    const cfg = parseConfig({ ...base, epochs: 9, optimizer: { lr: 0.1 }, schedule: { name: 'cosine', warmupEpochs: 1 }, sparsify: { method: 'lrr', sparsity: 0.5, levels: 3 } });
    const lr = scheduleFor(cfg);
    // Closed form within a level of E = 3 epochs: linear warm-up to 0.1 over 1 epoch, then cosine to 0 at 3.
    const within = (u: number) => (u < 1 ? 0.1 * u : 0.05 * (1 + Math.cos((Math.PI * (u - 1)) / 2)));
    for (const t of [0, 0.5, 1, 1.7, 2.5, 2.99, 3, 3.5, 4.2, 5.9, 6, 7.25, 8.75]) expect(lr(t)).toBeCloseTo(within(t - 3 * Math.min(Math.floor(t / 3), 2)), 12);
    const plain = scheduleFor(parseConfig({ ...base, epochs: 9, optimizer: { lr: 0.1 } }));
    expect(plain(4.5)).toBeCloseTo(0.05 * (1 + Math.cos((Math.PI * 4.5) / 9)), 12);
  });

  it.each<[string, ExperimentConfigInput['sparsify'], number, RegExp]>([
    ['epochs not levels × epochsPerLevel', { method: 'imp', sparsity: 0.9, levels: 4, epochsPerLevel: 3 }, 8, /epochs: Expected levels × epochsPerLevel = 4 × 3 = 12 epochs but received 8/],
    ['epochs not a multiple of the levels', { method: 'imp', sparsity: 0.9, levels: 3 }, 8, /sparsify\.epochsPerLevel: Expected epochs \(8\) to be a multiple of the 3 levels/],
    ['levels and fraction that miss the sparsity', { method: 'imp', sparsity: 0.9, levels: 3, pruneFraction: 0.2 }, 6, /sparsify\.pruneFraction: Expected 2 prunes of pruneFraction 0\.2 to reach sparsify\.sparsity 90% \(they reach 36%\)/],
    ['a rewind point for LRR', { method: 'lrr', sparsity: 0.5, levels: 2, rewindIteration: 10 }, 2, /sparsify\.rewindIteration: Expected no rewind point for 'lrr'/],
    ['both rewind fields', { method: 'imp', sparsity: 0.5, levels: 2, rewindIteration: 10, rewindEpoch: 0.5 }, 2, /sparsify\.rewindEpoch: Expected rewindIteration or rewindEpoch, not both/],
    ['a rewind epoch past level 0', { method: 'imp', sparsity: 0.5, levels: 2, rewindEpoch: 1 }, 2, /sparsify\.rewindEpoch: Expected an epoch of level 0 \(< epochsPerLevel = 1\)/],
    ['an empty denseLayers', { method: 'imp', sparsity: 0.5, levels: 2, denseLayers: [] }, 2, /sparsify\.denseLayers/],
    ['a scope for rigl', { method: 'rigl', sparsity: 0.5, scope: 'layerwise' }, 2, /sparsify\.scope: Only sparsify\.method 'gmp', 'acdc', 'imp', 'lrr' take sparsify\.scope \(the method here is 'rigl'\); remove sparsify\.scope/],
    ['denseFirst for gmp', { method: 'gmp', sparsity: 0.5, denseFirst: true }, 2, /sparsify\.denseFirst: Only sparsify\.method 'rigl', 'set', 'imp', 'lrr' take sparsify\.denseFirst \(the method here is 'gmp'\)/],
    ['denseLast for rigl', { method: 'rigl', sparsity: 0.5, denseLast: false }, 2, /sparsify\.denseLast: Only sparsify\.method 'imp', 'lrr' take sparsify\.denseLast \(the method here is 'rigl'\)/],
    ['denseLayers for acdc', { method: 'acdc', sparsity: 0.5, denseLayers: ['fc3'] }, 2, /sparsify\.denseLayers: Only sparsify\.method 'imp', 'lrr' take sparsify\.denseLayers \(the method here is 'acdc'\)/],
    ['sparsity 0', { method: 'lrr', sparsity: 0, levels: 2 }, 2, /sparsify\.sparsity: Expected a sparsity > 0/],
    ['one level', { method: 'imp', sparsity: 0.5, levels: 1 }, 2, /sparsify\.levels/],
  ])('rejects %s, naming the field', (_what, sparsify, epochs, message) => {
    expect(() => parseConfig({ ...base, epochs, sparsify })).toThrow(message);
  });

  it('rejects a warm-up as long as a level, and a rewind iteration past level 0 when the steps are known', () => {
    expect(() => parseConfig({ ...base, epochs: 6, schedule: { warmupEpochs: 2 }, sparsify: { method: 'imp', sparsity: 0.5, levels: 3 } }))
      .toThrow(/schedule\.warmupEpochs: Expected a number < sparsify\.epochsPerLevel \(2\) but received 2/);
    const cfg = parseConfig({ ...base, epochs: 4, sparsify: { method: 'imp', sparsity: 0.5, levels: 2, rewindIteration: 200 } });
    expect(() => sparsifyCallbacksFromConfig(cfg, 100)).toThrow(/Expected an iteration of level 0 \(< 200: 2 epochs of 100 steps\) for sparsify\.rewindIteration but received 200/);
  });

  it('names bad arguments of impPlan, runSparsity and runLabel', () => {
    expect(() => impPlan({ sparsity: 1.5 }, 4)).toThrow(/for sparsity but received 1\.5/);
    expect(() => impPlan({ sparsity: 0.5, levels: 1 }, 4)).toThrow(/for levels but received 1/);
    expect(() => impPlan(null as never, 4)).toThrow(/options object for input but received null/);
    expect(() => impPlan({ sparsity: 0.5 }, 0)).toThrow(/for epochs but received 0/);
    expect(() => runSparsity(null as never)).toThrow(/Expected experiment config object for config but received null/);
    expect(() => runSparsity({ pruning: { sparsity: 0.5 }, sparsify: { sparsity: 'x' } } as never)).toThrow(/for config\.sparsify\.sparsity but received 'x'|for config\.sparsify\.sparsity but received "x"/);
    expect(() => runLabel({ pruning: { method: 'random', sparsity: 0.5 } } as never)).toThrow(/Expected Sign-In section object for config\.signin but received undefined/);
  });

  it('the example IMP / LRR sweep expands into valid runs whose epochs are levels × epochsPerLevel', () => {
    const { runs } = loadSweepFile(path.join(CONFIGS, 'fashion-mnist-imp-lrr-90.json'));
    expect(runs).toHaveLength(2 * 2 * 3);
    for (const r of runs) {
      const imp = sparsifyCallbacksFromConfig(r.config, 469)[0] as ImpLevels;
      expect(imp.levels * imp.epochsPerLevel).toBe(r.config.epochs);
      expect(1 - (1 - imp.pruneFraction) ** (imp.levels - 1)).toBeCloseTo(0.9, 12);
    }
  });

  it('the example IMP scope sweep crosses scope with conv1 and fc3 kept dense, 3 seeds each, in four report rows', () => {
    const { runs } = loadSweepFile(path.join(CONFIGS, 'fashion-mnist-imp-scope-90.json'));
    const settings = runs.map((r) => {
      const imp = sparsifyCallbacksFromConfig(r.config, 469)[0] as ImpLevels;
      expect([imp.name, imp.levels * imp.epochsPerLevel, r.config.epochs, r.config.signin.enabled]).toEqual(['imp', 8, 8, false]);
      expect(1 - (1 - imp.pruneFraction) ** (imp.levels - 1)).toBeCloseTo(0.9, 12);
      return `${imp.scope} ${imp.dense.denseFirst} ${imp.dense.denseLast} ${imp.dense.denseLayers.length} ${r.config.seed}`;
    });
    expect(settings.sort()).toEqual(['global', 'layerwise'].flatMap((scope) => [false, true].flatMap((d) => [0, 1, 2].map((seed) => `${scope} ${d} ${d} 0 ${seed}`))).sort());
    const records = runs.map((r, i): RunRecord => ({ dir: `/runs/r${i}`, name: `r${i}`, hash: 'h', config: r.config, status: 'finished', final: { epoch: 8, step: 8, testAcc: 0.9 }, metrics: [] }));
    const [table, ...more] = accuracyTables(records);
    expect(more).toHaveLength(0);
    expect(table.rows.map((row) => row.label).sort()).toEqual([
      'IMP (sparsify.denseFirst=false, sparsify.denseLast=false, sparsify.scope=global)',
      'IMP (sparsify.denseFirst=false, sparsify.denseLast=false, sparsify.scope=layerwise)',
      'IMP (sparsify.denseFirst=true, sparsify.denseLast=true, sparsify.scope=global)',
      'IMP (sparsify.denseFirst=true, sparsify.denseLast=true, sparsify.scope=layerwise)',
    ]);
    expect(table.rows.map((row) => row.cells[0]!.seeds)).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]]);
  });
});

describe('labels and report rows of sparsify runs', () => {
  const cfg = (extra: ExperimentConfigInput['sparsify'] | { pruning: object }, signin = false) => parseConfig({
    ...base, epochs: 4, signin: { enabled: signin },
    ...(extra && 'pruning' in extra ? extra : { sparsify: extra }),
  });

  it('names the method and the sparsity it trains to', () => {
    expect(runLabel(cfg({ method: 'rigl', sparsity: 0.9 }))).toBe('RiGL 90%');
    expect(runLabel(cfg({ method: 'rigl', sparsity: 0.9 }, true))).toBe('RiGL + Sign-In 90%');
    expect(['acdc', 'gmp', 'set', 'str'].map((m) => methodLabel(cfg({ method: m as 'acdc', sparsity: 0.8 })))).toEqual(['AC/DC', 'GMP', 'SET', 'STR']);
    expect(methodLabel(cfg({ method: 'imp', sparsity: 0.75, levels: 2 }))).toBe('IMP');
    expect(runLabel(cfg({ method: 'lrr', sparsity: 0.75, levels: 2 }, true))).toBe('LRR + Sign-In 75%');
    expect(runLabel(cfg({ pruning: { method: 'random', sparsity: 0.95 } }))).toBe('Random 95%');
    expect(runLabel(cfg(undefined))).toBe('Dense 0%');
  });

  it('puts sparsify and pruning-at-initialization runs of one setting in one table, rows by method, Sign-In paired', () => {
    let n = 0;
    const run = (config: ReturnType<typeof cfg>, acc: number): RunRecord => ({
      dir: `/runs/r${n}`, name: `r${n++}`, hash: 'h', config, status: 'finished',
      final: { epoch: 4, step: 40, testAcc: acc },
      metrics: [1, 2, 3, 4].map((epoch) => ({ epoch, step: 10 * epoch, lr: 0.1, trainLoss: 1, trainAcc: 0.5, testAcc: acc, epochSeconds: 1, signFlips: { overall: 0.1 * epoch, fromInit: 0.1 * epoch, fromPrev: 0.05, perLayer: {} } })),
    });
    const runs = [
      run(cfg({ method: 'rigl', sparsity: 0.9 }), 0.80), run(cfg({ method: 'rigl', sparsity: 0.9 }, true), 0.82),
      run(cfg({ method: 'acdc', sparsity: 0.9 }), 0.85), run(cfg({ method: 'acdc', sparsity: 0.9 }, true), 0.84),
      run(cfg({ pruning: { method: 'random', sparsity: 0.9 } }), 0.70), run(cfg({ pruning: { method: 'random', sparsity: 0.9 } }, true), 0.75),
    ];
    const tables = accuracyTables(runs);
    expect(tables).toHaveLength(1);
    const [t] = tables;
    expect(t.sparsities).toEqual([0.9]);
    expect(t.rows.map((r) => [r.label, r.cells[0]!.mean])).toEqual([
      ['Random', 70], ['Random + Sign-In', 75], ['RiGL', 80], ['RiGL + Sign-In', 82], ['AC/DC', 85], ['AC/DC + Sign-In', 84],
    ].map(([l, v]) => [l, expect.closeTo(v as number, 10)]));
    expect(pairedRows(t).map((p) => [p.plain, p.signin, p.cells[0].summary.mean])).toEqual([
      ['Random', 'Random + Sign-In', expect.closeTo(5, 10)], ['RiGL', 'RiGL + Sign-In', expect.closeTo(2, 10)], ['AC/DC', 'AC/DC + Sign-In', expect.closeTo(-1, 10)],
    ]);
    // The flips figure: every method's curve over the epochs, in one plot.
    const flips = plotData(t, runs).flips.filter((p) => p.measure === 'from init');
    expect([...new Set(flips.map((p) => p.method))]).toEqual(['RiGL', 'RiGL + Sign-In', 'AC/DC', 'AC/DC + Sign-In', 'Random', 'Random + Sign-In']);
    expect(new Set(flips.map((p) => p.sparsity))).toEqual(new Set(['90%']));
    expect(flips.filter((p) => p.method === 'RiGL').map((p) => p.epoch)).toEqual([1, 2, 3, 4]);
  });
});
