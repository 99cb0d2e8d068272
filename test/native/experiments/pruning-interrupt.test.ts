/**
 * SIGINT / SIGTERM while pruning at initialization (SynFlow's 100 rounds on a ResNet-20), sent to
 * the CLI in a child process as a user sends it: `train` stops at the next round with one line,
 * exit 130, nothing written but the run's interrupted.json (the run lists as interrupted), and the
 * same command then prunes again and trains to the byte-identical end of an uninterrupted run, the
 * reference (masks, weights, momentum, metrics; 1 thread). `prune` stops the same way, exit 143,
 * and `sweep` says that the run it stopped starts over (it was not checkpointed).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, runDirFor, runPaths, runState } from '../../../src/experiments';
import { expectSameRun } from '../../helpers/checkpoint-diff';
import { cli } from '../../helpers/cli';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';
import { CHILD_ENV, cliArgs, trainArgs, trainToEnd, waitFor } from '../../helpers/kill-child';

const dir = tmpDir('signin-prune-interrupt-');
const data = path.join(dir, 'data');
writeIdxSet(data, fashionImages(128), false);
const ROUNDS = 100;

const config = parseConfig({
  dataset: { name: 'mnist', root: data, augment: false, maxTrainBatches: 2 },
  model: { name: 'cifar_resnet_20' },
  pruning: { method: 'synflow', sparsity: 0.9 },
  epochs: 1,
  batchSize: 16,
  seed: 4,
  threads: 1,
});
const file = path.join(dir, 'synflow.json');
fs.writeFileSync(file, JSON.stringify(config));

interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** From the signal to the process's exit. */
  ms: number;
}

/** Runs `node <args>` and sends `signal` once a stderr line matches `when`. */
async function signalWhen(args: string[], when: RegExp, signal: NodeJS.Signals): Promise<Stopped> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...CHILD_ENV, SIGNIN_TORCH_LOG_LEVEL: 'info' } });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => when.test(stderr), child, 120_000);
  const t0 = Date.now();
  child.kill(signal);
  await exited;
  return { code: child.exitCode, signal: child.signalCode, stderr, ms: Date.now() - t0 };
}

/** stderr less the JSON log lines. */
const plainLines = (stderr: string) => stderr.split('\n').filter((l) => !l.startsWith('{'));

let straight = '';
beforeAll(() => {
  const runs = path.join(dir, 'straight');
  trainToEnd(file, runs);
  straight = runDirFor(runs, config);
}, 300_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('train: SIGINT in SynFlow\'s rounds stops at the next round, one line, exit 130, run interrupted; the same command reaches the uninterrupted end', async () => {
  const runs = path.join(dir, 'stopped');
  const runDir = runDirFor(runs, config);
  const p = runPaths(runDir);
  const r = await signalWhen(trainArgs(file, runs), /"msg":"pruning: 20\/100 rounds"/, 'SIGINT');
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 130, signal: null });
  expect(r.ms).toBeLessThan(5000);
  const lines = plainLines(r.stderr);
  expect(lines[0].startsWith('training ') && lines[0].endsWith(` in ${runDir}`)).toBe(true); // the CLI's opening line
  const m = /^Pruning \(synflow\) interrupted by SIGINT after round (\d+) of 100; no mask or checkpoint saved, nothing to resume from: run the same command again to start over$/.exec(lines[1]);
  expect(m).not.toBeNull();
  expect(lines.slice(2)).toEqual(['']);
  const round = Number(m![1]);
  expect(round).toBeGreaterThanOrEqual(20);
  expect(round).toBeLessThan(ROUNDS);

  expect(JSON.parse(fs.readFileSync(p.interrupted, 'utf8'))).toEqual({ epoch: 0, step: 0, reason: 'SIGINT', pruning: { round, rounds: ROUNDS } });
  for (const f of [p.checkpoint, p.checkpointPrev, p.metrics, p.final, p.lock]) expect({ f, exists: fs.existsSync(f) }).toEqual({ f, exists: false });
  expect(runState(runDir).state).toBe('interrupted');
  const listed = await cli(['list', 'runs', '--runs-dir', runs, '--json']);
  expect(JSON.parse(listed.out)).toMatchObject([{ run: path.basename(runDir), status: 'interrupted', epochs: 0 }]);

  trainToEnd(file, runs);
  expectSameRun(runDir, straight);
  expect(runState(runDir).state).toBe('finished');
  expect(fs.existsSync(p.interrupted)).toBe(false);
}, 300_000);

it('prune: SIGTERM between rounds ends with the one line and exit 143', async () => {
  const r = await signalWhen(cliArgs(['prune', '--model', 'cifar_resnet_20', '--pruner', 'synflow', '--sparsity', '0.9']), /prune: synflow round \d+\/100/, 'SIGTERM');
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 143, signal: null });
  expect(r.ms).toBeLessThan(5000);
  const lines = plainLines(r.stderr).filter((l) => l !== '' && !l.startsWith('prune: '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^Pruning \(synflow\) interrupted by SIGTERM after round \d+ of 100; no mask or checkpoint saved, nothing to resume from: run the same command again to start over$/);
}, 120_000);

it('sweep: SIGINT while its run prunes says the run starts over, not that it was checkpointed; exit 130', async () => {
  const grid = path.join(dir, 'grid.json');
  fs.writeFileSync(grid, JSON.stringify({ base: config }));
  const runs = path.join(dir, 'sweep');
  const r = await signalWhen(cliArgs(['sweep', '--grid', grid, '--runs-dir', runs]), /"msg":"pruning: 20\/100 rounds"/, 'SIGINT');
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 130, signal: null });
  const name = path.basename(runDirFor(runs, config));
  const lines = plainLines(r.stderr).filter((l) => l !== '');
  expect(lines).toContain(`[1/1] interrupted ${name}: stopped while pruning, nothing saved: it starts over when the sweep runs again`);
  expect(lines[lines.length - 1]).toBe('sweep: 0 done, 0 skipped, 0 failed, 1 interrupted by SIGINT (run the same command again to resume) of 1');
}, 120_000);
