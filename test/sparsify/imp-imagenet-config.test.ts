/**
 * examples/configs/sparsify/imagenet-resnet50-imp.json: OpenLTH's ImageNet ResNet-50 recipe as
 * IMP levels at the paper's sparsities. The level counts are checked against OpenLTH's 20% per
 * level (1 + round(ln(1 − s) / ln 0.8)), the last level's sparsity against the closed form, and
 * the pruned layers against OpenLTH's default (global, every conv and linear).
 */
import * as path from 'node:path';
import { loadSweepFile, sparsifyCallbacksFromConfig, type ImpLevels } from '../../src';

test('imagenet-resnet50-imp.json: IMP ± Sign-In at 80/90/95%, levels of 90 epochs, the last level at the sparsity', () => {
  const { runs } = loadSweepFile(path.join(__dirname, '../../examples/configs/sparsify/imagenet-resnet50-imp.json'));
  expect(runs).toHaveLength(6);
  const seen: string[] = [];
  for (const { config } of runs) {
    const s = config.sparsify!.sparsity;
    const imp = sparsifyCallbacksFromConfig(config, 5005)[0] as ImpLevels;
    expect(config.sparsify!.method).toBe('imp');
    expect(imp.levels).toBe(1 + Math.round(Math.log(1 - s) / Math.log(0.8)));
    expect(imp.epochsPerLevel).toBe(90);
    expect(imp.levels * imp.epochsPerLevel).toBe(config.epochs);
    expect(1 - (1 - imp.pruneFraction) ** (imp.levels - 1)).toBeCloseTo(s, 12);
    expect(imp.pruneFraction).toBeGreaterThan(0.2);
    expect(imp.pruneFraction).toBeLessThan(0.21);
    // OpenLTH's imagenet_resnet default_hparams: sparse_global, no pruning_layers_to_ignore.
    expect([imp.scope, imp.dense]).toEqual(['global', { denseFirst: false, denseLast: false, denseLayers: [] }]);
    expect(config.schedule).toMatchObject({ name: 'step', milestones: [30, 60, 80], gamma: 0.1, warmupEpochs: 5 });
    expect(config.optimizer.lr * 1024 / config.batchSize).toBeCloseTo(0.4, 12);
    seen.push(`${s} ${config.signin.enabled}`);
  }
  expect(seen.sort()).toEqual(['0.8 false', '0.8 true', '0.9 false', '0.9 true', '0.95 false', '0.95 true']);
});
