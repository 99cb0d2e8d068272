/**
 * A FIFO in place of a file the toolkit appends to (a run's log.jsonl, metrics.jsonl): open(2) for
 * writing waits for a reader for ever, so the run hung before its first epoch, or after it. Each is
 * refused with ERR_INVALID_ARG naming the file and what it is; a folder is refused the same way.
 * A character device (/dev/null as the log) is still written to as the log, but refused as
 * metrics.jsonl, a record the run reads back when it resumes (fsync on it failed as ERR_IO
 * EINVAL). In a child process, since the failure mode is a hang.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPaths } from '../../../src/experiments/paths';
import { fakeRun, removeDir, tempDir } from './fixtures';

const SRC = path.join(__dirname, '..', '..', '..', 'src');

let root: string;
beforeEach(() => { root = tempDir('fifo-append'); });
afterEach(() => removeDir(root));

/** `body` (with runs.ts and logger.ts required, and `report` to print an outcome) in a child Node: one line per report. */
function inChild(body: string): string[] {
  const script = `const runs = require(${JSON.stringify(path.join(SRC, 'experiments', 'runs.ts'))});
const { runLogger } = require(${JSON.stringify(path.join(SRC, 'logger.ts'))});
const report = (f) => { try { f(); process.stdout.write('ok\\n'); } catch (e) { process.stdout.write(e.code + ': ' + e.message + '\\n'); } };
${body}`;
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'silent' } });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  return r.stdout.trimEnd().split('\n');
}

(fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)("a FIFO or a folder in place of a run's log.jsonl or metrics.jsonl is refused, naming it; a /dev/null log is written, /dev/null or /dev/full metrics are refused", () => {
  const fifoRun = fakeRun(root, { sparsity: 0.5, signin: false, seed: 0 });
  const folderRun = fakeRun(root, { sparsity: 0.5, signin: false, seed: 1 });
  const nullRun = fakeRun(root, { sparsity: 0.5, signin: false, seed: 2 });
  const fifo = runPaths(fifoRun.dir);
  const folder = runPaths(folderRun.dir);
  const devNull = runPaths(nullRun.dir);
  for (const f of [fifo.runLog, fifo.metrics]) {
    fs.rmSync(f, { force: true });
    execFileSync('mkfifo', [f]);
  }
  for (const f of [folder.runLog, folder.metrics]) {
    fs.rmSync(f, { force: true });
    fs.mkdirSync(f);
  }
  fs.symlinkSync('/dev/null', devNull.runLog);
  const fullRun = fakeRun(root, { sparsity: 0.5, signin: false, seed: 3 });
  const devFull = runPaths(fullRun.dir);
  for (const [device, file] of [['/dev/null', devNull.metrics], ['/dev/full', devFull.metrics]]) {
    fs.rmSync(file, { force: true });
    fs.symlinkSync(device, file);
  }
  const row = { epoch: 9, step: 90, trainLoss: 1, trainAcc: 0.5, testLoss: 1, testAcc: 0.5, lr: 0.1, sparsity: 0.5, seconds: 1 };
  const lines = inChild(`${[fifoRun.dir, folderRun.dir].map((dir) => `
report(() => runLogger(${JSON.stringify(runPaths(dir).runLog)}, { run: 'r' }).close());
report(() => runs.appendMetrics(${JSON.stringify(dir)}, ${JSON.stringify(row)}));`).join('')}
report(() => runLogger(${JSON.stringify(devNull.runLog)}, { run: 'r' }).close());
report(() => runs.appendMetrics(${JSON.stringify(nullRun.dir)}, ${JSON.stringify(row)}));
report(() => runs.appendMetrics(${JSON.stringify(fullRun.dir)}, ${JSON.stringify(row)}));`);
  const refused = (file: string, whose: string, what: string) => `ERR_INVALID_ARG: Expected a regular file (${whose}), but it is ${what}: ${file}`;
  expect(lines).toEqual([
    refused(fifo.runLog, "a run's log", 'a FIFO (named pipe)'),
    refused(fifo.metrics, 'a run record', 'a FIFO (named pipe)'),
    refused(folder.runLog, "a run's log", 'a directory'),
    refused(folder.metrics, 'a run record', 'a directory'),
    'ok',
    refused(devNull.metrics, 'a run record', 'a character device'),
    refused(devFull.metrics, 'a run record', 'a character device'),
  ]);
  expect(fs.readlinkSync(devFull.metrics)).toBe('/dev/full');
});
