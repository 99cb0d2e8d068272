import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { acquireRunLock, readLock } from '../../../src/experiments/lock';
import { runPaths } from '../../../src/experiments/paths';
import { appendMetrics, writeFinal } from '../../../src/experiments/runs';
import { liveHolder, runState } from '../../../src/experiments/run-scan';
import { removeDir, tempDir } from './fixtures';

let dir: string;
beforeEach(() => { dir = tempDir('lock'); });
afterEach(() => removeDir(dir));

/** The pid of a process that has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

function writeLock(pid: number, host = os.hostname()): void {
  fs.writeFileSync(runPaths(dir).lock, JSON.stringify({ pid, host, startedAt: '2026-01-01T00:00:00.000Z' }));
}

function lockError(): { code?: string; message: string } {
  try {
    acquireRunLock(dir);
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected ERR_RUN_LOCKED');
}

describe('run directory lock', () => {
  test('one holder at a time; the error names the holder; release frees it', () => {
    const lock = acquireRunLock(dir);
    expect(readLock(dir)).toEqual({ pid: process.pid, host: os.hostname(), startedAt: lock.holder.startedAt });
    const e = lockError();
    expect(e.code).toBe('ERR_RUN_LOCKED');
    expect(e.message).toBe(`Run directory ${dir} is being trained by process ${process.pid} on ${os.hostname()} (since ${lock.holder.startedAt}): wait for it to finish or stop it; ${runPaths(dir).lock} holds the lock`);
    lock.release();
    expect(fs.existsSync(runPaths(dir).lock)).toBe(false);
    acquireRunLock(dir).release();
  });

  test('a lock whose process died is taken over; a live process elsewhere or here is respected', () => {
    writeLock(deadPid());
    const lock = acquireRunLock(dir);
    expect(readLock(dir)?.pid).toBe(process.pid);
    lock.release();
    writeLock(process.ppid);
    expect(lockError().message).toContain(`by process ${process.ppid} on ${os.hostname()}`);
    writeLock(deadPid(), 'another-host');
    expect(lockError().message).toContain('on another-host');
  });

  test("another host's lock, whose process this machine cannot see, says how to free it should that host have crashed", () => {
    writeLock(4242, 'another-host');
    const lock = runPaths(dir).lock;
    expect(lockError().message).toBe(`Run directory ${dir} is being trained by process 4242 on another-host (since 2026-01-01T00:00:00.000Z): wait for it to finish or stop it; `
      + `${lock} holds the lock; this machine cannot tell whether that process still runs: if it does not (another-host crashed or was restarted), remove ${lock}`);
    fs.rmSync(lock);
    acquireRunLock(dir).release();
  });

  test('release leaves a lock that is no longer this process\'s', () => {
    const lock = acquireRunLock(dir);
    writeLock(process.ppid);
    lock.release();
    expect(readLock(dir)?.pid).toBe(process.ppid);
  });
});

describe('runState', () => {
  test('new, running (live holder), failed (dead holder, or started without a lock), finished', () => {
    expect(runState(dir)).toEqual({ state: 'new' });
    const lock = acquireRunLock(dir);
    expect(runState(dir)).toEqual({ state: 'running', holder: lock.holder });
    lock.release();
    appendMetrics(dir, { epoch: 1, step: 5, trainLoss: 1, trainAcc: 0.5, lr: 0.1, epochSeconds: 1 });
    expect(runState(dir)).toEqual({ state: 'failed' });
    const pid = deadPid();
    writeLock(pid);
    expect(runState(dir)).toMatchObject({ state: 'failed', holder: { pid } });
    writeFinal(dir, { epoch: 1, step: 5, testAcc: 0.5 });
    expect(runState(dir)).toEqual({ state: 'finished' });
  });
});

describe('liveHolder: is another process training the run now?', () => {
  test('a live holder other than ownPid on this host; none for a dead holder, no lock or a finished run', () => {
    expect(liveHolder(dir)).toBeUndefined();
    writeLock(deadPid());
    expect(liveHolder(dir)).toBeUndefined();
    writeLock(process.pid);
    expect(liveHolder(dir)).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(liveHolder(dir, process.pid)).toBeUndefined();
    // The same pid on another host is another process (assumed alive: it cannot be asked).
    writeLock(process.pid, 'elsewhere');
    expect(liveHolder(dir, process.pid)).toMatchObject({ pid: process.pid, host: 'elsewhere' });
    writeFinal(dir, { epoch: 1, step: 1, testAcc: 0.5 });
    expect(liveHolder(dir)).toBeUndefined();
  });
});
