/**
 * One trainer per run directory: `run.lock` holds the pid and host of the process training it.
 * A second trainer gets ERR_RUN_LOCKED naming the holder; a lock whose process died (a kill, a
 * crash) is taken over. The lock also tells a running run from a crashed one (runState).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { kindOf, readRecordBounded } from '../bounded-read';
import { ToolkitError } from '../errors';
import { logger } from '../logger';
import { isAlive } from '../pid';
import { obj } from '../validate';
import { runPaths } from './paths';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export interface RunLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock if it is still this process's. */
  release(): void;
}

/** The holder recorded in a run's lock file, or undefined when there is none (or it is unreadable). */
export function readLock(runDir: string): LockHolder | undefined {
  return lockContent(runPaths(runDir).lock).holder;
}

/**
 * A lock file's holder, or why it has none: `why` is unset for a missing file, and otherwise says
 * what is wrong with it (torn, empty, oversized, unreadable), for the warning its takeover logs.
 */
function lockContent(file: string): { holder?: LockHolder; why?: string } {
  let text: string;
  try {
    text = readRecordBounded(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code === 'ENOENT' ? {} : { why: `it cannot be read (${err.message})` };
  }
  let v: Partial<LockHolder>;
  try {
    v = JSON.parse(text) as Partial<LockHolder>;
  } catch (e) {
    return { why: text.length ? `it is not JSON (${(e as Error).message})` : 'it is empty' };
  }
  if (v !== null && typeof v === 'object' && typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0 && typeof v.host === 'string') {
    return { holder: { pid: v.pid, host: v.host, startedAt: String(v.startedAt ?? '') } };
  }
  return { why: 'it holds no pid and host' };
}

/** Whether the holder's process is alive; a holder on another host is assumed alive. */
export function holderAlive(h: LockHolder): boolean {
  obj('holder', h, 'lock holder ({ host, pid })');
  return h.host !== os.hostname() || isAlive(h.pid);
}

function tryCreate(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, `${JSON.stringify(holder)}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** A lock file still empty a moment after its creation is being written, not abandoned. */
function justCreated(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs < 5000;
  } catch {
    return false;
  }
}

function lockedError(runDir: string, holder: LockHolder): ToolkitError {
  const lock = runPaths(runDir).lock;
  // A lock left on shared storage by a machine that crashed would otherwise refuse the run for
  // good: only a person can tell that the process is gone.
  const elsewhere = holder.host === os.hostname() ? ''
    : `; this machine cannot tell whether that process still runs: if it does not (${holder.host} crashed or was restarted), remove ${lock}`;
  return new ToolkitError('ERR_RUN_LOCKED', `Run directory ${runDir} is being trained by process ${holder.pid} on ${holder.host} (since ${holder.startedAt}): wait for it to finish or stop it; ${lock} holds the lock${elsewhere}`);
}

/**
 * A run.lock no trainer made (a FIFO, a folder): it reads as no holder, so it looked like a lock
 * being written (when new) or was removed as abandoned (when old; a folder failed on that).
 * Someone put it there: the person decides, not the takeover.
 */
function notALock(runDir: string, file: string, kind: string): ToolkitError {
  return new ToolkitError('ERR_INVALID_ARG', `Expected the lock of run directory ${runDir} to be a regular file (a trainer's pid and host), but it is ${kind}: ${file}; no trainer makes one: remove it and run again`);
}

/** Throws acquireRunLock's ERR_RUN_LOCKED when a live process holds the lock (a check before announcing a run). */
export function assertUnlocked(runDir: string): void {
  const holder = readLock(runDir);
  if (holder && holderAlive(holder)) throw lockedError(runDir, holder);
}

/** Takes the run directory's lock, or throws ERR_RUN_LOCKED naming the live process that holds it. */
export function acquireRunLock(runDir: string): RunLock {
  const file = runPaths(runDir).lock;
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(file, holder)) {
      return {
        file,
        holder,
        release() {
          const now = readLock(runDir);
          if (now && now.pid === holder.pid && now.host === holder.host) fs.rmSync(file, { force: true });
        },
      };
    }
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) throw notALock(runDir, file, kindOf(st));
    const { holder: other, why } = lockContent(file);
    if (!other && justCreated(file)) {
      throw new ToolkitError('ERR_RUN_LOCKED', `Run directory ${runDir}: another process is taking the lock ${file} right now`);
    }
    if (other && holderAlive(other)) throw lockedError(runDir, other);
    // No holder in it (a trainer killed while writing it, or a file something else put or changed
    // there): taken over, as a stale lock must not refuse the run for ever, but said, since what
    // it was is not known.
    if (why) logger().warn({ file }, `Taking over the lock ${file} of run directory ${runDir}: ${why}, and it is over 5 s old`);
    fs.rmSync(file, { force: true }); // its process is gone: take it over
  }
  throw new ToolkitError('ERR_RUN_LOCKED', `Run directory ${runDir}: another process took the lock ${file} at the same time`);
}
