/**
 * IMP / LRR with a layerwise scope (as OpenLTH's unmerged pull request 12) and layers kept dense
 * (OpenLTH's pruning_layers_to_ignore). The masks of every level are checked against a plain float64 sort of
 * the trained |θ| written here: over the kept weights of the pruned layers only (global), or per
 * pruned layer (layerwise); the layers kept dense stay all ones; the pruned layers' sparsity
 * follows the iterated rounding of kept · (1 − p), within rounding of 1 − (1 − p)^L.
 */
import {
  ImpLevels, RewindPoint, SGD, impLayers, impNextLevel, maskedLayers, signinFactors, type ImpLevelOptions, type Module,
} from '../../src';
import { fixedSource, toySetup, train, values } from './helpers';

const FRACTION = 0.3;
const NAMES = ['conv1', 'conv2', 'fc'];
type Scope = NonNullable<ImpLevelOptions['scope']>;

/** The expected masks after one prune: the largest |θ| among the kept, ties to the lower flat index. */
function referenceMasks(model: Module, scope: Scope, dense: ReadonlySet<string>): number[][] {
  const layers = maskedLayers(model).map(([name, l]) => ({ name, w: values(l.weight).map(Math.abs), m: values(l.mask) }));
  const out = layers.map((l) => [...l.m]);
  const groups = scope === 'global' ? [layers.map((_, i) => i).filter((i) => !dense.has(layers[i].name))]
    : layers.map((_, i) => [i]).filter(([i]) => !dense.has(layers[i].name));
  for (const group of groups) {
    const entries = group.flatMap((li) => layers[li].w.map((v, j) => ({ v, li, j, kept: layers[li].m[j] !== 0 }))).filter((e) => e.kept);
    const k = Math.round(entries.length * (1 - FRACTION));
    entries.sort((a, b) => b.v - a.v || a.li - b.li || a.j - b.j);
    entries.forEach((e, rank) => { out[e.li][e.j] = rank < k ? 1 : 0; });
  }
  return out;
}

const kept = (mask: number[]) => mask.filter((v) => v !== 0).length;

type Case = [string, Scope, { denseFirst?: boolean; denseLast?: boolean; denseLayers?: string[] }, string[]];
const CASES: Case[] = [
  ['global, denseLast', 'global', { denseLast: true }, ['fc']],
  ['global, denseFirst and denseLast', 'global', { denseFirst: true, denseLast: true }, ['conv1', 'fc']],
  ['global, denseLayers conv2', 'global', { denseLayers: ['conv2'] }, ['conv2']],
  ['layerwise, nothing dense', 'layerwise', {}, []],
  ['layerwise, denseFirst', 'layerwise', { denseFirst: true }, ['conv1']],
];

