import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import pino, { type Logger } from 'pino';
import { MAX_RECORD_BYTES } from '../../../src/bounded-read';
import { acquireRunLock, readLock } from '../../../src/experiments/lock';
import { logger, setLogger } from '../../../src/logger';
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

  (fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('a run.lock that is no regular file (a FIFO, new or old; a folder) is refused, naming it and what to do, and left in place (in a child)', () => {
    const lock = runPaths(dir).lock;
    spawnSync('mkfifo', [lock]);
    const old = tempDir('lock-old');
    fs.mkdirSync(runPaths(old).lock);
    const script = `const fs = require('node:fs');
const { acquireRunLock } = require(${JSON.stringify(require.resolve('../../../src/experiments/lock'))});
const tryLock = (d) => { try { acquireRunLock(d).release(); return 'taken'; } catch (e) { return e.code + ': ' + e.message; } };
const out = [tryLock(${JSON.stringify(dir)})];
fs.utimesSync(${JSON.stringify(lock)}, 0, 0);
out.push(tryLock(${JSON.stringify(dir)}), tryLock(${JSON.stringify(old)}));
process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    const refused = (d: string, kind: string) => `ERR_INVALID_ARG: Expected the lock of run directory ${d} to be a regular file (a trainer's pid and host), but it is ${kind}: ${runPaths(d).lock}; no trainer makes one: remove it and run again`;
    expect(JSON.parse(r.stdout)).toEqual([refused(dir, 'a FIFO (named pipe)'), refused(dir, 'a FIFO (named pipe)'), refused(old, 'a directory')]);
    expect(fs.lstatSync(lock).isFIFO()).toBe(true);
    removeDir(old);
  });

  describe('a regular run.lock with no holder in it', () => {
    // The warnings acquireRunLock logs, as pino's JSON lines.
    let lines: Record<string, unknown>[];
    let before: Logger;
    beforeEach(() => {
      lines = [];
      before = logger();
      setLogger(pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) }));
    });
    afterEach(() => setLogger(before));

    const lock = () => runPaths(dir).lock;
    const age = () => fs.utimesSync(lock(), 0, 0);

    test('over 5 s old (oversized, empty, torn, no pid and host): taken over with a warning naming the file and why', () => {
      const cases: [string, () => void, string | RegExp][] = [
        ['oversized (sparse: no disk)', () => { fs.writeFileSync(lock(), ''); fs.truncateSync(lock(), MAX_RECORD_BYTES + 1); }, `it cannot be read (Expected a config or record file of at most 64 MiB (67108864 bytes), but it is 64 MiB (67108865 bytes): ${lock()})`],
        ['empty', () => fs.writeFileSync(lock(), ''), 'it is empty'],
        ['torn', () => fs.writeFileSync(lock(), '{"pid": 12'), /^it is not JSON \(.+\)$/],
        ['no holder', () => fs.writeFileSync(lock(), '{"host": "h"}'), 'it holds no pid and host'],
      ];
      for (const [what, make, why] of cases) {
        lines = [];
        make();
        age();
        const taken = acquireRunLock(dir);
        expect({ what, holder: readLock(dir) }).toEqual({ what, holder: taken.holder });
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: 40, file: lock() });
        const [start, end] = [`Taking over the lock ${lock()} of run directory ${dir}: `, ', and it is over 5 s old'];
        const msg = String(lines[0].msg);
        expect({ what, start: msg.slice(0, start.length), end: msg.slice(-end.length) }).toEqual({ what, start, end });
        expect({ what, why: msg.slice(start.length, -end.length) }).toEqual({ what, why: typeof why === 'string' ? why : expect.stringMatching(why) });
        taken.release();
      }
    });

    test('one just made (being written) is refused; a live holder is refused; a dead one is taken over: none of them warns', () => {
      fs.writeFileSync(lock(), '');
      expect(lockError()).toEqual(expect.objectContaining({ code: 'ERR_RUN_LOCKED', message: `Run directory ${dir}: another process is taking the lock ${lock()} right now` }));
      writeLock(process.ppid);
      age();
      expect(lockError()).toEqual(expect.objectContaining({ code: 'ERR_RUN_LOCKED' }));
      expect(readLock(dir)?.pid).toBe(process.ppid);
      writeLock(deadPid());
      age();
      acquireRunLock(dir).release();
      expect(lines).toEqual([]);
    });
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
