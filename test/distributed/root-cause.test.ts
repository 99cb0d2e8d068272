/**
 * The root cause of a failed launch, as torchrun names it: each worker's error goes to its
 * TORCHELASTIC_ERROR_FILE, and the launcher reports the failure with the earliest time, not the
 * first worker to exit (nor the peers' echo of it). Checked both ways against torch 1.13: our
 * launcher reads the file torch's own @record writes, and torchrun's agent reads ours and prints our
 * message as its "Root Cause". `train --nproc 2` with a dataset rank 1 cannot read: the summary,
 * the exit code and failed.json's rootCause name rank 1's ERR_DATASET, not rank 0's ERR_DISTRIBUTED.
 * A launcher with an error file of its own (under torchrun here) passes its root cause's on.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../src/distributed/free-port';
import { launch, type LaunchResult } from '../../src/distributed/launch';
import { parseConfig, runDirFor } from '../../src/experiments';
import { tmpDir } from '../helpers/data-fixtures';
import { CHILD_ENV, cliArgs } from '../helpers/kill-child';
import { PYTHON, pytorchAvailable } from '../helpers/pytorch';
import { torchrun } from '../helpers/torchrun';
import { RANK1_MESSAGE } from './rank1-fault';

const FIXTURE = path.join(__dirname, 'rank1-fault.ts');
const ERROR_FILE_SRC = path.join(__dirname, '..', '..', 'src', 'distributed', 'error-file.ts');
const ERRORS_SRC = path.join(__dirname, '..', '..', 'src', 'errors.ts');
const LAUNCH_SRC = path.join(__dirname, '..', '..', 'src', 'distributed', 'launch.ts');

const dir = tmpDir('signin-root-cause-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `node` running `code` (TypeScript through tsx) as a launched worker. */
const nodeWorker = (code: string) => ({ command: process.execPath, args: ['--import', require.resolve('tsx'), '-e', code] });

it('the earliest error file is the root cause, not the first worker to exit; its exit code is the launch\'s; the files go with the launch', async () => {
  // Rank 1 records its error, then lingers (ignoring SIGTERM) and exits 3; rank 0 fails after it
  // (once rank 1's marker exists) and exits 4 at once, first.
  const marker = path.join(dir, 'rank1-recorded');
  const seen = path.join(dir, 'error-file-path');
  const code = `
    const fs = require('node:fs');
    const { recordErrorFile } = require(${JSON.stringify(ERROR_FILE_SRC)});
    const { ToolkitError } = require(${JSON.stringify(ERRORS_SRC)});
    fs.writeFileSync(${JSON.stringify(seen)} + process.env.RANK, process.env.TORCHELASTIC_ERROR_FILE);
    if (process.env.RANK === '1') {
      process.on('SIGTERM', () => undefined);
      recordErrorFile(new ToolkitError('ERR_DATASET', 'a bad batch in the shard of rank 1'));
      fs.writeFileSync(${JSON.stringify(marker)}, '');
      setTimeout(() => process.exit(3), 1500);
    } else {
      const wait = setInterval(() => {
        if (!fs.existsSync(${JSON.stringify(marker)})) return;
        clearInterval(wait);
        recordErrorFile(new ToolkitError('ERR_DISTRIBUTED', 'allReduce: connection reset by peer'));
        process.exit(4);
      }, 20);
    }`;
  // The launcher under a supervisor's TORCHELASTIC_ERROR_FILE of its own.
  const outer = path.join(dir, 'launcher-error.json');
  process.env.TORCHELASTIC_ERROR_FILE = outer;
  let r: LaunchResult;
  try {
    r = await launch({ nproc: 2, ...nodeWorker(code), graceMs: 5000 });
  } finally {
    delete process.env.TORCHELASTIC_ERROR_FILE;
  }
  expect(JSON.parse(fs.readFileSync(outer, 'utf8')).message).toMatchObject({ message: 'ERR_DATASET: a bad batch in the shard of rank 1', extraInfo: { code: 'ERR_DATASET' } });
  expect(r.codes).toEqual([4, 3]);
  expect(r.exitCode).toBe(3);
  expect(r.rootCause).toMatchObject({ rank: 1, localRank: 1, exitCode: 3, code: 'ERR_DATASET', message: 'a bad batch in the shard of rank 1' });
  expect(r.otherFailures).toMatchObject([{ rank: 0, exitCode: 4, code: 'ERR_DISTRIBUTED', message: 'allReduce: connection reset by peer' }]);
  const files = [0, 1].map((k) => fs.readFileSync(`${seen}${k}`, 'utf8'));
  expect(new Set(files).size).toBe(2);
  for (const f of files) expect(fs.existsSync(path.dirname(f))).toBe(false);
}, 60_000);

