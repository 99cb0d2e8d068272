/**
 * `signin-torch train --nproc 2` through the CLI and the launcher: a pruned Sign-In LeNet trained
 * by 2 ranks with per-rank batch B/2 ends with the checkpoint of 1 process with batch B (float32
 * tolerance: only the order of the gradient sums differs; masks bit-identical), and rank 0 alone
 * writes the run (one directory, one metrics row per epoch, one final.json, its test metrics those of
 * the whole test set, each rank evaluating its share). A 1-process run killed
 * inside its second checkpoint write resumes with 2 ranks to the same end. gradClip with 2 ranks
 * clips the averaged gradient, and RiGL grows by it (the 1-process results); `evaluate --nproc 2`
 * of a checkpoint gives one process's evaluation; with syncBatchNorm a
 * ResNet-20 step in BatchNorm's training mode by 2 ranks is the step of 1 process; a batch the
 * ranks cannot split is refused before they start.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, readFinal, readMetrics, runDirFor } from '../../src/experiments';
import { evaluateRun } from '../../src/experiments/evaluate';
import { checkpointDiff } from '../helpers/checkpoint-diff';
import { tmpDir } from '../helpers/data-fixtures';
import { lenetSignInRun } from '../helpers/lenet-run';
import { CHILD_ENV, cliArgs, killInWrite, runTrain, trainArgs, trainToEnd } from '../helpers/kill-child';

const dir = tmpDir('signin-train-nproc-');
// 256 training images: 8 steps of 32 per epoch
const { config, configFile } = lenetSignInRun(dir, { images: 512, epochs: 2 });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function trainOk(runsDir: string, extra: string[] = []): string {
  trainToEnd(configFile, runsDir, extra);
  return runDirFor(runsDir, config);
}

const single = path.join(dir, 'single');
beforeAll(() => trainOk(single), 60_000);

it('2 ranks with batch 16 each end where 1 process with batch 32 does; rank 0 alone writes the run', () => {
  const runs = path.join(dir, 'two');
  const runDir = trainOk(runs, ['--nproc', '2']);
  expect(fs.readdirSync(runs)).toEqual([path.basename(runDir)]);
  const files = fs.readdirSync(runDir);
  expect(files.filter((f) => f === 'final.json')).toHaveLength(1);
  expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  expect(readMetrics(runDir).map((r) => [r.epoch, r.step])).toEqual([[1, 8], [2, 16]]);
  const ref = readMetrics(runDirFor(single, config));
  // The row's training loss and accuracy are over the global batch, not rank 0's half; its test
  // metrics over the whole test set, of which each rank evaluated its share.
  readMetrics(runDir).forEach((r, i) => {
    expect(Math.abs(r.trainLoss - ref[i].trainLoss)).toBeLessThan(1e-4);
    expect(Math.abs(r.trainAcc - ref[i].trainAcc)).toBeLessThan(1e-9);
    expect(Math.abs(r.testLoss! - ref[i].testLoss!)).toBeLessThan(1e-4);
    expect(Math.abs(r.testAcc! - ref[i].testAcc!)).toBeLessThan(1e-9);
  });
  expect(checkpointDiff(runDirFor(single, config), runDir)).toBeLessThan(1e-5);
}, 60_000);

it("evaluate --nproc 2: each rank evaluates its half of the test set; rank 0 prints the whole set's result, one process's", async () => {
  const runDir = runDirFor(single, config);
  const one = await evaluateRun(runDir);
  // The reference is itself the run's: one process's evaluation gives final.json's test accuracy.
  expect(one.top1).toBe(readFinal(runDir)!.testAcc);
  const r = spawnSync(process.execPath, cliArgs(['evaluate', runDir, '--json', '--nproc', '2']), { encoding: 'utf8', env: CHILD_ENV });
  expect(r.status).toBe(0);
  // One JSON document: rank 1 printed nothing.
  const two = JSON.parse(r.stdout) as typeof one;
  expect({ ...two, loss: 0 }).toEqual({ ...JSON.parse(JSON.stringify(one)), loss: 0, worldSize: 2 });
  expect(Math.abs(two.loss - one.loss)).toBeLessThan(1e-6);
  // A run that is not one is refused once, by the launcher, before any worker starts.
  const bad = spawnSync(process.execPath, cliArgs(['evaluate', path.join(dir, 'nowhere'), '--nproc', '2']), { encoding: 'utf8', env: CHILD_ENV });
  expect(bad.status).toBe(1);
  expect(bad.stderr).toBe(`ERR_INVALID_ARG: Expected a run directory (a folder holding config.json) for runDir but received '${path.join(dir, 'nowhere')}' of type string\n`);
}, 60_000);

it('a 1-process run killed inside its second checkpoint write resumes with 2 ranks to the same end', async () => {
  const runs = path.join(dir, 'resumed');
  await killInWrite(trainArgs(configFile, runs), 'checkpoint.safetensors:2');
  const runDir = trainOk(runs, ['--nproc', '2']);
  expect(readMetrics(runDir).map((r) => r.epoch)).toEqual([1, 2]);
  expect(checkpointDiff(runDirFor(single, config), runDir)).toBeLessThan(1e-5);
}, 60_000);

it('gradClip with 2 ranks clips the global gradient: it ends where 1 process with gradClip does', () => {
  const only = (runs: string) => {
    const dirs = fs.readdirSync(runs);
    expect(dirs).toHaveLength(1);
    return path.join(runs, dirs[0]);
  };
  const clipOne = path.join(dir, 'clip-one');
  const clipTwo = path.join(dir, 'clip-two');
  for (const [runs, extra] of [[clipOne, []], [clipTwo, ['--nproc', '2']]] as const) trainToEnd(configFile, runs, ['--set', 'gradClip=0.1', ...extra]);
  expect(checkpointDiff(only(clipOne), only(clipTwo))).toBeLessThan(1e-5);
  // Clipping changed the run (else the comparison above would not be about clipping).
  expect(checkpointDiff(runDirFor(single, config), only(clipOne))).toBeGreaterThan(1e-3);
}, 120_000);

it('RiGL with 2 ranks grows by the global gradient: the masks and weights of 1 process with the full batch', () => {
  const rigl = parseConfig({ ...config, pruning: { method: 'none' }, sparsify: { method: 'rigl', sparsity: 0.8, deltaT: 3 } });
  const file = path.join(dir, 'rigl.json');
  fs.writeFileSync(file, JSON.stringify(rigl));
  const [one, two] = [path.join(dir, 'rigl-one'), path.join(dir, 'rigl-two')];
  for (const [runs, extra] of [[one, []], [two, ['--nproc', '2']]] as const) trainToEnd(file, runs, [...extra]);
  expect(checkpointDiff(runDirFor(one, rigl), runDirFor(two, rigl))).toBeLessThan(1e-5);
  // Updates at steps 3, 6 and 9 of 16 (stopFraction 0.75) regrew weights on both runs alike.
  const events = (runDir: string) => readMetrics(runDir).flatMap((r) => (r.maskChanges as { events: { step: number; changed: number }[] }).events);
  expect(events(runDirFor(two, rigl))).toEqual(events(runDirFor(one, rigl)));
  expect(events(runDirFor(one, rigl)).map((e) => [e.step, e.changed > 0])).toEqual([[3, true], [6, true], [9, true]]);
}, 120_000);

it('syncBatchNorm: a ResNet-20 step by 2 ranks (BatchNorm in training mode) is the step of 1 process; without it, not', () => {
  // One step, NCHW: ResNet-20's gradients at init are ill-conditioned (float32's are ~1e-3 off
  // float64's in the first stage), so training amplifies rounding (1 vs 2 threads of one process:
  // 4e-5 apart after 2 steps, 0.1 in a running variance after 8); libtorch's float32 channels_last
  // BatchNorm rounds differently from its NCHW one. One step moves a weight by lr · 1e-3 · |g|.
  const bn = parseConfig({ ...config, dataset: { ...config.dataset, maxTrainBatches: 1 }, model: { name: 'cifar_resnet_20' }, epochs: 1, syncBatchNorm: true, channelsLast: false });
  const local = parseConfig({ ...bn, syncBatchNorm: false });
  const runs: Record<string, string> = {};
  for (const [name, cfg, extra] of [['one', bn, []], ['two', bn, ['--nproc', '2']], ['local', local, ['--nproc', '2']]] as const) {
    const file = path.join(dir, `syncbn-${name}.json`);
    fs.writeFileSync(file, JSON.stringify(cfg));
    trainToEnd(file, path.join(dir, `syncbn-${name}`), [...extra]);
    runs[name] = runDirFor(path.join(dir, `syncbn-${name}`), cfg);
  }
  expect(checkpointDiff(runs.one, runs.two)).toBeLessThan(1e-4);
  // Per-rank statistics (PyTorch DDP's default) give another step: the comparison can fail.
  expect(checkpointDiff(runs.one, runs.local)).toBeGreaterThan(1e-3);
}, 120_000);

it('a global batch the world size does not divide is refused before any worker starts, naming the flags', () => {
  const runs = path.join(dir, 'refused');
  const odd = runTrain(configFile, runs, ['--nproc', '2', '--batch-size', '33']);
  expect({ status: odd.status, stderr: odd.stderr }).toEqual({
    status: 1,
    stderr: 'ERR_CONFIG: Invalid --batch-size for --nproc 2: batchSize: the global batch 33 must be a multiple of the world size 2: pass a --batch-size that 2 divides, or another --nproc\n',
  });
  expect(fs.existsSync(runs)).toBe(false);
}, 60_000);
