/**
 * pruneModel's behaviour beyond exact counts: dense first/last layers, the empty-layer warning and
 * strict error, iterative schedules, SynFlow's defaults and float64 fallback, mode and state
 * restoration, option validation with exact messages.
 */
import {
  EmptyLayerError, InvalidArgumentError, UnknownNameError, createModel, maskReport, maskedLayers, memory, noGrad, pruneModel, tidy,
} from '../../../src';
import { createToyModel } from '../../helpers/toy-model';
import { GRID_MODELS, batchFor, captureLogs, checkMasks, seeded } from './fixtures';

let logs: string[] = [];
beforeEach(() => { logs = captureLogs(); });

const PRUNERS = ['random', 'magnitude', 'snip', 'grasp', 'synflow'];
const resnet = GRID_MODELS.find((m) => m.name === 'cifar_resnet_20')!;

describe('denseFirst / denseLast', () => {
  const batch = batchFor(resnet.inputShape);
  test.each(PRUNERS)('%s keeps conv1 and fc dense and still meets the global target', async (method) => {
    for (const scope of ['global', 'layerwise'] as const) {
      const model = seeded(resnet.create);
      const r = await pruneModel(model, {
        method, sparsity: 0.95, scope, distribution: scope === 'layerwise' ? 'erk' : undefined, denseFirst: true, denseLast: true,
        data: batch, iterations: method === 'synflow' ? 2 : undefined,
      });
      const counts = checkMasks(model);
      expect(counts.get('conv1.weight')).toBe(432);
      expect(counts.get('fc.weight')).toBe(640);
      expect(r.layers.filter((l) => l.dense).map((l) => l.name)).toEqual(['conv1.weight', 'fc.weight']);
      expect(r.kept).toBe(Math.round(0.05 * r.total));
      model.dispose();
    }
  });

  test('denseLast finds the classifier by outputLayerName', async () => {
    const model = seeded(() => createModel('lenet5'));
    const r = await pruneModel(model, { method: 'magnitude', sparsity: 0.9, denseLast: true });
    expect(r.layers.find((l) => l.name === 'fc3.weight')!.density).toBe(1);
  });

  test('an infeasible target is an error naming the bound', async () => {
    const model = seeded(() => createModel('lenet5'));
    await expect(pruneModel(model, { method: 'magnitude', sparsity: 0.999, denseFirst: true, denseLast: true })).rejects.toThrow(/^Expected number <= 0\.98389\d* \(the layers kept dense hold 990 of 61470 weights\) for sparsity but received 0\.999 of type number$/);
  });
});

test('the full vgg11_bn (9.2M weights): global magnitude and random ERK are exact', async () => {
  const model = seeded(() => createModel('vgg11_bn'));
  const total = maskedLayers(model).reduce((s, [, l]) => s + l.weight.numel, 0);
  expect((await pruneModel(model, { method: 'magnitude', sparsity: 0.98 })).kept).toBe(Math.round(0.02 * total));
  expect([...checkMasks(model).values()].reduce((a, b) => a + b, 0)).toBe(Math.round(0.02 * total));
  model.dispose();
  const other = seeded(() => createModel('vgg11_bn'));
  const r = await pruneModel(other, { method: 'random', sparsity: 0.95, distribution: 'erk', seed: 0 });
  expect(r.kept).toBe(Math.round(0.05 * total));
  expect(Math.max(...r.layers.map((l) => l.density))).toBeLessThanOrEqual(1);
  other.dispose();
});