it('a worker killed by SIGKILL (no error file) is the root cause when it failed first; the others, stopped after it, are listed', async () => {
  const r = await launch({ nproc: 2, ...nodeWorker("if (process.env.RANK === '1') process.kill(process.pid, 'SIGKILL'); else setTimeout(() => undefined, 60_000);"), graceMs: 5000 });
  expect(r.exitCode).toBe(137);
  expect(r.rootCause).toMatchObject({ rank: 1, exitCode: 137, message: expect.stringMatching(/^killed by SIGKILL, no error file/) });
  expect(r.otherFailures).toMatchObject([{ rank: 0, exitCode: 143, message: expect.stringMatching(/^killed by SIGTERM/) }]);
}, 60_000);

it("workers that stop in order on a signal (exit 143, no error file) are an interruption: no root cause, also when the launcher's SIGTERM kills one after them; a worker killed by the signal itself is one", async () => {
  // Rank 1 stops once rank 0 handles SIGTERM (at load 5, rank 0 was once killed before it did).
  const ready = JSON.stringify(path.join(dir, 'rank0-handles-sigterm'));
  const stopped = await launch({ nproc: 2, ...nodeWorker(`
    const fs = require('node:fs');
    if (process.env.RANK === '1') setInterval(() => fs.existsSync(${ready}) && process.exit(143), 20);
    else { process.on('SIGTERM', () => process.exit(143)); fs.writeFileSync(${ready}, ''); setTimeout(() => undefined, 60_000); }`), graceMs: 5000 });
  expect(stopped).toEqual({ exitCode: 143, codes: [143, 143] });
  // Rank 0 past its handlers (exiting at the agreed step) when the launcher's SIGTERM comes: still in order.
  const late = await launch({ nproc: 2, ...nodeWorker("if (process.env.RANK === '1') process.exit(143); setTimeout(() => undefined, 60_000);"), graceMs: 5000 });
  expect(late).toEqual({ exitCode: 143, codes: [143, 143] });
  const killed = await launch({ nproc: 2, ...nodeWorker("if (process.env.RANK === '1') process.kill(process.pid, 'SIGTERM'); process.on('SIGTERM', () => process.exit(143)); setTimeout(() => undefined, 60_000);"), graceMs: 5000 });
  expect(killed.rootCause).toMatchObject({ rank: 1, exitCode: 143, message: expect.stringMatching(/^killed by SIGTERM/) });
}, 60_000);

