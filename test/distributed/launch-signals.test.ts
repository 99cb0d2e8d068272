/**
 * The launcher forwards SIGINT / SIGTERM as torchrun does: each worker leads its own process group
 * and gets the signal once per signal the launcher gets, marked supervised; the launcher waits and
 * exits with the workers' code; a second signal SIGKILLs them. Workers here are small scripts that
 * record what reached them (no addon needed).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';
import { waitFor } from '../helpers/kill-child';
import { stopOnSignals } from '../../src/cli/signals';

const LAUNCH = path.resolve(__dirname, '..', '..', 'src', 'distributed', 'launch.ts');

/** A worker that reports, on each signal, how many it got, whether it leads its process group and whether it is marked supervised; it exits 143 after `exitAfter` SIGTERMs (never when 0). */
function workerScript(dir: string, exitAfter: number): string {
  return [
    "const fs = require('fs'), path = require('path');",
    `const dir = ${JSON.stringify(dir)}; const rank = process.env.RANK; let n = 0;`,
    "const leader = Number(require('child_process').execSync('ps -o pgid= -p ' + process.pid)) === process.pid;",
    "const report = () => fs.writeFileSync(path.join(dir, 'rank' + rank + '.json'), JSON.stringify({ n, leader, supervised: process.env.SIGNIN_TORCH_SUPERVISED }));",
    // The handler comes first: the report's file exists once it is opened, and a SIGTERM before the
    // handler would end the worker at once, uncounted.
    "process.on('SIGTERM', () => { n++; report(); if (n === " + exitAfter + ') process.exit(143); }); report();',
    'setInterval(() => {}, 1000);',
  ].join('\n');
}

/** Runs launch() in a child process (the launcher), its workers `node [nodeArgs] -e <script>`. */
function launcher(dir: string, script: string, nodeArgs: string[] = []): ReturnType<typeof spawn> {
  const code = `require(${JSON.stringify(LAUNCH)}).launch({ nproc: 2, command: process.execPath, args: [...${JSON.stringify(nodeArgs)}, '-e', ${JSON.stringify(script)}] }).then((r) => { require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'result.json'))}, JSON.stringify(r)); process.exit(r.exitCode); });`;
  return spawn(process.execPath, ['--import', require.resolve('tsx'), '-e', code], { stdio: 'ignore' });
}

// A test that fails can leave workers behind (their launcher killed before it forwarded anything):
// each worker's command line holds its test's directory.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) spawnSync('pkill', ['-KILL', '-f', d]);
});
const testDir = (): string => {
  const d = tempDir('signin-launch-signal-');
  dirs.push(d);
  return d;
};

const report = (dir: string, rank: number) => JSON.parse(fs.readFileSync(path.join(dir, `rank${rank}.json`), 'utf8')) as { n: number; leader: boolean; supervised: string };

/** What a worker of the SIGKILL tests wrote: its parent at start, the reason it stopped; {} while not written or being rewritten. */
const stopReport = (dir: string, rank: number): { parent?: number; reason?: string } => {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `rank${rank}.json`), 'utf8')) as { parent?: number; reason?: string };
  } catch {
    return {};
  }
};

it('SIGTERM to the launcher reaches each worker once; it exits with their 143', async () => {
  const dir = testDir();
  const child = launcher(dir, workerScript(dir, 1));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => [0, 1].every((k) => fs.existsSync(path.join(dir, `rank${k}.json`))), child, 30_000);
  child.kill('SIGTERM');
  await exited;
  expect(child.exitCode).toBe(143);
  expect([report(dir, 0), report(dir, 1)]).toEqual([{ n: 1, leader: true, supervised: '1' }, { n: 1, leader: true, supervised: '1' }]);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'))).toEqual({ exitCode: 143, codes: [143, 143] });
}, 60_000);

it('a second signal to the launcher SIGKILLs workers that are still stopping', async () => {
  const dir = testDir();
  const child = launcher(dir, workerScript(dir, 0));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => [0, 1].every((k) => fs.existsSync(path.join(dir, `rank${k}.json`))), child, 30_000);
  child.kill('SIGTERM');
  const told = (k: number) => {
    try {
      return report(dir, k).n === 1;
    } catch {
      return false; // being rewritten
    }
  };
  await waitFor(() => told(0) && told(1), child, 10_000);
  const t0 = Date.now();
  child.kill('SIGTERM');
  await exited;
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(child.exitCode).toBe(137);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'))).toEqual({ exitCode: 137, codes: [137, 137] });
}, 60_000);

