/**
 * isAlive(pid): a running process is alive, a reaped one is not, and a zombie (exited, its parent
 * not reaping it) is not either, although kill(pid, 0) still succeeds on it: the supervisor check
 * of workers, the run lock and the stale temp files all take a zombie for the process it was.
 * ps(1) is the independent witness of each process's state. A supervised process whose supervisor
 * is a zombie stops as on SIGHUP, as when it has gone.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SUPERVISED_ENV, SUPERVISOR_PID_ENV } from '../../src/distributed/launch';
import { isAlive } from '../../src/pid';
import { tmpDir } from '../helpers/data-fixtures';

const psState = (pid: number) => spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGKILL');
});

async function until(cond: () => boolean): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 20_000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A child that prints its first line's pid: `script` runs under sh. */
async function shChild(script: string): Promise<{ child: ChildProcess; pid: number }> {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  await until(() => out.includes('\n'));
  return { child, pid: Number(out.split('\n')[0]) };
}

const linux = fs.existsSync('/proc/self/stat');

(linux ? it : it.skip)('a zombie is not alive; its parent, which does not reap it, is', async () => {
  // sh starts a child that exits at once, then becomes a sleep that never waits for it.
  const { child, pid } = await shChild('sleep 0 & echo $!; exec sleep 60');
  await until(() => psState(pid).startsWith('Z'));
  expect(() => process.kill(pid, 0)).not.toThrow();
  expect(isAlive(pid)).toBe(false);
  expect(isAlive(child.pid!)).toBe(true);
});

(linux ? it : it.skip)("a live process whose name holds ') Z ' is alive", async () => {
  // /proc/<pid>/stat puts the name in parentheses before the state: "<pid> (a) Z (b) S ...".
  const sleep = path.join(tmpDir('signin-pid-'), 'a) Z (b');
  fs.copyFileSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim(), sleep);
  fs.chmodSync(sleep, 0o755);
  const { pid } = await shChild(`'${sleep}' 60 & echo $!; wait`);
  await until(() => fs.readFileSync(`/proc/${pid}/stat`, 'latin1').includes('(a) Z (b)'));
  expect(psState(pid)).toMatch(/^S/);
  expect(isAlive(pid)).toBe(true);
  process.kill(pid, 'SIGKILL');
});

it('a running process is alive; once it has exited and been reaped, it is not', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  started.push(child);
  expect(isAlive(child.pid!)).toBe(true);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  expect(isAlive(child.pid!)).toBe(false);
});

(linux ? it : it.skip)('a supervised process whose supervisor pid is a zombie stops as on SIGHUP; one whose supervisor lives does not', async () => {
  const signals = path.join(__dirname, '..', '..', 'src', 'cli', 'signals.ts');
  const script = `const stop = require(${JSON.stringify(signals)}).stopOnSignals();
stop.signal.addEventListener('abort', () => { console.log('stopped ' + stop.signal.reason); process.exit(129); });
console.log('watching'); setInterval(() => {}, 1000);`;
  const supervised = (supervisor: number) => {
    const child = spawn(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { env: { ...process.env, [SUPERVISED_ENV]: '1', [SUPERVISOR_PID_ENV]: String(supervisor) }, stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(child);
    let out = '';
    child.stdout!.on('data', (d) => { out += String(d); });
    return () => out;
  };
  const { child: parent, pid: zombie } = await shChild('sleep 0 & echo $!; exec sleep 60');
  await until(() => psState(zombie).startsWith('Z'));
  const underZombie = supervised(zombie);
  const underLive = supervised(parent.pid!);
  await until(() => underZombie().includes('stopped'));
  await until(() => underLive().includes('watching'));
  // Three of the once-a-second checks, all passed: it is still watching.
  await new Promise((r) => setTimeout(r, 3000));
  expect([underZombie(), underLive()]).toEqual(['watching\nstopped SIGHUP\n', 'watching\n']);
}, 60_000);
