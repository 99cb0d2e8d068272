/**
 * torchrun's error files (torch.distributed.elastic.multiprocessing.errors): the launcher gives
 * each worker a path in TORCHELASTIC_ERROR_FILE; a worker that ends on an error writes
 * {"message": {"message": "<Type>: <msg>", "extraInfo": {"py_callstack", "timestamp": "<unix s>"}}}
 * there; the launcher reads the files of the workers that failed and names the earliest failure
 * the root cause, since the others' errors are mostly its echo (a peer that vanished, a timeout).
 * A worker ended by a signal writes nothing, as under torch.
 *
 * Ours also put the error's code and the time in milliseconds in extraInfo, which torch ignores:
 * a rank whose peer vanished fails within milliseconds of it, the same second.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../atomic';
import { openRegular, readAt } from '../bounded-read';
import { ToolkitError } from '../errors';
import { isAlive } from '../pid';
import { oneLineText } from '../quote';

export const ERROR_FILE_ENV = 'TORCHELASTIC_ERROR_FILE';

/** The most of an error file that is read: a worker's file is not trusted to be small. */
const MAX_ERROR_FILE_BYTES = 1 << 20;

const recorded = new Set<string>();

/**
 * Writes `e` to $TORCHELASTIC_ERROR_FILE, when set, once per process: the first caller is the
 * nearest to the failure (the trainer, before its process group closes and the peers fail on
 * that), and later callers see the same error on its way out. A file that cannot be written must
 * not hide the error being reported, so that failure is ignored.
 */
export function recordErrorFile(e: unknown, env: NodeJS.ProcessEnv = process.env, nowMs: number = Date.now()): void {
  const file = env[ERROR_FILE_ENV];
  if (!file || recorded.has(file)) return;
  recorded.add(file);
  try {
    const code = e instanceof ToolkitError ? e.code : undefined;
    const line = e instanceof Error ? `${code ?? e.name}: ${e.message}` : `Error: ${String(e)}`;
    const stack = e instanceof Error ? e.stack : undefined;
    writeJsonAtomic(file, {
      message: {
        message: line,
        // torchrun prints py_callstack as the traceback: a coded error's stack would bury its message (the CLI's rule too).
        extraInfo: { py_callstack: code ? line : stack ?? line, timestamp: String(Math.floor(nowMs / 1000)), timestamp_ms: String(nowMs), ...(code ? { code } : {}) },
      },
    });
  } catch {
    // the error itself is reported by the caller (also one whose text cannot be made)
  }
}

/**
 * A launcher's own error file, when it runs under one (a supervisor of launchers, one per node):
 * the root cause's file, copied as torch's agent copies it (@record on its ChildFailedError,
 * ErrorHandler.dump_error_file), and nothing when the root cause wrote none (a kill), as there.
 * It is then this process's record: a later error here is the failure's echo.
 */
export function passOnErrorFile(workerFile: string, env: NodeJS.ProcessEnv = process.env): void {
  const own = env[ERROR_FILE_ENV];
  if (!own || recorded.has(own)) return;
  const bytes = errorFileBytes(workerFile);
  if (!bytes || bytes.length > MAX_ERROR_FILE_BYTES) return;
  try {
    writeFileAtomic(own, bytes);
    recorded.add(own);
  } catch {
    // none can be written: the launcher's summary still says it
  }
}

/**
 * The first MAX_ERROR_FILE_BYTES + 1 bytes of an error file; undefined when there is none (the
 * worker was killed), it does not open, or it is not a regular file: open(2) on a FIFO put at the
 * path waits for a writer for ever, which hung the launcher or the sweep reading it.
 */