it('SIGHUP (a closed terminal) reaches each worker as one SIGTERM, as torchrun terminates its workers', async () => {
  const dir = testDir();
  const child = launcher(dir, workerScript(dir, 1));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => [0, 1].every((k) => fs.existsSync(path.join(dir, `rank${k}.json`))), child, 30_000);
  child.kill('SIGHUP');
  await exited;
  expect(child.exitCode).toBe(143);
  expect([report(dir, 0).n, report(dir, 1).n]).toEqual([1, 1]);
}, 60_000);

it('workers in their own process groups stop as on SIGHUP when the launcher is SIGKILLed', async () => {
  const dir = testDir();
  const signals = path.resolve(__dirname, '..', '..', 'src', 'cli', 'signals.ts');
  const script = [
    "const fs = require('fs'), path = require('path');",
    `const out = path.join(${JSON.stringify(dir)}, 'rank' + process.env.RANK + '.json');`,
    `const stop = require(${JSON.stringify(signals)}).stopOnSignals();`,
    "fs.writeFileSync(out, JSON.stringify({ parent: process.ppid }));",
    "stop.signal.addEventListener('abort', () => { fs.writeFileSync(out, JSON.stringify({ reason: stop.signal.reason })); process.exit(129); });",
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = launcher(dir, script, ['--import', require.resolve('tsx')]);
  const read = (k: number) => stopReport(dir, k);
  await waitFor(() => [0, 1].every((k) => read(k).parent === child.pid), child, 30_000);
  child.kill('SIGKILL');
  const t0 = Date.now();
  await waitFor(() => [0, 1].every((k) => read(k).reason !== undefined), child, 10_000); // killed, its exitCode stays null
  expect(Date.now() - t0).toBeLessThan(5000);
  expect([read(0).reason, read(1).reason]).toEqual(['SIGHUP', 'SIGHUP']);
}, 60_000);

it('workers whose launcher is SIGKILLed while they start up, before their handlers are in place, stop as on SIGHUP too', async () => {
  const dir = testDir();
  const signals = path.resolve(__dirname, '..', '..', 'src', 'cli', 'signals.ts');
  // Each worker says it started, then holds its event loop (as loading libtorch does, for seconds)
  // until the test lets it go: only then does it install its handlers, its launcher gone by then.
  const script = [
    "const fs = require('fs'), path = require('path');",
    `const dir = ${JSON.stringify(dir)}; const out = path.join(dir, 'rank' + process.env.RANK + '.json');`,
    `const { stopOnSignals } = require(${JSON.stringify(signals)});`,
    "fs.writeFileSync(path.join(dir, 'started' + process.env.RANK), '');",
    "while (!fs.existsSync(path.join(dir, 'go'))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);",
    'const stop = stopOnSignals();',
    "stop.signal.addEventListener('abort', () => { fs.writeFileSync(out, JSON.stringify({ reason: stop.signal.reason })); process.exit(129); });",
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = launcher(dir, script, ['--import', require.resolve('tsx')]);
  await waitFor(() => [0, 1].every((k) => fs.existsSync(path.join(dir, `started${k}`))), child, 30_000);
  const killed = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await killed;
  fs.writeFileSync(path.join(dir, 'go'), '');
  const read = (k: number) => stopReport(dir, k);
  const t0 = Date.now();
  await waitFor(() => [0, 1].every((k) => read(k).reason !== undefined), child, 10_000); // killed, its exitCode stays null
  expect(Date.now() - t0).toBeLessThan(5000);
  expect([read(0).reason, read(1).reason]).toEqual(['SIGHUP', 'SIGHUP']);
}, 60_000);

it("a supervisor's pid that is no pid is refused by name, before any handler is installed", () => {
  const before = process.listenerCount('SIGTERM');
  expect(() => stopOnSignals({ SIGNIN_TORCH_SUPERVISED: '1', SIGNIN_TORCH_SUPERVISOR_PID: 'launcher' })).toThrow(expect.objectContaining({
    code: 'ERR_INVALID_ARG',
    message: `Expected environment variable SIGNIN_TORCH_SUPERVISOR_PID to be an integer in [1, ${Number.MAX_SAFE_INTEGER}] but it is 'launcher'`,
  }));
  expect(process.listenerCount('SIGTERM')).toBe(before);
});
