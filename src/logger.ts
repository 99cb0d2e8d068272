/**
 * The library's logger (architecture.md decision 10): pino, on stderr so that stdout carries only
 * a command's result (a table, `--json`). Pretty when stderr is a terminal, JSON lines otherwise.
 * Level from SIGNIN_TORCH_LOG_LEVEL (default 'info').
 *
 * A run also keeps its own log: `runLogger(<run dir>/log.jsonl)` tees every line into that file,
 * so a run that crashed can be diagnosed afterwards.
 */
import * as path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { makeDir, writeError } from './atomic';
import { openAppendable } from './bounded-read';
import { ToolkitError } from './errors';
import { quoteText } from './quote';

let root: Logger | undefined;

/** Synchronous writes: the last lines before a crash or process.exit() are not lost. */
function stderrStream(): DestinationStream {
  return process.stderr.isTTY
    ? pretty({ colorize: true, ignore: 'pid,hostname', destination: 2, sync: true })
    : pino.destination({ dest: 2, sync: true });
}

/**
 * The level SIGNIN_TORCH_LOG_LEVEL names ('info' when unset or empty). Checked here so that a typo
 * is an error naming the variable and the levels, not pino's, and a command can check it up front.
 */
export function logLevelFromEnv(): pino.LevelWithSilent {
  const v = process.env.SIGNIN_TORCH_LOG_LEVEL;
  if (v === undefined || v === '') return 'info';
  const levels = [...Object.keys(pino.levels.values), 'silent'];
  if (!levels.includes(v)) {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected environment variable SIGNIN_TORCH_LOG_LEVEL to be one of ${levels.join(', ')} but it is ${quoteText(v)}`);
  }
  return v as pino.LevelWithSilent;
}

/** The library logger (created on first use). */
export function logger(): Logger {
  root ??= pino({ level: logLevelFromEnv(), base: undefined }, stderrStream());
  return root;
}

/** Replaces the library logger (e.g. to route logs into an application's own pino instance). */
export function setLogger(l: Logger): void {
  root = l;
}

export function childLogger(bindings: Record<string, unknown>): Logger {
  return logger().child(bindings);
}

export interface RunLogger {
  /** Writes to the library logger's destination and, as JSON lines, to the run's file. */
  log: Logger;
  /** Flushes and closes the file; the logger must not be used afterwards. */
  close(): void;
}

/**
 * A logger for one run: every line goes where the library logger writes and is appended to
 * `file` as JSON lines (at 'info' and above even when the library logger is quieter, because
 * the file is what is left to read after a crash).
 */
export function runLogger(file: string, bindings: Record<string, unknown>): RunLogger {
  const base = logger();
  const fileLevel = Math.min(base.levelVal, pino.levels.values.info);
  let fileStream: ReturnType<typeof pino.destination>;
  try {
    makeDir(path.dirname(file));
    // Opened here, not by pino: pino's open(2) waited for ever on a FIFO put in the log's place.
    fileStream = pino.destination({ dest: openAppendable(file, "a run's log"), sync: true });
  } catch (e) {
    throw e instanceof ToolkitError ? e : writeError(file, e);
  }
  // A file that cannot be written (a full disk) costs the run its log file, not the run: unheard,
  // the stream's 'error' is thrown out of the log call, and its flush retries forever. The
  // checkpoint written next, on the same disk, fails with its own error if the disk stays full.
  let failed = false;
  fileStream.on('error', (e) => {
    if (failed) return;
    failed = true;
    base.warn(`${writeError(file, e).message}; this run's log lines are no longer saved in that file (training goes on)`);
  });
  const toFile = { write: (line: string) => { if (!failed) fileStream.write(line); } };
  const streams: pino.StreamEntry[] = [{ level: pino.levels.labels[fileLevel] as pino.Level, stream: toFile }];
  if (base.levelVal !== Infinity) {
    const baseStream = (base as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
    streams.push({ level: base.level as pino.Level, stream: baseStream });
  }
  const log = pino({ level: pino.levels.labels[fileLevel], base: undefined }, pino.multistream(streams))
    .child({ ...base.bindings(), ...bindings });
  return {
    log,
    close: () => {
      if (failed) {
        fileStream.destroy();
        return;
      }
      fileStream.flushSync();
      fileStream.end();
    },
  };
}
