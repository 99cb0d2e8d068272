/**
 * Atomic file writes, shared by every layer that writes files (safetensors, checkpoints, run
 * directories, reports): readers see the old content or the new, never a part.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openAppendable } from './bounded-read';
import { ToolkitError } from './errors';
import { isAlive } from './pid';

/** What a person can do about the errors that the machine, not the program, causes. */
const REMEDIES: Record<string, string> = {
  ENOSPC: 'the disk is full: free space on it, then run the command again',
  EDQUOT: 'the disk quota is used up: free space or raise the quota, then run the command again',
  EROFS: 'the file system is read-only: remount it read-write, or write somewhere else',
  EACCES: 'permission denied: give this user write access, or write somewhere else',
  EPERM: 'not permitted (an immutable file or folder?): lift that, or write somewhere else',
};

/** A system error's own text ('ENOSPC: no space left on device, write'), with what to do about it when that is known. */
export function systemErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const remedy = code === undefined ? undefined : REMEDIES[code];
  return `${(e as Error)?.message ?? String(e)}${remedy ? ` (${remedy})` : ''}`;
}

/**
 * ERR_IO naming the file a write was for: Node's message names no file for a failed write(2)
 * ('ENOSPC: no space left on device, write'), and a temporary sibling's name for a failed open.
 */
export function writeError(file: string, e: unknown): ToolkitError {
  return new ToolkitError('ERR_IO', `Cannot write ${file}: ${systemErrorText(e)}`, { cause: e });
}

/**
 * mkdir -p, one folder at a time, so that a failure is the real reason for the first folder that
 * cannot be made: Node's recursive mkdir says ENOENT for it on a read-only file system, and loops
 * forever where mkdir answers ENOENT for good (/proc, sysfs: it makes the parent, which exists, and
 * retries). EEXIST is a folder another process made meanwhile, or a file or dangling link there,
 * which the next mkdir or the write then names. Returns the folders it made, outermost first, so
 * that a caller whose work fails can take them back.
 */
export function makeDir(dir: string): string[] {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  const made: string[] = [];
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
      made.push(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return made;
}

/** `.<name>.<pid>.<random>.tmp`: the pid tells a writer still alive from one that was killed. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-z]+\.tmp$/;

/** Temporary sibling of a file (same directory, so the rename is atomic). */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/**
 * Removes the temporary files (or folders: a download's staging) that writers killed mid-write
 * left in dir (their pid is gone); returns their paths. Those of live processes, this one
 * included, stay.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}

/**
 * SIGNIN_TORCH_PAUSE_WRITE=<file name>:<n> stops this process forever inside its n-th write of a
 * file of that name, after half the data reached the temporary file, and says so on stderr: the
 * resume tests SIGKILL it there, deterministically. Unset, it costs one lookup per write.
 */
const pauseCounts = new Map<string, number>();

function pauseIfAsked(file: string, tmp: string): void {
  const spec = process.env.SIGNIN_TORCH_PAUSE_WRITE;
  if (!spec) return;
  const [name, nth] = spec.split(':');
  if (name !== path.basename(file)) return;
  const n = (pauseCounts.get(name) ?? 0) + 1;
  pauseCounts.set(name, n);
  if (n !== Number(nth ?? 1)) return;
  process.stderr.write(`signin-torch: paused writing ${tmp}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/**
 * Content written piece by piece, each made as it is written (so pieces may share one buffer),
 * `size` bytes in all: a large file never has to be in memory at once.
 */
export interface Pieces {
  size: number;
  pieces: Iterable<Uint8Array>;
}

/** Writes `data` to `fd`, pausing (pauseIfAsked) once half of it is written. */
function writeAll(fd: number, data: string | Uint8Array | Pieces, file: string, tmp: string): void {
  const { size, pieces } = typeof data === 'string' || data instanceof Uint8Array ? whole(data) : data;
  const half = size >> 1;
  let written = 0;
  let paused = false;
  for (const piece of pieces) {
    let rest = piece;
    if (!paused && written + piece.length >= half) {
      fs.writeFileSync(fd, piece.subarray(0, half - written));
      pauseIfAsked(file, tmp);
      paused = true;
      rest = piece.subarray(half - written);
    }
    fs.writeFileSync(fd, rest);
    written += piece.length;
  }
  if (!paused) pauseIfAsked(file, tmp);
}

function whole(data: string | Uint8Array): Pieces {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return { size: bytes.length, pieces: [bytes] };
}

/**
 * fsync(2) of a file, or of a folder (its entries: the renames into it). A folder whose file
 * system cannot sync one (EINVAL: some network and FUSE ones) is as durable as it can be made.
 */
export function syncPath(p: string): void {
  try {
    const fd = fs.openSync(p, 'r');
    try {
      fs.fsyncSync(fd);
    } catch (e) {
      if (!((e as NodeJS.ErrnoException).code === 'EINVAL' && fs.fstatSync(fd).isDirectory())) throw e;
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw writeError(p, e);
  }
}

/**
 * Writes a temporary sibling, fsyncs it and renames it over the target; creates missing folders.
 * The folder is fsync'd after the rename, and the folders made for it in theirs: a rename alone
 * is not durable (after a power loss the old file, or none, could be back).
 * With `previous`, the target is first renamed to that path once the new content is safely in the
 * temporary file, so a kill at any point leaves the newest complete file under `file` or, between
 * the two renames, under `previous`. A failure (a full disk) is ERR_IO naming `file`, which is
 * left as it was.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | Pieces, options: { previous?: string } = {}): void {
  let created: string[];
  try {
    created = makeDir(path.dirname(file));
  } catch (e) {
    throw writeError(file, e);
  }
  const tmp = tempPathFor(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      writeAll(fd, data, file, tmp);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (options.previous && fs.existsSync(file)) fs.renameSync(file, options.previous);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e);
  }
  syncFolders(path.dirname(file), created);
}

/** A folder after renames into it, and the parents of the folders made in it: their new entries made durable. */
export function syncFolders(dir: string, created: readonly string[]): void {
  for (const d of new Set([path.resolve(dir), ...created.map((c) => path.dirname(c))])) syncPath(d);
}

/**
 * Appends text to a file and fsyncs it, whole or not at all. On a nearly full disk write(2) may
 * store part of the text and return without an error: the rest is written, or, when that fails,
 * the part is cut off again, so the file never ends in a torn line that the next append would
 * glue itself to. Opened by openAppendable (`what` names whose file it is) for a regular file
 * only: a FIFO put there waited for a reader for ever, and a device (/dev/null) has nothing to
 * make durable (fsync failed as EINVAL) nor to read back.
 */
export function appendFileDurable(file: string, text: string, what: string): void {
  let fd: number;
  try {
    fd = openAppendable(file, what, false);
  } catch (e) {
    throw e instanceof ToolkitError ? e : writeError(file, e);
  }
  try {
    const size = fs.fstatSync(fd).size;
    try {
      fs.writeFileSync(fd, Buffer.from(text, 'utf8'));
      fs.fsyncSync(fd);
    } catch (e) {
      try {
        fs.ftruncateSync(fd, size);
      } catch {
        // The disk refuses even that: a torn line stays, which the readers of line files skip
        // when it is the last.
      }
      throw writeError(file, e);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** JSON with 2-space indentation and a final newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
