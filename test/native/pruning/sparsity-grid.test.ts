/**
 * Exact sparsity over a grid: models (toy, lenet5, cifar_resnet_20, a small VGG) × targets × every
 * pruner × scopes and distributions. The achieved global sparsity equals the target to within one
 * weight (exactly round((1 − s)·N) weights are kept), masks are 0/1, weights outside them are
 * exactly zero, no layer is above 100% dense, and layerwise counts follow the distribution.
 *
 * SynFlow runs 3 rounds here to keep the grid affordable; its default 100 rounds is tested in
 * pruners.test.ts.
 */
import { layerDensities, maskedLayers, memory, pruneModel, prunerNames, type DistributionName } from '../../../src';
import { GRID_MODELS, batchFor, captureLogs, checkMasks, seeded } from './fixtures';

const TARGETS = [0.5, 0.8, 0.9, 0.95, 0.98];
const PRUNERS = ['random', 'magnitude', 'snip', 'grasp', 'synflow'];
const SCOPES: { label: string; scope: 'global' | 'layerwise'; distribution?: DistributionName }[] = [
  { label: 'global', scope: 'global' },
  ...(['uniform', 'er', 'erk', 'balanced', 'pyramidal'] as const).map((distribution) => ({
    label: `layerwise ${distribution}`, scope: 'layerwise' as const, distribution,
  })),
];

beforeAll(() => { captureLogs(); });

test('the registry holds every pruner of the grid', () => {
  expect(prunerNames()).toEqual([...PRUNERS].sort());
});

describe.each(GRID_MODELS)('$name', ({ create, inputShape }) => {
  const batch = batchFor(inputShape);

  describe.each(PRUNERS)('%s', (method) => {
    test.each(SCOPES)('$label: every target exact to within one weight', async ({ scope, distribution }) => {
      for (const sparsity of TARGETS) {
        const model = seeded(create);
        const before = memory().numTensors;
        const result = await pruneModel(model, {
          method, sparsity, scope, distribution, data: batch, inputShape, seed: 3, iterations: method === 'synflow' ? 3 : undefined,
        });
        expect(memory().numTensors).toBe(before);
        const counts = checkMasks(model);
        const total = [...maskedLayers(model)].reduce((s, [, l]) => s + l.weight.numel, 0);
        const kept = [...counts.values()].reduce((a, b) => a + b, 0);
        expect(Math.abs(kept - (1 - sparsity) * total)).toBeLessThanOrEqual(1);
        expect(kept).toBe(Math.round((1 - sparsity) * total));
        expect(Math.abs(result.sparsity - sparsity) * total).toBeLessThanOrEqual(1);
        expect(result.kept).toBe(kept);
        expect(result.total).toBe(total);
        for (const l of result.layers) {
          expect(l.kept).toBe(counts.get(l.name));
          expect(l.density).toBeLessThanOrEqual(1);
        }
        if (distribution) {
          // Counts follow the distribution at the final density (largest remainders: within one weight).
          const layers = result.layers.map((l) => ({ name: l.name, shape: maskedLayers(model).find(([n]) => `${n}.weight` === l.name)![1].weight.shape }));
          const d = layerDensities(distribution, layers, 1 - sparsity);
          result.layers.forEach((l, i) => expect(Math.abs(l.kept - d[i] * l.total)).toBeLessThanOrEqual(1 + 1e-6));
        }
        model.dispose();
      }
    });
  });
});
