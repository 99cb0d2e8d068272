/**
 * Steps per epoch before training (src/experiments/steps.ts): the formula gives the runner's train
 * loader's length, the train split is counted without loading it as its loader would count it,
 * and the bounds agree with what training itself refuses.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { setLogger } from '../../../src';
import { ArrayDataset, createDataset, DataLoader, DistributedSampler, registerDataset } from '../../../src/data';
import { createRunDir, parseConfig, type ExperimentConfig } from '../../../src/experiments';
import { trainFromConfig } from '../../../src/experiments/runner';
import { stepIssues, stepsPerEpoch, trainSplitSize } from '../../../src/experiments/steps';
import { sparsifyCallbacksFromConfig } from '../../../src/sparsify';
import { fashionImages, tmpDir, writeCifar10, writeCifar100, writeIdxSet, writeImageFolder } from '../../helpers/data-fixtures';

const dir = tmpDir('steps-');
beforeAll(() => setLogger(pino({ level: 'silent' })));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('stepsPerEpoch is the length of the runner\'s train loader: DistributedSampler shards, local batches, dropLast, maxTrainBatches', () => {
  let cases = 0;
  for (let n = 1; n <= 23; n += 2) {
    const subset = new ArrayDataset({ images: new Uint8Array(n), labels: new Uint8Array(n), width: 1, height: 1, channels: 1, numClasses: 1 });
    for (const worldSize of [1, 2, 3, 4]) {
      for (const local of [1, 2, 3, 5, 8]) {
        for (const dropLast of [false, true]) {
          const sampler = worldSize > 1 ? new DistributedSampler(n, { rank: worldSize - 1, worldSize, shuffle: true, seed: 0, dropLast }) : undefined;
          const loader = new DataLoader(subset, { batchSize: local, shuffle: true, sampler, dropLast });
          const shape = { trainSize: n, batchSize: local * worldSize, worldSize, dropLast };
          expect({ ...shape, steps: stepsPerEpoch(shape) }).toEqual({ ...shape, steps: loader.length });
          expect(stepsPerEpoch({ ...shape, maxTrainBatches: 2 })).toBe(Math.min(loader.length, 2));
          cases++;
        }
      }
    }
  }
  expect(cases).toBe(12 * 4 * 5 * 2);
});

describe('trainSplitSize counts what the loader would load, without loading it', () => {
  const src = fashionImages(30);

  test('MNIST-family IDX files (from the label file), gzipped or not', () => {
    for (const gzip of [false, true]) {
      const root = path.join(dir, `idx-${gzip}`);
      writeIdxSet(root, src, gzip);
      for (const name of ['mnist', 'fashion_mnist']) expect(trainSplitSize(name, root)).toBe(createDataset(name, { root, train: true }).length);
    }
    expect(trainSplitSize('mnist', path.join(dir, 'idx-true'))).toBe(15);
  });

  test('CIFAR binary files (from their sizes)', () => {
    const c10 = path.join(dir, 'cifar10');
    const c100 = path.join(dir, 'cifar100');
    writeCifar10(c10, src, 12, 3);
    writeCifar100(c100, src, 7, 3);
    expect(trainSplitSize('cifar10', c10)).toBe(12);
    expect(trainSplitSize('cifar100', c100)).toBe(7);
    expect(trainSplitSize('cifar10', c10)).toBe(createDataset('cifar10', { root: c10, train: true }).length);
  });

  test('an ImageFolder (imagenet: its train/ files, nested folders too)', async () => {
    const root = path.join(dir, 'imagenet');
    await writeImageFolder(path.join(root, 'train'), src, { classes: ['a', 'b'], perClass: 3, format: 'png', nested: true });
    fs.writeFileSync(path.join(root, 'train', 'a', 'notes.txt'), 'not an image');
    expect(trainSplitSize('imagenet', root)).toBe(6);
  });

  test('a registered dataset has no count short of loading it', () => {
    expect(trainSplitSize('no_such_builtin', undefined)).toBeUndefined();
  });
});

describe('stepIssues bounds what training refuses, at the same values', () => {
  const imp = (rewind: object): ExperimentConfig => parseConfig({
    dataset: { name: 'fashion_mnist', root: dir }, model: { name: 'lenet5' }, epochs: 4, batchSize: 4,
    sparsify: { method: 'imp', sparsity: 0.9, levels: 4, epochsPerLevel: 1, ...rewind },
  });

  test('IMP\'s rewind point: an iteration of level 0, as sparsifyCallbacksFromConfig refuses it', () => {
    // 21 examples in batches of 4: 6 steps per epoch, a level of 1 epoch.
    const trainTime = (config: ExperimentConfig) => {
      try {
        for (const cb of sparsifyCallbacksFromConfig(config, stepsPerEpoch({ trainSize: 21, batchSize: 4, worldSize: 1, dropLast: false }))) (cb as { dispose?(): void }).dispose?.();
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const [rewind, ok] of [[{ rewindIteration: 5 }, true], [{ rewindIteration: 6 }, false], [{ rewindEpoch: 0.9 }, true], [{ rewindEpoch: 0.95 }, false]] as const) {
      const config = imp(rewind);
      expect({ rewind, before: stepIssues(config, 21).length === 0 }).toEqual({ rewind, before: ok });
      expect({ rewind, during: trainTime(config) === 'accepted' }).toEqual({ rewind, during: ok });
    }
    // Two processes: shards of 11, local batches of 2, so 6 steps again.
    expect(stepIssues(imp({ rewindIteration: 5 }), 21, 2)).toEqual([]);
    expect(stepIssues(imp({ rewindIteration: 6 }), 21, 2)).toHaveLength(1);
  });

  test('a registered dataset, which only the runner can count, is refused by it before anything is pruned', async () => {
    const n = 10;
    registerDataset('steps_tiny', () => new ArrayDataset({ images: new Uint8Array(n * 28 * 28), labels: new Uint8Array(n), width: 28, height: 28, channels: 1, numClasses: 10 }));
    const config = parseConfig({
      dataset: { name: 'steps_tiny' }, model: { name: 'lenet5', options: { numClasses: 10, inChannels: 1, inputSize: 28 } }, epochs: 1, batchSize: 5, threads: 1,
      sparsify: { method: 'rigl', sparsity: 0.9 },
    });
    const run = createRunDir(path.join(dir, 'runs'), config).dir;
    await expect(trainFromConfig(config, run)).rejects.toThrow(/sparsify\.stopFraction: Expected a fraction that leaves room for a mask update before T_end = 1, stopFraction 0\.75 of the 2 training steps/);
    expect(fs.readdirSync(run).filter((f) => f.startsWith('checkpoint'))).toEqual([]);
  });
});