function errorFileBytes(file: string): Buffer | undefined {
  let fd: number;
  try {
    ({ fd } = openRegular(file, (kind) => new ToolkitError('ERR_INVALID_ARG', `${file} is ${kind}, not a regular file`)));
  } catch {
    return undefined;
  }
  try {
    return readAt(fd, MAX_ERROR_FILE_BYTES + 1, 0);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

const ERROR_DIR_PREFIX = 'signin-torch-errors-';
/** `signin-torch-errors-<launcher pid>-<mkdtemp's 6 characters>`. */
const ERROR_DIR_NAME = /^signin-torch-errors-([1-9]\d*)-[A-Za-z0-9]{6}$/;

/**
 * Makes a launch's folder of error files in `tmp`, named for this launcher's pid. A launcher that
 * was SIGKILLed could not remove its own: the folders of launchers that are gone go first.
 */
export function makeErrorDir(tmp: string = os.tmpdir()): string {
  removeStaleErrorDirs(tmp);
  return fs.mkdtempSync(path.join(tmp, `${ERROR_DIR_PREFIX}${process.pid}-`));
}

/**
 * Removes the error folders in `tmp` whose launcher is no longer running: only folders named as
 * makeErrorDir names them and owned by this user. A launcher in another pid namespace sharing
 * `tmp` would look gone: containers share their temp folder rarely, and a launch whose folder
 * went loses only its workers' error messages (each worker's exit code stays).
 */
export function removeStaleErrorDirs(tmp: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(tmp);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const m = ERROR_DIR_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    const dir = path.join(tmp, name);
    try {
      const st = fs.lstatSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // removed by another launcher at the same time, or not ours to remove
    }
  }
}

/** What one failed worker left: its exit code and, when it wrote one, its error file's message. */
export interface WorkerFailure {
  rank: number;
  localRank: number;
  host: string;
  /** The exit code, or 128 + the signal's number. */
  exitCode: number;
  /** The error's code (ERR_*) when the worker's error had one. */
  code?: string;
  /** The error's message; for a worker that wrote no error file, how it ended. */
  message: string;
  /** When it failed (ms since the epoch): its error file's time, else when it exited. */
  timeMs: number;
}

export interface ErrorFileData {
  message: string;
  code?: string;
  /** Absent when the file does not say (then the worker's exit time stands for it). */
  timeMs?: number;
}

/** An error file as torch reads one (a string message with a top-level timestamp, or the nested form); undefined when there is none, or it is no regular file (errorFileBytes). */
export function readErrorFile(file: string): ErrorFileData | undefined {
  const bytes = errorFileBytes(file);
  if (!bytes) return undefined;
  if (bytes.length > MAX_ERROR_FILE_BYTES) return { message: `its error file ${file} is larger than ${MAX_ERROR_FILE_BYTES} bytes` };
  const text = bytes.toString('utf8');
  try {
    const data = JSON.parse(text) as { message?: unknown; timestamp?: unknown };
    const m = data.message;
    if (typeof m === 'string') return { message: m, timeMs: timeOf(data.timestamp, 1000) };
    const nested = m as { message?: unknown; extraInfo?: { timestamp?: unknown; timestamp_ms?: unknown; code?: unknown } };
    const extra = nested.extraInfo ?? {};
    const code = typeof extra.code === 'string' ? extra.code : undefined;
    const message = String(nested.message ?? '<N/A>');
    return { message: code && message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message, code, timeMs: timeOf(extra.timestamp_ms, 1) ?? timeOf(extra.timestamp, 1000) };
  } catch (e) {
    return { message: `its error file ${file} does not read (${(e as Error).message})` };
  }
}

/** A timestamp field (torch writes a string of seconds) in ms; undefined when it is not a number. */
function timeOf(v: unknown, msPerUnit: number): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n * msPerUnit : undefined;
}

/**
 * The failure of a worker that exited with `exitCode` at `exitMs`: its error file's message and
 * time, or, without one, how it ended and when (torch's rule for a worker without a file).
 */
export function workerFailure(w: { rank: number; localRank: number; exitCode: number; exitMs: number; errorFile: string; signal?: string }): WorkerFailure {
  const data = readErrorFile(w.errorFile);
  const base = { rank: w.rank, localRank: w.localRank, host: os.hostname(), exitCode: w.exitCode };
  if (data) return { ...base, ...data, timeMs: data.timeMs ?? w.exitMs };
  const how = w.signal ? `killed by ${w.signal}` : `exited with code ${w.exitCode}`;
  return { ...base, message: `${how}, no error file (an error it did not catch, or a signal)`, timeMs: w.exitMs };
}

/** The earliest failure first (torch's root cause), ties to the lower rank, as torch's. */
export function byFirstFailure(failures: readonly WorkerFailure[]): WorkerFailure[] {
  return [...failures].sort((a, b) => a.timeMs - b.timeMs || a.rank - b.rank);
}

const oneLine = (f: WorkerFailure) => `${f.code ? `${f.code}: ` : ''}${oneLineText(f.message)}`;

/** The launcher's summary: the root cause, then one line per other failure. */
export function formatFailures(rootCause: WorkerFailure, others: readonly WorkerFailure[]): string {
  const head = `root cause: rank ${rootCause.rank} (local rank ${rootCause.localRank}, host ${rootCause.host}) failed first, exit code ${rootCause.exitCode}: ${oneLine(rootCause)}\n`;
  return head + others.map((f) => `  also failed: rank ${f.rank} (local rank ${f.localRank}), exit code ${f.exitCode}: ${oneLine(f)}\n`).join('');
}
