/**
 * Reading files whose size the toolkit does not control (a config a user names, a run record that
 * may have been edited or replaced, a child's log) without holding more of it than a bound: read
 * whole, a 1 GiB file took 9 s and 1.1 GiB of memory to be refused as a string V8 cannot make,
 * and a 3 GiB one 45 s and 4.2 GiB.
 */
import * as fs from 'node:fs';
import { InvalidArgumentError, ToolkitError } from './errors';

/**
 * The most bytes readTextBounded reads. A config, a sweep file or a run record the toolkit wrote
 * is kilobytes (a sweep of ten thousand grid values is under a megabyte); 64 MiB is far above
 * any of them, and far below V8's longest string (512 MiB), so the bound is what refuses.
 */
export const MAX_RECORD_BYTES = 64 * 2 ** 20;

/** fs.statSync, undefined when nothing is there; any other failure (EACCES, a path under a file: ENOTDIR) goes through `fail`, which names the path's role. */
export function statIfAny(file: string, fail: (e: unknown) => Error): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch (e) {
    throw fail(e);
  }
}

/** A read's size: records are kilobytes, and `list runs` reads several per run. */
const CHUNK = 64 * 1024;

function sizeText(bytes: number): string {
  return `${Number((bytes / 2 ** 20).toFixed(1))} MiB (${bytes} bytes)`;
}

function tooLarge(file: string, size: string, limit: number): ToolkitError {
  return new ToolkitError('ERR_INVALID_ARG', `Expected a config or record file of at most ${sizeText(limit)}, but it is ${size}: ${file}`);
}

/**
 * The file as UTF-8 text; ERR_INVALID_ARG naming the file, its size and the limit when it is
 * larger, before anything is read. A pipe or device has no size (`--config <(jq ...)`,
 * /dev/zero): it is read up to one byte past the limit. For a file the user names; a run's own
 * records are read with readRecordBounded.
 */
export function readTextBounded(file: string, limit = MAX_RECORD_BYTES): string {
  const fd = fs.openSync(file, 'r');
  try {
    return readOpened(fd, file, limit, fs.fstatSync(fd).size).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** What (f)stat says a file that is not a regular one is, for the error that refuses it. */
export function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * `file` opened to append to (made when missing). Refused, naming it and what it is, when it is
 * there and is not a regular file, nor, with `devices`, a character device (whose writes end:
 * /dev/null, /dev/full): open(2) on a FIFO for writing waits for a reader for ever (a FIFO put in
 * place of a run's log hung the run, or the sweep), and a folder, socket or disk is no log.
 * Opened without blocking too, so that a FIFO put there after the check fails (ENXIO) rather than
 * waits. `what` says whose file it is, for the message.
 */
export function openAppendable(file: string, what: string, devices = true): number {
  const appendable = (st: fs.Stats) => st.isFile() || (devices && st.isCharacterDevice());
  const before = fs.statSync(file, { throwIfNoEntry: false });
  if (before && !appendable(before)) throw notRegular(file, what, kindOf(before));
  const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = fs.constants;
  const fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK);
  const st = fs.fstatSync(fd);
  if (appendable(st)) return fd;
  fs.closeSync(fd);
  throw notRegular(file, what, kindOf(st));
}

function notRegular(file: string, what: string, kind: string): ToolkitError {
  return new ToolkitError('ERR_INVALID_ARG', `Expected a regular file (${what}), but it is ${kind}: ${file}`);
}

/**
 * `file` opened for reading and its size, when it is a regular file: opened without blocking, as
 * open(2) on a FIFO waits for a writer for ever, and a device such as /dev/zero never ends.
 * Anything else is refused with `refuse(what it is)` (kindOf); an error of the open or the fstat
 * goes through `cannot`, thrown as it is by default. The caller closes the descriptor.
 */
export function openRegular(file: fs.PathLike, refuse: (kind: string) => Error, cannot: (e: unknown) => Error = (e) => e as Error): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw cannot(e);
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw cannot(e);
  }
  if (st.isFile()) return { fd, size: st.size };
  fs.closeSync(fd);
  throw refuse(kindOf(st));
}

/** `length` bytes of an open file from `position` (fewer when it ends first). */
export function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  return buf.subarray(0, readInto(fd, buf, position));
}

/** Fills `into` from an open file at `position` (shared memory too); how many bytes it got. */
export function readInto(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  for (let n = -1; got < into.length && n !== 0; got += n) n = fs.readSync(fd, into, got, into.length - got, position + got);
  return got;
}

/**
 * A file the toolkit wrote itself (a run record: config.json, metrics.jsonl, run.lock, ...) as
 * readTextBounded reads it, but only when it is a regular file: opened without blocking, since
 * open(2) on a FIFO waits for a writer for ever (a FIFO put in a run directory hung `list runs`),
 * then refused with ERR_INVALID_ARG naming the file and what it is.
 */
export function readRecordBounded(file: string, limit = MAX_RECORD_BYTES): string {
  return readRecordBytes(file, limit).toString('utf8');
}

/** readRecordBounded's bytes, as they are: for a copy of the record. */
export function readRecordBytes(file: string, limit = MAX_RECORD_BYTES): Buffer {
  const { fd, size } = openRegular(file, (kind) => notRegular(file, 'a run record', kind));
  try {
    return readOpened(fd, file, limit, size);
  } finally {
    fs.closeSync(fd);
  }
}

function readOpened(fd: number, file: string, limit: number, size: number): Buffer {
  if (size > limit) throw tooLarge(file, sizeText(size), limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, limit + 1 - total));
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > limit) throw tooLarge(file, `more than ${sizeText(limit)}`, limit);
  }
  return Buffer.concat(chunks, total);
}

/**
 * The longest run of whole lines at the file's end that is at most `bytes` bytes, read by
 * position: a log of any length costs the same. A file that fits is returned whole; a last line
 * longer than `bytes` comes back as its end. Only a regular file (a log), opened without blocking:
 * a FIFO put in a log's place would wait for a writer for ever.
 */
export function readTail(file: string, bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InvalidArgumentError('bytes', 'a whole number of bytes (0 or more)', bytes);
  const { fd, size } = openRegular(file, (kind) => notRegular(file, 'a log', kind));
  try {
    // One byte more than the tail: whether the byte before it ends a line.
    const start = Math.max(0, size - bytes - 1);
    const text = readAt(fd, size - start, start);
    if (start === 0 && text.length <= bytes) return text.toString('utf8');
    // A newline byte is never inside a UTF-8 sequence. The file's own last byte ends the last
    // line, not the one before it: counted, a last line longer than the tail left nothing. Without
    // another, the continuation bytes (10xxxxxx) of a character cut in half are skipped.
    const newline = text.indexOf(10);
    let from = newline === text.length - 1 ? 0 : newline + 1;
    if (from === 0) for (from = 1; from < text.length && (text[from] & 0xc0) === 0x80;) from++;
    return text.subarray(from).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
