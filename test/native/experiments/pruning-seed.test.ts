/**
 * A config's "random" mask is independent of the model's init. The runner seeds the global
 * generator with config.seed, builds the model, then prunes with a private generator; were that
 * generator seeded with config.seed too, it would replay the init's uniform stream and a
 * uniformly initialized first layer would keep exactly its most positive weights.
 */
import { parseConfig } from '../../../src/experiments';
import { modelOptionsFor, pruneOptionsFor } from '../../../src/experiments/resolve';
import { createModel } from '../../../src/models';
import { maskedLayers } from '../../../src/nn/masked';
import { pruneModel, type PrunerName } from '../../../src/pruning';
import { manualSeed } from '../../../src/tensor/runtime';

const flat = (t: { detach(): { contiguous(): { toArray(): unknown } } }): number[] => Array.from(t.detach().contiguous().toArray() as ArrayLike<number>);

describe.each([
  { model: { name: 'lenet5' }, layer: 'conv1' },
  { model: { name: 'mlp', options: { hidden: [24, 12] } }, layer: 'fc1' },
])('Random 95% (ERK) of $model.name as the runner makes it', ({ model: modelConfig, layer }) => {
  test.each([0, 1, 2])(`seed %i: the kept weights of ${layer} at init are of both signs, about half each`, async (seed) => {
    const config = parseConfig({ dataset: { name: 'fashion_mnist' }, model: modelConfig, pruning: { method: 'random', sparsity: 0.95 }, epochs: 1, seed });
    manualSeed(config.seed);
    const model = createModel(config.model.name, modelOptionsFor(config));
    try {
      const first = maskedLayers(model).find(([n]) => n === layer)![1];
      const init = flat(first.weight);
      await pruneModel<PrunerName>(model, pruneOptionsFor(config)!);
      const kept = flat(first.mask).flatMap((m, i) => (m ? [init[i]] : []));
      const positive = kept.filter((v) => v > 0).length / kept.length;
      // Independent of the init, positives are Binomial(k, 1/2): k ≥ 40 here, so 0.25–0.75 fails by chance with p < 0.002.
      expect(kept.length).toBeGreaterThanOrEqual(40);
      expect(positive).toBeGreaterThan(0.25);
      expect(positive).toBeLessThan(0.75);
    } finally {
      model.dispose();
    }
  });
});
