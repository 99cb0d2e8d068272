/**
 * A FIFO (named pipe) put in place of a run record: open(2) on one waits for a writer for ever, so
 * `list runs`, `report` and `train` hung. Run records are opened without blocking and anything
 * but a regular file is refused, naming the file: the run lists as corrupt or failed with that
 * reason. The commands run in a child process, since the failure mode is a hang.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPaths } from '../../../src/experiments/paths';
import { fakeRun, removeDir, tempDir } from './fixtures';

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli.ts');
const fifoError = (file: string) => `Expected a regular file (a run record), but it is a FIFO (named pipe): ${file}`;

let root: string;
beforeEach(() => { root = tempDir('fifo'); });
afterEach(() => removeDir(root));

function fifo(file: string): void {
  fs.rmSync(file, { force: true });
  execFileSync('mkfifo', [file]);
}

/** The CLI's commands run in one child process (no trainer: `train` stops before training). */
function cliInChild(commands: string[][]): { code: number; out: string; err: string }[] {
  const script = `const { runCli } = require(${JSON.stringify(CLI)});
const noTrainer = { loadTrainer: () => ({ trainFromConfig: async () => { throw new Error('not to be trained'); } }) };
(async () => {
  const results = [];
  for (const args of ${JSON.stringify(commands)}) {
    let out = '', err = '';
    const code = await runCli(['node', 'signin-torch', ...args], { out: (t) => { out += t; }, err: (t) => { err += t; } }, noTrainer);
    results.push({ code, out, err });
  }
  process.stdout.write(JSON.stringify(results));
})();`;
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  return JSON.parse(r.stdout) as { code: number; out: string; err: string }[];
}

(fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('list runs, report (--save-records too) and train refuse a FIFO record instead of hanging', () => {
  const config = fakeRun(root, { sparsity: 0.5, signin: false, seed: 0 });
  const metrics = fakeRun(root, { sparsity: 0.5, signin: false, seed: 1 });
  const final = fakeRun(root, { sparsity: 0.5, signin: false, seed: 2, final: 0.8 });
  const failed = fakeRun(root, { sparsity: 0.5, signin: false, seed: 3 });
  const interrupted = fakeRun(root, { sparsity: 0.5, signin: false, seed: 4 });
  const transfer = fakeRun(root, { sparsity: 0.5, signin: false, seed: 5, final: 0.7 });
  const configFile = path.join(root, 'given.json');
  fs.copyFileSync(runPaths(config.dir).config, configFile);
  fifo(runPaths(config.dir).config);
  fifo(runPaths(metrics.dir).metrics);
  fifo(runPaths(final.dir).final);
  fifo(runPaths(failed.dir).failed);
  fifo(runPaths(interrupted.dir).interrupted);
  fifo(runPaths(interrupted.dir).lock);
  fifo(runPaths(transfer.dir).transfer);
  const out = path.join(root, 'report');
  const [list, report, saved, train] = cliInChild([
    ['list', 'runs', '--runs-dir', root, '--json'],
    ['report', '--runs-dir', root, '--out', out, '--no-plots'],
    ['report', '--runs-dir', root, '--out', out, '--no-plots', '--save-records'],
    ['train', '--config', configFile, '--runs-dir', root],
  ]);

  const name = (d: string) => path.basename(d);
  const corrupt = (dir: string, file: string) => ({ run: name(dir), status: 'corrupt', problems: [`${file} cannot be read (${fifoError(path.join(dir, file))})`] });
  expect(list.code).toBe(0);
  const rows = JSON.parse(list.out) as { run: string; status: string; reason?: string; problems?: string[] }[];
  const byRun = Object.fromEntries(rows.map((r) => [r.run, r]));
  expect(byRun[name(config.dir)]).toEqual(corrupt(config.dir, 'config.json'));
  expect(byRun[name(metrics.dir)]).toEqual(corrupt(metrics.dir, 'metrics.jsonl'));
  expect(byRun[name(final.dir)]).toEqual(corrupt(final.dir, 'final.json'));
  expect(byRun[name(failed.dir)]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^failed\.json does not read \(Expected a regular file \(a run record\), but it is a FIFO \(named pipe\): /) });
  // interrupted.json is only looked for (runState); a run.lock that does not read is no holder.
  expect(byRun[name(interrupted.dir)]).toMatchObject({ status: 'interrupted' });
  expect(byRun[name(transfer.dir)]).toMatchObject({ status: 'finished' });

  expect(report.code).toBe(0);
  expect(report.err).toContain(`corrupt run ${config.dir}: config.json cannot be read (${fifoError(runPaths(config.dir).config)})\n`);
  expect(report.out).toContain('70.00');
  // Its copy of the records refuses the FIFO transfer.json of the finished run.
  expect(saved).toMatchObject({ code: 1, err: `ERR_INVALID_ARG: ${fifoError(runPaths(transfer.dir).transfer)}\n` });

  expect(train.code).toBe(1);
  expect(train.err).toContain(`ERR_CONFIG: Run directory ${config.dir} is damaged`);
  expect(train.err).toContain(fifoError(runPaths(config.dir).config));
});
