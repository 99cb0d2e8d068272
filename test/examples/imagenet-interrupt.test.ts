/**
 * Ctrl-C to examples/imagenet/train-resnet50.ts (a child process, as a user runs it) on a tiny
 * generated ImageFolder (4 classes, 12 + 4 JPEGs each, 80×64; ResNet-50 at 32 px, Random-ERK 90%,
 * one epoch of 5 steps of 8, 1 thread, 1 loader worker): SIGINT once the run logs that it pruned
 * stops it in the middle of the epoch with a checkpoint, one line, exit 130; the same command then
 * resumes there and ends byte-identical (weights, masks, momentum, metrics but their timings) to
 * the same run never stopped, the reference.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPaths, runState } from '../../src/experiments';
import { readCheckpointInfo } from '../../src/train/checkpoint';
import { expectSameRun } from '../helpers/checkpoint-diff';
import { fashionImages, tmpDir, writeImageFolder } from '../helpers/data-fixtures';
import { waitFor } from '../helpers/kill-child';

const REPO = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'imagenet', 'train-resnet50.ts');
const TSX = require.resolve('tsx');
const CLASSES = ['n01440764', 'n01443537', 'n01484850', 'n01491361'];
const STEPS = 5;

const dir = tmpDir('signin-imagenet-interrupt-');
const root = path.join(dir, 'imagenet');
const args = (runsDir: string) => [
  EXAMPLE, root, '--pruner', 'random', '--sparsity', '0.9', '--epochs', '1', '--batch-size', '8', '--image-size', '32',
  '--max-steps-per-epoch', String(STEPS), '--workers', '1', '--threads', '1', '--device', 'cpu', '--runs-dir', runsDir,
];
const env = (level: string) => ({ ...process.env, SIGNIN_TORCH_LOG_LEVEL: level });

/** Runs the example to its end; returns its run directory. */
function runToEnd(runsDir: string, expect: 'new' | 'resuming'): string {
  const r = spawnSync(process.execPath, ['--import', TSX, ...args(runsDir)], { cwd: REPO, encoding: 'utf8', env: env('warn'), timeout: 240_000 });
  if (r.status !== 0) throw new Error(`example failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const m = new RegExp(`^run directory: (.+) \\(${expect}\\)$`, 'm').exec(r.stdout);
  if (!m) throw new Error(`no '(${expect})' run directory line:\n${r.stdout}`);
  return m[1];
}

let straight = '';
beforeAll(async () => {
  const src = fashionImages(64);
  await writeImageFolder(path.join(root, 'train'), src, { classes: CLASSES, perClass: 12, format: 'jpeg', width: 80, height: 64 });
  await writeImageFolder(path.join(root, 'val'), src, { classes: CLASSES, perClass: 4, format: 'jpeg', width: 80, height: 64 });
  straight = runToEnd(path.join(dir, 'straight'), 'new');
}, 240_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('SIGINT in the epoch: a checkpoint at that step, one line, exit 130; the same command resumes to the uninterrupted end', async () => {
  const runsDir = path.join(dir, 'stopped');
  const child = spawn(process.execPath, ['--import', TSX, ...args(runsDir)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: env('info') });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += String(d); });
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // The model is pruned and built: the next thing the run does is train.
  await waitFor(() => /"msg":"pruned at initialization"/.test(stderr), child, 120_000);
  child.kill('SIGINT');
  await exited;
  if (child.exitCode !== 130) throw new Error(`exit ${child.exitCode} (${child.signalCode}):\n${stdout}\n${stderr}`);

  const runDir = /^run directory: (.+) \(new\)$/m.exec(stdout)![1];
  const p = runPaths(runDir);
  const { position } = readCheckpointInfo(p.checkpoint);
  expect(position.epoch).toBe(0);
  expect(position.batch).toBeGreaterThan(0);
  expect(position.batch).toBeLessThan(STEPS);
  expect(position.step).toBe(position.batch);
  expect(stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'))).toEqual([
    `Training interrupted by SIGINT in epoch 1 after ${position.batch} of its ${STEPS} steps (step ${position.step}); checkpoint ${p.checkpoint}: run the same command again to resume`,
  ]);
  expect(stdout).not.toMatch(/top-1/);
  expect(runState(runDir).state).toBe('interrupted');
  expect(fs.existsSync(p.final)).toBe(false);

  expect(runToEnd(runsDir, 'resuming')).toBe(runDir);
  expectSameRun(runDir, straight);
}, 240_000);
