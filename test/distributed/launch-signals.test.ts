/**
 * The launcher forwards SIGINT / SIGTERM as torchrun does: each worker leads its own process group
 * and gets the signal once per signal the launcher gets, marked supervised; the launcher waits and
 * exits with the workers' code; a second signal SIGKILLs them. Workers here are small scripts that
 * record what reached them (no addon needed).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';
import { waitFor } from '../helpers/kill-child';

const LAUNCH = path.resolve(__dirname, '..', '..', 'src', 'distributed', 'launch.ts');

/** A worker that reports, on each signal, how many it got, whether it leads its process group and whether it is marked supervised; it exits 143 after `exitAfter` SIGTERMs (never when 0). */
function workerScript(dir: string, exitAfter: number): string {
  return [
    "const fs = require('fs'), path = require('path');",
    `const dir = ${JSON.stringify(dir)}; const rank = process.env.RANK; let n = 0;`,
    "const leader = Number(require('child_process').execSync('ps -o pgid= -p ' + process.pid)) === process.pid;",
    "const report = () => fs.writeFileSync(path.join(dir, 'rank' + rank + '.json'), JSON.stringify({ n, leader, supervised: process.env.SIGNIN_TORCH_SUPERVISED }));",
    "report(); process.on('SIGTERM', () => { n++; report(); if (n === " + exitAfter + ') process.exit(143); });',
    'setInterval(() => {}, 1000);',
  ].join('\n');
}

/** Runs launch() in a child process (the launcher), its workers `node -e <script>`. */
function launcher(dir: string, script: string): ReturnType<typeof spawn> {
  const code = `require(${JSON.stringify(LAUNCH)}).launch({ nproc: 2, command: process.execPath, args: ['-e', ${JSON.stringify(script)}] }).then((r) => { require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'result.json'))}, JSON.stringify(r)); process.exit(r.exitCode); });`;
  return spawn(process.execPath, ['--import', require.resolve('tsx'), '-e', code], { stdio: 'ignore' });
}

const report = (dir: string, rank: number) => JSON.parse(fs.readFileSync(path.join(dir, `rank${rank}.json`), 'utf8')) as { n: number; leader: boolean; supervised: string };

it('SIGTERM to the launcher reaches each worker once; it exits with their 143', async () => {
  const dir = tempDir('signin-launch-signal-');
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
  const dir = tempDir('signin-launch-signal-');
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
