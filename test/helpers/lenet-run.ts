/**
 * The small training run the data-parallel tests share: LeNet-5 on IDX images in `dir`/data,
 * Random-ERK 80% masks, Sign-In, SGD with momentum and weight decay, batch 32, one thread; its
 * config written to `dir`/config.json for `signin-torch train --config`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, type ExperimentConfig } from '../../src/experiments';
import { fashionImages, writeIdxSet } from './data-fixtures';

/** `images` IDX images (half of them the training set), `epochs` epochs, optionally only the first `maxTrainBatches` batches of each. */
export function lenetSignInRun(dir: string, options: { images: number; epochs: number; maxTrainBatches?: number }): { config: ExperimentConfig; configFile: string } {
  const data = path.join(dir, 'data');
  writeIdxSet(data, fashionImages(options.images), false);
  const config = parseConfig({
    dataset: { name: 'mnist', root: data, augment: false, ...(options.maxTrainBatches === undefined ? {} : { maxTrainBatches: options.maxTrainBatches }) },
    model: { name: 'lenet5' },
    pruning: { method: 'random', sparsity: 0.8, scope: 'layerwise', distribution: 'erk' },
    signin: { enabled: true },
    optimizer: { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 },
    epochs: options.epochs,
    batchSize: 32,
    seed: 7,
    threads: 1,
  });
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  return { config, configFile };
}