describe.each([false, true])('impNextLevel scope and dense layers (Sign-In %s)', (signin) => {
  it.each(CASES)('%s: three levels against a float64 sort, the dense layers all ones', async (_what, scope, dense, denseNames) => {
    const { model, optimizer } = toySetup(signin);
    const src = fixedSource(4);
    const rewind = new RewindPoint(1);
    await train(model, optimizer, src, 1, [rewind]);
    const numel = Object.fromEntries(maskedLayers(model).map(([n, l]) => [n, l.weight.numel]));
    const pruned = NAMES.filter((n) => !denseNames.includes(n));
    const prunedTotal = pruned.reduce((a, n) => a + numel[n], 0);
    let keptGlobal = prunedTotal;
    const keptLayer = { ...numel };
    let opt = optimizer;
    for (let level = 1; level <= 3; level++) {
      const want = referenceMasks(model, scope, new Set(denseNames));
      const snapshot = level === 1 ? rewind.snapshot : undefined;
      impNextLevel(model, { fraction: FRACTION, scope, ...dense, rewindTo: snapshot, optimizer: opt });
      const masks = Object.fromEntries(maskedLayers(model).map(([n, l]) => [n, values(l.mask)]));
      expect(NAMES.map((n) => masks[n])).toEqual(want);
      for (const n of denseNames) expect(kept(masks[n])).toBe(numel[n]);
      if (scope === 'global') {
        keptGlobal = Math.round(keptGlobal * (1 - FRACTION));
        expect(pruned.reduce((a, n) => a + kept(masks[n]), 0)).toBe(keptGlobal);
        expect(Math.abs(1 - keptGlobal / prunedTotal - (1 - (1 - FRACTION) ** level))).toBeLessThan(level / prunedTotal);
      } else {
        for (const n of pruned) {
          keptLayer[n] = Math.round(keptLayer[n] * (1 - FRACTION));
          expect(kept(masks[n])).toBe(keptLayer[n]);
          expect(Math.abs(1 - keptLayer[n] / numel[n] - (1 - (1 - FRACTION) ** level))).toBeLessThan(level / numel[n]);
        }
      }
      if (snapshot) {
        // IMP: a dense layer is rewound whole, a pruned one under its new mask (Sign-In: m = √β, w = 0 off it).
        for (const [n, l] of maskedLayers(model)) {
          const snap = values(snapshot.get(`${n}.weight`)!);
          expect(values(l.weight)).toEqual(snap.map((v, j) => (masks[n][j] ? v : 0)));
          const f = signinFactors(l);
          if (f) {
            expect(values(f.w)).toEqual(values(snapshot.get(`${n}.weight_w`)!).map((v, j) => (masks[n][j] ? v : 0)));
            expect(values(f.m)).toEqual(values(snapshot.get(`${n}.weight_m`)!).map((v, j) => (masks[n][j] ? v : Math.fround(Math.sqrt(f.beta)))));
          }
        }
      }
      opt.dispose();
      opt = SGD.forModel(model, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
      await train(model, opt, src, 1, []);
    }
    opt.dispose(); rewind.dispose(); src.dispose();
  });
});

describe('ImpLevels with a layerwise scope and denseLast in a Trainer run', () => {
  it('keeps the classifier all ones and prunes each other layer by its own fraction at every level end', async () => {
    const { model, optimizer } = toySetup(false);
    const src = fixedSource(2);
    const imp = new ImpLevels({ rewind: false, levels: 3, epochsPerLevel: 1, pruneFraction: FRACTION, scope: 'layerwise', denseLast: true });
    const wants: number[][][] = [];
    const seen: number[][][] = [];
    await train(model, optimizer, src, 3, [
      { name: 'before', onEpochEnd(ctx) { if (ctx.epoch < 3) wants.push(referenceMasks(model, 'layerwise', new Set(['fc']))); } },
      imp,
      { name: 'after', onEpochEnd(ctx) { if (ctx.epoch < 3) seen.push(maskedLayers(model).map(([, l]) => values(l.mask))); } },
    ]);
    expect(seen).toHaveLength(2);
    expect(seen).toEqual(wants);
    const fc = seen[1][2];
    expect(kept(fc)).toBe(fc.length);
    expect([kept(seen[1][0]), kept(seen[1][1])]).toEqual([36, 288].map((n) => Math.round(Math.round(n * 0.7) * 0.7)));
    optimizer.dispose(); src.dispose(); imp.dispose();
  });
});

describe('bad scope and dense-layer arguments are refused, naming the argument', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown layer name', { denseLayers: ['conv1', 'fc2'] }, /^Expected the name of a masked layer of the model \('conv1', 'conv2', 'fc'\) for denseLayers\[1\] but received 'fc2' of type string$/],
    ['every layer dense', { denseFirst: true, denseLast: true, denseLayers: ['conv2'] }, /^Expected a masked layer left to prune \(all 3 of the model's are kept dense\) for denseFirst, denseLast, denseLayers/],
    ['a scope that is not one', { scope: 'perlayer' }, /for scope but received 'perlayer'/],
    ['a denseFirst that is not a boolean', { denseFirst: 1 }, /for denseFirst but received 1/],
    ['denseLayers not an array of names', { denseLayers: 'fc' }, /^Expected array of masked layer names for denseLayers but received 'fc' of type string$/],
  ])('impNextLevel: %s', (_what, opts, message) => {
    const { model, optimizer } = toySetup(false);
    const before = maskedLayers(model).map(([, l]) => values(l.mask));
    expect(() => impNextLevel(model, { fraction: 0.2, ...opts })).toThrow(message);
    expect(maskedLayers(model).map(([, l]) => values(l.mask))).toEqual(before);
    optimizer.dispose();
  });

  it('impLayers: no options splits off nothing; null options and a model that is not one are named (the API fuzz found a TypeError)', () => {
    const { model, optimizer } = toySetup(false);
    expect(impLayers(model).pruned.map(([n]) => n)).toEqual(NAMES);
    expect(() => impLayers(model, null as never)).toThrow(/^Expected options object for options but received null$/);
    expect(() => impLayers(Infinity as never)).toThrow(/^Expected Module for model but received Infinity/);
    optimizer.dispose();
  });

  it('ImpLevels: a bad scope at construction, an unknown layer at the start of training, before any step', async () => {
    expect(() => new ImpLevels({ rewind: true, levels: 2, epochsPerLevel: 1, pruneFraction: 0.5, scope: 'x' as never })).toThrow(/for scope but received 'x'/);
    const { model, optimizer } = toySetup(false);
    const src = fixedSource(1);
    const imp = new ImpLevels({ rewind: true, levels: 2, epochsPerLevel: 1, pruneFraction: 0.5, denseLayers: ['classifier'] });
    let steps = 0;
    await expect(train(model, optimizer, src, 2, [imp, { name: 'count', onStepEnd() { steps++; } }])).rejects.toThrow(/for denseLayers\[0\] but received 'classifier'/);
    expect(steps).toBe(0);
    optimizer.dispose(); src.dispose(); imp.dispose();
  });
});