// The two directions of torch 1.13's format: its @record writes, our launcher reads; we write, its agent reads.
function againstTorch(): void {
  it("our launcher reads the error file of torch's own @record: its message is the root cause", async () => {
    const script = [
      'import os, time',
      'from torch.distributed.elastic.multiprocessing.errors import record',
      '@record',
      'def main():',
      "    if os.environ['RANK'] == '1':",
      "        raise ValueError('rank 1 found a bad batch')",
      '    time.sleep(60)',
      'main()',
    ].join('\n');
    const r = await launch({ nproc: 2, command: PYTHON, args: ['-c', script], graceMs: 5000 });
    expect(r.exitCode).toBe(1);
    expect(r.rootCause).toMatchObject({ rank: 1, exitCode: 1, message: 'ValueError: rank 1 found a bad batch' });
    expect(r.rootCause!.code).toBeUndefined();
  }, 60_000);

  it("torchrun reads our worker's error file: its Root Cause is rank 1 with our error line", async () => {
    const runs = path.join(dir, 'torchrun-runs');
    const config = path.join(dir, 'torchrun-config.json');
    fs.writeFileSync(config, JSON.stringify(tinyConfig()));
    const port = await freePort();
    // Rank 1 fails loading the --import module, before it joins; rank 0 gives up joining after 3 s.
    const r = await torchrun(['--master_port', String(port)], [process.execPath, ...cliArgs(['--import', FIXTURE, 'train', '--config', config, '--runs-dir', runs])], {
      env: { RANK1_FAULT_AT_IMPORT: '1', SIGNIN_TORCH_DIST_TIMEOUT_S: '3' },
    });
    expect(r.code).not.toBe(0);
    const root = /Root Cause \(first observed failure\):\n([\s\S]*?)\n=+/.exec(r.stderr)?.[1] ?? r.stderr;
    expect(root).toMatch(/rank {6}: 1 \(local_rank: 1\)/);
    expect(root).toMatch(/exitcode {2}: 1 /);
    expect(root.split('\n').map((l) => l.trim())).toContain(`traceback : ERR_INVALID_ARG: Expected a module that loads for --import but ${FIXTURE} failed: ${RANK1_MESSAGE}`);
  }, 120_000);

  it("torchrun supervising our launcher reads the launcher's error file: its Root Cause is our rank 1's error line", async () => {
    const worker = `
      const { recordErrorFile } = require(${JSON.stringify(ERROR_FILE_SRC)});
      const { ToolkitError } = require(${JSON.stringify(ERRORS_SRC)});
      if (process.env.RANK === '1') {
        recordErrorFile(new ToolkitError('ERR_DATASET', 'a bad batch in the shard of rank 1'));
        process.exit(3);
      }
      setTimeout(() => undefined, 60_000);`;
    const launcher = `
      const { launch } = require(${JSON.stringify(LAUNCH_SRC)});
      launch({ nproc: 2, ...${JSON.stringify(nodeWorker(worker))}, graceMs: 5000 }).then((r) => process.exit(r.exitCode));`;
    const supervised = nodeWorker(launcher);
    const r = await torchrun(['--master_port', String(await freePort())], [supervised.command, ...supervised.args], { nprocPerNode: 1 });
    expect(r.code).not.toBe(0);
    const root = /Root Cause \(first observed failure\):\n([\s\S]*?)\n=+/.exec(r.stderr)?.[1] ?? r.stderr;
    expect(root).toMatch(/exitcode {2}: 3 /);
    expect(root.split('\n').map((l) => l.trim())).toContain('traceback : ERR_DATASET: a bad batch in the shard of rank 1');
  }, 120_000);
}

if (pytorchAvailable()) {
  describe('against torch 1.13', againstTorch);
} else {
  it.skip(`against torch 1.13's error files and torchrun (${PYTHON} cannot import torch)`, () => undefined);
}

function tinyConfig(): Record<string, unknown> {
  return {
    dataset: { name: 'rank1_fault', augment: false }, model: { name: 'lenet5' },
    pruning: { method: 'random', sparsity: 0.5, scope: 'layerwise', distribution: 'erk' }, epochs: 1, batchSize: 16, seed: 1, threads: 1,
  };
}

it('train --nproc 2, rank 1 cannot read its data: the summary, the exit code and failed.json name rank 1, not rank 0\'s echo', () => {
  const runs = path.join(dir, 'nproc-runs');
  const config = path.join(dir, 'nproc-config.json');
  fs.writeFileSync(config, JSON.stringify(tinyConfig()));
  const r = spawnSync(process.execPath, cliArgs(['--import', FIXTURE, 'train', '--config', config, '--runs-dir', runs, '--nproc', '2']), { encoding: 'utf8', env: CHILD_ENV });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^root cause: rank 1 \\(local rank 1, host [^)]+\\) failed first, exit code 1: ERR_DATASET: ${RANK1_MESSAGE}$`, 'm'));
  expect(r.stderr).toMatch(/^ {2}also failed: rank 0 \(local rank 0\), exit code \d+: /m);
  // runDirFor parses the config: the name rank1_fault is registered here by importing RANK1_MESSAGE.
  const failed = JSON.parse(fs.readFileSync(path.join(runDirFor(runs, parseConfig(tinyConfig())), 'failed.json'), 'utf8'));
  expect(failed.rootCause).toMatchObject({ rank: 1, localRank: 1, exitCode: 1, code: 'ERR_DATASET', message: RANK1_MESSAGE });
  const list = spawnSync(process.execPath, cliArgs(['--import', FIXTURE, 'list', 'runs', '--runs-dir', runs, '--json']), { encoding: 'utf8', env: CHILD_ENV });
  expect(JSON.parse(list.stdout)).toMatchObject([{ status: 'failed', reason: expect.stringMatching(new RegExp(`^rank 1 failed first: ERR_DATASET: ${RANK1_MESSAGE}`)) }]);
}, 90_000);
