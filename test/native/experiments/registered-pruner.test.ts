/**
 * A pruner registered by the user can be named in an experiment config: the schema reads the
 * pruner registry when it parses, and the runner's pruning options pass the name through to
 * pruneModel, which builds the registered pruner.
 */
import { safeParseConfig, parseConfig } from '../../../src/experiments';
import { prunerNeedsData } from '../../../src/experiments/prune-data';
import { modelOptionsFor, pruneOptionsFor } from '../../../src/experiments/resolve';
import { createModel } from '../../../src/models';
import { maskedLayers } from '../../../src/nn/masked';
import { pruneModel, registerPruner, type PrunerName } from '../../../src/pruning';
import type { Pruner, ScoreContext } from '../../../src/pruning/base';
import { tensor } from '../../../src/tensor';

/** Scores every weight by its flat position, earliest highest: it keeps each layer's first entries. */
class KeepFirstPruner implements Pruner {
  readonly name = 'keep_first';
  readonly needsData = false;
  readonly defaultIterations = 1;

  score(_model: unknown, ctx: ScoreContext) {
    return new Map(ctx.weights.map((w) => {
      const n = w.weight.numel;
      return [w.name, tensor(Float32Array.from({ length: n }, (_, i) => n - i)).reshape(w.weight.shape)] as const;
    }));
  }
}

const base = { dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, epochs: 1 };

test('a config names a pruner registered after the schema was loaded', async () => {
  const before = safeParseConfig({ ...base, pruning: { method: 'keep_first', sparsity: 0.5 } });
  expect(before.success).toBe(false);
  if (!before.success) expect(before.issues[0]).toMatchObject({ path: 'pruning.method', message: expect.stringMatching(/^Expected one of 'none', 'random', .*'synflow' but received 'keep_first'/) });

  registerPruner('keep_first', () => new KeepFirstPruner());
  const config = parseConfig({ ...base, pruning: { method: 'keep_first', sparsity: 0.5, scope: 'layerwise', distribution: 'uniform' } });
  const prune = pruneOptionsFor(config)!;
  expect(prune.method).toBe('keep_first');

  const model = createModel(config.model.name, modelOptionsFor(config));
  try {
    await pruneModel<PrunerName>(model, prune);
    // Uniform density 0.5 keeps the first half of every layer's entries (every layer here has an even size).
    for (const [name, layer] of maskedLayers(model)) {
      const n = layer.weight.numel;
      const expected = Array.from({ length: n }, (_, i) => (i < n / 2 ? 1 : 0));
      expect({ name, mask: layer.mask.reshape([n]).toArray() }).toEqual({ name, mask: expected });
    }
  } finally {
    model.dispose();
  }
});

test('the runner asks a registered pruner whether it scores on data (its needsData)', () => {
  registerPruner('keep_first_on_data', () => Object.assign(new KeepFirstPruner(), { needsData: true }));
  expect(prunerNeedsData('keep_first_on_data')).toBe(true);
  expect(prunerNeedsData('random')).toBe(false);
  expect(prunerNeedsData('snip')).toBe(true);
  expect(prunerNeedsData('none')).toBe(false);
});
