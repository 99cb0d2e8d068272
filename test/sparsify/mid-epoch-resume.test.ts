/**
 * Dynamic sparse training resumed in the middle of an epoch (a checkpoint of
 * `checkpoint.everySteps`, the run SIGKILLed later in that epoch): RiGL with Sign-In, SET (random
 * growth) and GMP end with the weights, masks and optimizer state of the uninterrupted run, byte
 * for byte (CPU, 1 thread), and the same metrics rows (their mask-change events included) but for
 * their timings. Their updates fall before and after the checkpoint's step in that epoch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, readMetrics, runDirFor, runPaths, type ExperimentConfigInput } from '../../src/experiments';
import { expectSameRun } from '../helpers/checkpoint-diff';
import { readCheckpointInfo } from '../../src/train/checkpoint';
import { fashionImages, tmpDir, writeIdxSet } from '../helpers/data-fixtures';
import { killInWrite, trainArgs, trainToEnd } from '../helpers/kill-child';

const dir = tmpDir('signin-sparsify-mid-');
const data = path.join(dir, 'data');
writeIdxSet(data, fashionImages(2560), false); // 1280 training images: 40 steps of 32 per epoch
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it.each([
  ['RiGL + Sign-In', { sparsify: { method: 'rigl', sparsity: 0.8, deltaT: 7 }, signin: { enabled: true } }],
  ['SET', { sparsify: { method: 'set', sparsity: 0.8, deltaT: 7 } }],
  ['GMP', { sparsify: { method: 'gmp', sparsity: 0.8, startEpoch: 0, endEpoch: 2, frequency: 5 } }],
] as const)('%s', async (name, method) => {
  const config = parseConfig({ dataset: { name: 'mnist', root: data, augment: false }, model: { name: 'lenet5' }, ...method, epochs: 3, batchSize: 32, seed: 1, threads: 1 } as ExperimentConfigInput);
  const slug = name.replace(/\W+/g, '-');
  const file = path.join(dir, `${slug}.json`);
  fs.writeFileSync(file, JSON.stringify(config));
  const withEvery = path.join(dir, `${slug}-every.json`);
  fs.writeFileSync(withEvery, JSON.stringify({ ...config, checkpoint: { everySteps: 30 } }));
  const straight = path.join(dir, `${slug}-straight`);
  const resumed = path.join(dir, `${slug}-resumed`);
  trainToEnd(file, straight);
  // Writes: step 30, epoch 1's end (40), step 60; killed inside the step-90 one.
  await killInWrite(trainArgs(withEvery, resumed), 'checkpoint.safetensors:4');
  const runDir = runDirFor(resumed, config);
  expect(readCheckpointInfo(runPaths(runDir).checkpoint).position).toEqual({ epoch: 1, step: 60, batch: 20 });
  trainToEnd(withEvery, resumed);

  expectSameRun(runDir, runDirFor(straight, config));
  expect(readMetrics(runDir).map((r) => r.epoch)).toEqual([1, 2, 3]);
}, 200_000);