describe('a layer pruned empty', () => {
  /** A toy model whose conv2 weights are tiny, so magnitude pruning removes all of them. */
  function collapsing() {
    const model = seeded(() => createToyModel());
    noGrad(() => model.conv2.weight.mul_(1e-6));
    return model;
  }

  test('warns through the logger and the report marks it', async () => {
    const model = collapsing();
    const r = await pruneModel(model, { method: 'magnitude', sparsity: 0.8 });
    expect(r.emptyLayers).toEqual(['conv2.weight']);
    expect(r.layers.find((l) => l.name === 'conv2.weight')!.empty).toBe(true);
    const warn = logs.map((l) => JSON.parse(l)).find((l) => l.level === 40);
    expect(warn).toMatchObject({ module: 'pruning', method: 'magnitude', layers: ['conv2.weight'] });
    expect(warn.msg).toBe('pruning left 1 layer(s) without any weight: conv2.weight (layer collapse)');
    const report = maskReport(model, { inputShape: [1, 8, 8] });
    expect(report.emptyLayers).toEqual(['conv2.weight']);
    expect(report.table).toMatch(/^conv2\.weight .*EMPTY \(layer collapse\)$/m);
  });

  test('is an EmptyLayerError under strict, and no mask changes', async () => {
    const model = collapsing();
    let err: unknown;
    try {
      await pruneModel(model, { method: 'magnitude', sparsity: 0.8, strict: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EmptyLayerError);
    expect((err as EmptyLayerError).code).toBe('ERR_INVALID_ARG');
    expect((err as EmptyLayerError).layers).toEqual(['conv2.weight']);
    expect((err as Error).message).toBe('Pruning to sparsity 0.8 would remove every weight of conv2.weight (288 weights); lower the sparsity, '
      + 'keep the layer dense (denseFirst / denseLast), use a layerwise distribution, or pass strict: false to only warn');
    expect([...checkMasks(model).values()]).toEqual([36, 288, 80]);
  });

  test('a layerwise distribution avoids it', async () => {
    const model = collapsing();
    const r = await pruneModel(model, { method: 'magnitude', sparsity: 0.8, distribution: 'erk', strict: true });
    expect(r.emptyLayers).toEqual([]);
  });
});

test('global ties go to the earlier layer, then the lower flat index', async () => {
  const model = seeded(() => createToyModel());
  noGrad(() => { for (const [, l] of maskedLayers(model)) l.weight.fill_(0.5); });
  const r = await pruneModel(model, { method: 'magnitude', sparsity: 0.5 });
  expect(r.layers.map((l) => l.kept)).toEqual([36, 166, 0]);
  const conv2 = model.conv2.mask.toArray();
  expect(conv2.slice(0, 166).every((v) => v === 1)).toBe(true);
  expect(conv2.slice(166).every((v) => v === 0)).toBe(true);
});

describe('iterative pruning', () => {
  test('SynFlow defaults to 100 exponential rounds and is data-free (the model\'s inputShape)', async () => {
    const model = seeded(() => createModel('lenet5'));
    const before = memory().numTensors;
    const r = await pruneModel(model, { method: 'synflow', sparsity: 0.98 });
    // At most: pruneModel yields to the event loop, where GC finalizers may free unreachable tensors of earlier tests.
    expect(memory().numTensors).toBeLessThanOrEqual(before);
    expect(r.schedule).toHaveLength(100);
    expect(r.schedule[0]).toBeCloseTo(0.02 ** 0.01, 12);
    expect(r.schedule[99]).toBeCloseTo(0.02, 15);
    expect(r.kept).toBe(Math.round(0.02 * 61470));
    expect(r.emptyLayers).toEqual([]);
  });

  test('masks only shrink across calls; a lower sparsity than the current one is an error', async () => {
    const model = seeded(() => createModel('lenet5'));
    await pruneModel(model, { method: 'magnitude', sparsity: 0.5 });
    const first = maskedLayers(model).map(([, l]) => l.mask.toArray());
    const r = await pruneModel(model, { method: 'random', sparsity: 0.9, iterations: 3, schedule: 'linear', seed: 1 });
    expect(r.schedule.map((d) => +d.toFixed(10))).toEqual([0.5 - 0.4 / 3, 0.5 - 0.8 / 3, 0.1].map((d) => +d.toFixed(10)));
    const second = maskedLayers(model).map(([, l]) => l.mask.toArray());
    second.forEach((m, i) => m.forEach((v, j) => { if (v === 1) expect(first[i][j]).toBe(1); }));
    await expect(pruneModel(model, { method: 'magnitude', sparsity: 0.5 })).rejects.toThrow(/^Expected number >= 0\.9\d* \(the current masks keep only 6147 of 61470 weights and pruning never regrows\) for sparsity/);
  });

  test('iterative magnitude equals one shot (scores do not change between rounds)', async () => {
    const a = seeded(() => createModel('lenet5'));
    const b = seeded(() => createModel('lenet5'));
    await pruneModel(a, { method: 'magnitude', sparsity: 0.9 });
    await pruneModel(b, { method: 'magnitude', sparsity: 0.9, iterations: 5 });
    expect(maskedLayers(a).map(([, l]) => l.mask.toArray())).toEqual(maskedLayers(b).map(([, l]) => l.mask.toArray()));
  });

  test('random masks are reproducible from a seed', async () => {
    const masks = async (seed: number) => {
      const m = seeded(() => createModel('lenet5'));
      await pruneModel(m, { method: 'random', sparsity: 0.9, distribution: 'erk', seed });
      return maskedLayers(m).map(([, l]) => l.mask.toArray());
    };
    expect(await masks(7)).toEqual(await masks(7));
    expect(await masks(7)).not.toEqual(await masks(8));
  });
});

describe('SynFlow precision', () => {
  /** A toy model scaled so that R overflows float32 (BN in eval mode does not renormalise). */
  function huge() {
    const model = seeded(() => createToyModel());
    noGrad(() => { for (const [, l] of maskedLayers(model)) l.weight.mul_(1e15); });
    return model;
  }

  test("'auto' redoes an overflowing pass in float64: same masks as 'float64', model back in float32", async () => {
    const a = huge();
    const b = huge();
    const values = tidy(() => a.conv1.weight.clone().toArray());
    await pruneModel(a, { method: 'synflow', sparsity: 0.8, iterations: 2, inputShape: [1, 8, 8] });
    await pruneModel(b, { method: 'synflow', sparsity: 0.8, iterations: 2, inputShape: [1, 8, 8], prunerOptions: { dtype: 'float64' } });
    expect(maskedLayers(a).map(([, l]) => l.mask.toArray())).toEqual(maskedLayers(b).map(([, l]) => l.mask.toArray()));
    for (const t of a.parameters()) expect(t.dtype).toBe('float32');
    const after = a.conv1.weight.toArray();
    const mask = a.conv1.mask.toArray();
    after.forEach((v, i) => expect(v).toBe(mask[i] ? values[i] : 0));
    // In float32 alone the pass overflows: refused, with the remedy named, rather than ranking inf/NaN.
    const c = huge();
    await expect(pruneModel(c, { method: 'synflow', sparsity: 0.8, iterations: 2, inputShape: [1, 8, 8], prunerOptions: { dtype: 'float32' } }))
      .rejects.toThrow(/^SynFlow scores overflowed float32 in round 1 of 2 .*pruner option dtype 'float64'/);
  });
});

describe('scoring mode', () => {
  test('scores in eval mode by default and restores every module\'s mode; BN statistics untouched', async () => {
    const model = seeded(() => createToyModel());
    model.train();
    model.bn2.training = false;
    const mean = model.bn1.getBuffer('running_mean')!.toArray();
    await pruneModel(model, { method: 'snip', sparsity: 0.5, data: batchFor([1, 8, 8]) });
    expect(model.training).toBe(true);
    expect(model.bn1.training).toBe(true);
    expect(model.bn2.training).toBe(false);
    expect(model.bn1.getBuffer('running_mean')!.toArray()).toEqual(mean);
  });

  // Scores on batch statistics: reference-procedures.test.ts (GraSP against its authors' train-mode code).
  test.each(['snip', 'grasp', 'synflow'] as const)("%s with mode: 'train' leaves the BN statistics and counters as they were", async (method) => {
    const model = seeded(() => createToyModel());
    const before = new Map([...model.namedBuffers()].map(([n, b]) => [n, b.toArray()]));
    await pruneModel(model, { method, sparsity: 0.5, data: batchFor([1, 8, 8]), mode: 'train', iterations: 2 });
    const changed = [...model.namedBuffers()].filter(([n, b]) => !n.endsWith('weight_mask') && b.toArray().some((v, i) => v !== before.get(n)![i]));
    expect(changed.map(([n]) => n)).toEqual([]);
  });
});

describe('option validation', () => {
  const model = seeded(() => createToyModel());
  const batch = batchFor([1, 8, 8]);

  test('unknown names list the valid ones', async () => {
    // @ts-expect-error the types reject this too; this checks the run-time error
    await expect(pruneModel(model, { method: 'obd', sparsity: 0.5 })).rejects.toThrow(/^Unknown pruner 'obd'; valid names: grasp, magnitude, random, snip, synflow$/);
    // @ts-expect-error the types reject this too; this checks the run-time error
    await expect(pruneModel(model, { method: 'obd', sparsity: 0.5 })).rejects.toThrow(UnknownNameError);
    await expect(pruneModel(model, { method: 'random', sparsity: 0.5, distribution: 'erdos' as 'er' })).rejects.toThrow(/^Unknown distribution 'erdos'; valid names: uniform, er, erk, balanced, pyramidal$/);
  });

  test('unknown enums and keys are rejected, never ignored', async () => {
    await expect(pruneModel(model, { method: 'random', sparsity: 0.5, scope: 'local' as 'global' })).rejects.toThrow(/^Expected one of 'global', 'layerwise' for scope but received 'local' of type string$/);
    await expect(pruneModel(model, { method: 'random', sparsity: 0.5, schedule: 'cubic' as 'linear' })).rejects.toThrow(/^Expected one of 'exponential', 'linear' for schedule but received 'cubic' of type string$/);
    await expect(pruneModel(model, { method: 'random', sparsity: 0.5, scope: 'global', distribution: 'erk' })).rejects.toThrow(/^Expected undefined with scope 'global' \(distributions apply to scope 'layerwise'\) for distribution but received 'erk'/);
    await expect(pruneModel(model, { method: 'random', sparsity: 0.5, sparse: 0.5 } as never)).rejects.toThrow(/^Unknown option 'sparse' in options; valid options: method, sparsity, /);
    // @ts-expect-error the types reject this too; this checks the run-time error
    await expect(pruneModel(model, { method: 'grasp', sparsity: 0.5, data: batch, prunerOptions: { temp: 1 } })).rejects.toThrow(/^Unknown option 'temp' in grasp options; valid options: temperature$/);
    // @ts-expect-error the types reject this too; this checks the run-time error
    await expect(pruneModel(model, { method: 'synflow', sparsity: 0.5, prunerOptions: { dtype: 'float16' } })).rejects.toThrow(/^Expected one of 'auto', 'float32', 'float64' for dtype but received 'float16'/);
    // @ts-expect-error the types reject this too; this checks the run-time error
    await expect(pruneModel(model, { method: 'snip', sparsity: 0.5, prunerOptions: { x: 1 } })).rejects.toThrow(/^Expected no options for snip options/);
  });

  test('sparsity, data and input shape', async () => {
    await expect(pruneModel(model, { method: 'random', sparsity: 1 })).rejects.toThrow(/^Expected number in \[0, 1\) for sparsity but received 1 of type number$/);
    // Every refused value gives the same range, 1 excluded.
    for (const [v, shown] of [[-0.1, '-0.1 of type number'], ['0.5', "'0.5' of type string"], [NaN, 'NaN of type number']] as const) {
      await expect(pruneModel(model, { method: 'random', sparsity: v as number })).rejects.toThrow(`Expected number in [0, 1) for sparsity but received ${shown}`);
    }
    await expect(pruneModel(model, { method: 'snip', sparsity: 0.5 })).rejects.toThrow(/^Expected at least one batch \(snip scores weights on data\) for data but received undefined$/);
    await expect(pruneModel(model, { method: 'snip', sparsity: 0.5, data: [batch, { input: 1 }] as never })).rejects.toThrow(/^Expected \{ input, target \} or \[input, target\] Tensors for data\[1\]/);
    await expect(pruneModel(model, { method: 'synflow', sparsity: 0.5 })).rejects.toThrow(/^Expected the input shape of one example \(SynFlow is data-free and needs it\) for inputShape but received undefined$/);
  });

  test('data as [input, target] pairs or an iterable; SynFlow takes the input shape from the data', async () => {
    const a = seeded(() => createToyModel());
    const b = seeded(() => createToyModel());
    await pruneModel(a, { method: 'snip', sparsity: 0.7, data: [[batch.input, batch.target]] });
    await pruneModel(b, { method: 'snip', sparsity: 0.7, data: (function* gen() { yield batch; }()) });
    expect(maskedLayers(a).map(([, l]) => l.mask.toArray())).toEqual(maskedLayers(b).map(([, l]) => l.mask.toArray()));
    expect((await pruneModel(seeded(() => createToyModel()), { method: 'synflow', sparsity: 0.5, iterations: 2, data: batch })).kept).toBe(202);
  });
});
