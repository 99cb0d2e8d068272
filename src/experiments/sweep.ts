/**
 * Sweeps: a grid over dotted config fields × seeds, expanded into validated configs, then run
 * one after another in this process (runOne) or by N child processes (`signin-torch train`).
 * A run whose directory holds final.json is skipped, so a sweep can be restarted at will.
 *
 * Sweep (grid) file:
 *   {
 *     "name": "cifar10-resnet20",                     optional, for humans
 *     "prefix": "train",                              optional run-directory prefix
 *     "base": { ...an experiment config... },         every run starts from this
 *     "grid": { "signin.enabled": [false, true],      dotted path → values (cartesian product);
 *               "pruning.sparsity": [0.8, 0.9] },     or an array of such grids (their union)
 *     "seeds": [0, 1, 2]                              default: base.seed (0 when absent);
 *   }                                                 not both
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { describeValue, InvalidArgumentError, isErrorCode, IssuesError, ToolkitError, type ErrorCode, type Issue } from '../errors';
import { openAppendable, readRecordBounded, readTail, readTextBounded } from '../bounded-read';
import { boundText } from '../quote';
import { ERROR_FILE_ENV, makeErrorDir, readErrorFile } from '../distributed/error-file';
import { SUPERVISED_ENV, SUPERVISOR_PID_ENV } from '../distributed/launch';
import { signalExitCode } from '../train/interrupt';
import { configHash } from './hash';
import type { LockHolder } from './lock';
import { DEFAULT_RUN_PREFIX, folderArg, runDirFor, runPaths } from './paths';
import { createRunDir, isFinished, resolveTransfer, runHasCheckpoint } from './runs';
import { checkRunIntact, liveHolder, runStatus, type RunStatus } from './run-scan';
import { configArg, configError, DEFAULTS, safeParseConfig, setDotted, toIssues, unsafeKeyIssues, type ExperimentConfig } from './schema';
import { func, int, keysOf, knownKeys, list, obj, str } from '../validate';

const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const Grid = z.record(z.string().regex(DOTTED, 'a dotted config path such as pruning.sparsity'), z.array(z.unknown()).min(1));

export const SweepSpec = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'letters, digits, dots and dashes').optional(),
  base: z.record(z.string(), z.unknown()),
  grid: z.preprocess((v) => (v === undefined ? [{}] : Array.isArray(v) ? v : [v]), z.array(Grid).min(1)),
  seeds: z.array(z.number().int().min(0)).min(1).optional(),
});

/** A parsed sweep spec: `grid` always a list, `seeds` always given (from base.seed when the file has none). */
export type SweepSpec = z.output<typeof SweepSpec> & { seeds: number[] };
export type SweepSpecInput = z.input<typeof SweepSpec>;

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The cartesian product of a grid, in order (the first key varies slowest). */
export function gridPoints(grid: Record<string, readonly unknown[]>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}

export interface ExpandedRun {
  config: ExperimentConfig;
  /** The grid values (and seed) that made this run. */
  point: Record<string, unknown>;
}

function sweepError(issues: Issue[], source?: string): IssuesError {
  const n = issues.length;
  return new IssuesError('ERR_CONFIG', `Invalid sweep${source ? ` ${source}` : ''} (${n} issue${n === 1 ? '' : 's'})`, issues);
}

/** Zod's nested issues (an invalid record key) flattened into our issues. */
function sweepIssues(issues: readonly z.core.$ZodIssue[], gridIsList: boolean, prefix: PropertyKey[] = []): Issue[] {
  return issues.flatMap((i) => {
    const full = [...prefix, ...i.path];
    if (i.code === 'invalid_key') return sweepIssues(i.issues, gridIsList, full);
    return toIssues({ ...i, path: full } as z.core.$ZodIssue, SweepSpec).map((issue) => ({
      ...issue, path: gridIsList ? issue.path : issue.path.replace(/^grid\[0\]/, 'grid'),
    }));
  });
}

/** Validates a sweep spec; throws one IssuesError('ERR_CONFIG'). `grid` is always a list after parsing. */
export function parseSweepSpec(input: unknown, source?: string): SweepSpec {
  if (source !== undefined) str('source', source);
  // Refused here, naming the sweep file: setDotted refused a grid value nested 1000 deep later, without it.
  const unsafe = unsafeKeyIssues(input);
  if (unsafe.length > 0) throw sweepError(unsafe, source);
  const gridIsList = Array.isArray((input as { grid?: unknown } | null)?.grid);
  const res = SweepSpec.safeParse(input, { reportInput: true });
  if (!res.success) throw sweepError(sweepIssues(res.error.issues, gridIsList), source);
  const issues: Issue[] = res.data.grid.flatMap((g, i) => (Object.keys(g).includes('seed')
    ? [{ code: 'custom', path: gridIsList ? `grid[${i}].seed` : 'grid.seed', message: 'Use the top-level "seeds" list instead of a grid over seed' }] : []));
  const { seeds } = res.data;
  const baseSeed = res.data.base.seed;
  if (seeds !== undefined && baseSeed !== undefined) {
    issues.push({ code: 'custom', path: 'base.seed', message: '`base.seed` and `seeds` both set: use `seeds` (remove base.seed, or list it in seeds)' });
  } else if (seeds === undefined && baseSeed !== undefined && !(Number.isSafeInteger(baseSeed) && (baseSeed as number) >= 0)) {
    issues.push({ code: 'invalid_type', path: 'base.seed', message: `Expected a non-negative integer (the sweep's seed, as seeds is not set) but received ${describeValue(baseSeed)}` });
  }
  if (issues.length > 0) throw sweepError(issues, source);
  return { ...res.data, seeds: seeds ?? [(baseSeed as number | undefined) ?? DEFAULTS.seed] };
}

/**
 * Expands a sweep into validated configs, seeds outermost (every setting's first seed comes
 * before any second seed, so a partial sweep already fills every table cell). Duplicate configs
 * (same hash) are kept once. Every invalid combination is reported in one IssuesError.
 */
export function expandSweep(input: unknown, source?: string): ExpandedRun[] {
  const spec = parseSweepSpec(input, source);
  const points = spec.grid.flatMap((g) => gridPoints(g));
  const out: ExpandedRun[] = [];
  const seen = new Set<string>();
  const issues = new Map<string, Issue>();
  for (const seed of spec.seeds) {
    for (const p of points) {
      const raw = clone(spec.base) as Record<string, unknown>;
      for (const [k, v] of Object.entries(p)) setDotted(raw, k, clone(v));
      raw.seed = seed;
      const res = safeParseConfig(raw);
      if (!res.success) {
        const where = Object.entries(p).map(([k, v]) => `${boundText(k)}=${boundText(JSON.stringify(v))}`).join(', ');
        for (const i of res.issues) {
          const key = `${i.path}\u0000${i.message}`;
          const fromGridValue = i.code !== 'unrecognized_keys' && Object.keys(p).includes(i.path);
          if (!issues.has(key)) issues.set(key, { ...i, message: fromGridValue ? `${i.message} (grid point ${where})` : i.message });
        }
        continue;
      }
      const h = configHash(res.data);
      if (seen.has(h)) continue;
      seen.add(h);
      out.push({ config: res.data, point: { ...p, seed } });
    }
  }
  if (issues.size > 0) throw configError([...issues.values()], `in sweep${source ? ` ${source}` : ''}`);
  return out;
}

/** Reads and expands a sweep file. */
export function loadSweepFile(file: string): { spec: SweepSpec; runs: ExpandedRun[] } {
  str('file', file);
  let raw: unknown;
  try {
    raw = JSON.parse(readTextBounded(file));
  } catch (e) {
    throw new IssuesError('ERR_CONFIG', `Cannot read sweep file ${file}`, [{ code: 'unreadable', path: '', message: (e as Error).message }]);
  }
  return { spec: parseSweepSpec(raw, file), runs: expandSweep(raw, file) };
}

// ---------------------------------------------------------------------------------------------
// Execution

/** Whether the run's interrupted.json (its own process wrote it) says it stopped while pruning. */
function stoppedWhilePruning(runDir: string): boolean {
  try {
    return (JSON.parse(readRecordBounded(runPaths(runDir).interrupted)) as { pruning?: unknown }).pruning !== undefined;
  } catch {
    return false;
  }
}

/** Runs one config in its (already created) run directory; must write final.json on success. */
export type RunOne = (config: ExperimentConfig, runDir: string) => unknown | Promise<unknown>;

export interface PlannedRun {
  index: number;
  config: ExperimentConfig;
  runDir: string;
  status: RunStatus;
}

export type SweepEvent =
  | { type: 'skip'; run: PlannedRun }
  | { type: 'busy'; run: PlannedRun; holder: LockHolder }
  | { type: 'start'; run: PlannedRun }
  | { type: 'done'; run: PlannedRun; seconds: number }
  /** `error` and `code` as in SweepResult.failed. */
  | { type: 'fail'; run: PlannedRun; seconds: number; error: string; code?: ErrorCode }
  /**
   * `whilePruning`: stopped before training, nothing saved; `checkpointed`: the run has a
   * checkpoint to resume from when the sweep runs again (without one it starts over).
   */
  | { type: 'interrupted'; run: PlannedRun; seconds: number; whilePruning: boolean; checkpointed: boolean };

export interface ChildCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface SweepOptions {
  runsDir: string;
  prefix?: string;
  /** In-process mode: runs configs one after another in this process. */
  runOne?: RunOne;
  /**
   * Throws when a run cannot start (bad model, missing data; checkRunnable): it then fails before
   * its directory exists. Given the runs directory, which a relative transfer.from names a run of.
   */
  check?: (config: ExperimentConfig, runsDir: string) => void;
  /** Child-process mode (when runOne is not given): this many runs at once. Default 1. */
  processes?: number;
  /** The child process for one run. Default: this package's CLI, `train --config <runDir>/config.json --runs-dir <runsDir>`. */
  childCommand?: (run: PlannedRun, runsDir: string, prefix: string) => ChildCommand;
  onEvent?: (event: SweepEvent) => void;
  /**
   * Stops the sweep: no run starts after it aborts, and runs in child processes get its reason
   * (a signal's name, the CLI's) as a signal; each checkpoints and stops (an 'interrupted' event).
   * In-process runs take it through runOne (the CLI passes it on to trainFromConfig).
   */
  signal?: AbortSignal;
}

export interface SweepResult {
  total: number;
  skipped: number;
  /** Runs left to the live process (another sweep, another host) that was training them. */
  busy: number;
  succeeded: number;
  /**
   * In the order they failed. `error` is `<code>: <message>` when the error had a code; `code` is
   * that code. A run in a child process has them from its own error file; one that wrote none (it
   * was killed, or failed before its handler) has no code, its error how it ended and the end of
   * its train.log.
   */
  failed: { runDir: string; error: string; code?: ErrorCode }[];
  /** Runs stopped by the signal, to resume by running the sweep again. */
  interrupted: number;
}

/** A list of configs, each checked (a sweep must not fail halfway on a config it could have refused at once). */
function configsArg(configs: unknown): void {
  list('configs', configs, 'array of experiment configs', (c) => typeof c === 'object' && c !== null);
  (configs as unknown[]).forEach((c, i) => configArg(`configs[${i}]`, c));
}

/**
 * Every config with its transfer source resolved against runsDir (resolveTransfer), before any
 * run directory exists; one ERR_CONFIG lists every source that cannot be found.
 */
export function resolveTransfers(configs: readonly ExperimentConfig[], runsDir: string): ExperimentConfig[] {
  configsArg(configs);
  str('runsDir', runsDir);
  const issues = new Map<string, Issue>();
  const out = configs.map((config) => {
    try {
      return resolveTransfer(config, runsDir);
    } catch (e) {
      if (!(e instanceof IssuesError)) throw e;
      for (const i of e.issues) issues.set(`${i.path}\u0000${i.message}`, i);
      return config;
    }
  });
  if (issues.size > 0) throw new IssuesError('ERR_CONFIG', `Cannot resolve the transfer sources against the runs directory ${runsDir}`, [...issues.values()]);
  return out;
}

/**
 * Where each config would run and whether it is already finished (what `sweep --dry-run` prints).
 * Transfer sources are resolved first (resolveTransfers), so a missing one is refused here and
 * each planned config carries its source's identity.
 */
export function planSweep(configs: readonly ExperimentConfig[], runsDir: string, prefix: string = DEFAULT_RUN_PREFIX): PlannedRun[] {
  folderArg('runsDir', runsDir);
  return resolveTransfers(configs, runsDir).map((config, index) => {
    const runDir = runDirFor(runsDir, config, prefix);
    return { index, config, runDir, status: fs.existsSync(runDir) ? runStatus(runDir) : 'new' };
  });
}

/** The CLI file next to this package's build (dist/cli.js) or source (src/cli.ts, run through tsx). */
export function defaultChildCommand(run: PlannedRun, runsDir: string, prefix: string): ChildCommand {
  const ext = path.extname(__filename);
  const cli = path.join(__dirname, '..', `cli${ext}`);
  // From source (tsx, jest) the child needs tsx's loader, named by absolute URL (cwd may be anywhere).
  const pre = ext === '.ts' ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  return {
    command: process.execPath,
    args: [...pre, cli, 'train', '--config', runPaths(run.runDir).config, '--runs-dir', runsDir, '--prefix', prefix],
  };
}

/** How much of a child's log is read for its last lines: a long run's log may be gigabytes. */
const LOG_TAIL_BYTES = 64 * 1024;

/**
 * The last lines a child printed, without its JSON log lines (its run's log.jsonl keeps those): a
 * failed `train` ends with its error line, which a few kilobytes of them would bury.
 */
function tail(file: string, lines = 5): string {
  try {
    const text = readTail(file, LOG_TAIL_BYTES).trimEnd().split('\n').filter((l) => !l.startsWith('{"level":'));
    return text.slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/**
 * With `stop`, the child leads its own process group (as torchrun's workers do), so that a
 * terminal's Ctrl-C reaches the sweep alone, which forwards it once. Without, it stays in the
 * sweep's group: a caller that forwards nothing must not leave children training on after a
 * Ctrl-C ends it.
 */
function runChild(cmd: ChildCommand, logFile: string, errorFile: string, stop: AbortSignal | undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    // Opening a FIFO put there for writing would wait for a reader, and the sweep with it.
    const log = openAppendable(logFile, "a run's log");
    // The launcher's error file (torchrun's variable) is the sweep's own: each child writing its
    // run's error there would make the last child to fail the worker's recorded cause, whatever
    // the sweep itself then did. Each child gets one of its own, as a launcher's workers do.
    const env = { ...(cmd.env ?? process.env), [ERROR_FILE_ENV]: errorFile };
    const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', log, log], env: stop ? { ...env, [SUPERVISED_ENV]: '1', [SUPERVISOR_PID_ENV]: String(process.pid) } : env, detached: stop !== undefined });
    const forward = (): void => {
      try {
        process.kill(-child.pid!, forwardedSignal(stop!));
      } catch {
        // exited in between
      }
    };
    if (stop?.aborted) forward();
    else stop?.addEventListener('abort', forward, { once: true });
    const end = (): void => {
      stop?.removeEventListener('abort', forward);
      fs.closeSync(log);
    };
    child.on('error', (e) => { end(); reject(e); });
    child.on('close', (code, signal) => { end(); resolve({ code, signal }); });
  });
}

/**
 * A failed child's error from the error file it wrote, as in-process runs report theirs: `<code>:
 * <message>` with its code (one of ERROR_CODES: the file is the child's, not trusted).
 */
function childError(errorFile: string): { error: string; code?: ErrorCode } | undefined {
  const data = readErrorFile(errorFile);
  if (!data) return undefined;
  const error = data.code === undefined ? data.message : `${data.code}: ${data.message}`;
  return isErrorCode(data.code) ? { error, code: data.code } : { error };
}

/** The signal the children get: the stop's reason when it names one (the CLI's), else SIGTERM. */
function forwardedSignal(stop: AbortSignal): NodeJS.Signals {
  const reason = stop.reason;
  return typeof reason === 'string' && reason.startsWith('SIG') ? (reason as NodeJS.Signals) : 'SIGTERM';
}

/**
 * Whether the sweep's stop ended a child: `train` stops at a checkpoint and exits with the shell's
 * code of the signal, and one still starting (loading libtorch, its handlers not yet installed)
 * is ended by the signal itself, which a failure would misreport.
 */
function stoppedBy(code: number | null, signal: NodeJS.Signals | null, stop: AbortSignal | undefined): boolean {
  if (stop?.aborted !== true) return false;
  return signal !== null ? signal === forwardedSignal(stop) : code === signalExitCode(stop.reason) && code !== 1;
}

/**
 * Runs every config not yet finished. Failures do not stop the sweep: they are collected in the
 * result (and reported through onEvent), and the run can be retried by running the sweep again.
 */
export async function runSweep(configs: readonly ExperimentConfig[], options: SweepOptions): Promise<SweepResult> {
  obj('options', options, 'sweep options ({ runsDir, ... })');
  knownKeys('options', options, keysOf<SweepOptions>({
    runsDir: true, prefix: true, runOne: true, check: true, processes: true, childCommand: true, onEvent: true, signal: true,
  }));
  folderArg('options.runsDir', options.runsDir);
  const prefix = options.prefix ?? DEFAULT_RUN_PREFIX;
  const processes = int('processes', options.processes ?? 1, 1);
  for (const hook of ['runOne', 'check', 'childCommand', 'onEvent'] as const) {
    if (options[hook] !== undefined) func(`options.${hook}`, options[hook]);
  }
  if (options.runOne && processes > 1) throw new InvalidArgumentError('processes', '1 when runOne is given (in-process runs are sequential)', processes);
  const emit = options.onEvent ?? (() => undefined);
  const plan = planSweep(configs, options.runsDir, prefix);
  const result: SweepResult = { total: plan.length, skipped: 0, busy: 0, succeeded: 0, failed: [], interrupted: 0 };
  const stop = options.signal;
  const pending: PlannedRun[] = [];
  for (const run of plan) {
    if (run.status === 'finished') {
      result.skipped++;
      emit({ type: 'skip', run });
    } else {
      pending.push(run);
    }
  }

  const execute = async (run: PlannedRun): Promise<void> => {
    const leaveTo = (holder: LockHolder): void => {
      result.busy++;
      emit({ type: 'busy', run, holder });
    };
    const before = liveHolder(run.runDir);
    if (before) return leaveTo(before);
    const started = Date.now();
    emit({ type: 'start', run });
    let error: string | undefined;
    let code: ErrorCode | undefined;
    let interrupted = false;
    try {
      options.check?.(run.config, options.runsDir);
      checkRunIntact(run.runDir);
      createRunDir(options.runsDir, run.config, { prefix });
      if (options.runOne) {
        await options.runOne(run.config, run.runDir);
      } else {
        const cmd = (options.childCommand ?? defaultChildCommand)(run, options.runsDir, prefix);
        const logFile = runPaths(run.runDir).log;
        const errorFile = path.join(errorDir!, `run-${run.index}.json`);
        const exit = await runChild(cmd, logFile, errorFile, stop);
        interrupted = stoppedBy(exit.code, exit.signal, stop);
        if (exit.code !== 0 && !interrupted) {
          const recorded = childError(errorFile);
          if (recorded) ({ error, code } = recorded);
          else {
            const last = tail(logFile);
            error = `${exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`}${last ? `: ${last}` : ''}`;
          }
        }
      }
      if (!error && !interrupted && !isFinished(run.runDir)) error = `finished without writing ${path.basename(runPaths(run.runDir).final)}`;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      interrupted = err.code === 'ERR_INTERRUPTED';
      if (!interrupted) error = `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`;
      if (e instanceof ToolkitError) code = e.code;
    }
    const seconds = (Date.now() - started) / 1000;
    if (interrupted) {
      result.interrupted++;
      emit({ type: 'interrupted', run, seconds, whilePruning: stoppedWhilePruning(run.runDir), checkpointed: runHasCheckpoint(run.runDir) });
      return;
    }
    // Another process took the lock between the check above and this run's start (a lock of
    // this process's own is one its trainer failed to release: a failure like any other).
    const taker = error ? liveHolder(run.runDir, process.pid) : undefined;
    if (taker) {
      leaveTo(taker);
    } else if (error) {
      result.failed.push({ runDir: run.runDir, error, ...(code ? { code } : {}) });
      emit({ type: 'fail', run, seconds, error, ...(code ? { code } : {}) });
    } else {
      result.succeeded++;
      emit({ type: 'done', run, seconds });
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pending.length && !stop?.aborted) await execute(pending[next++]);
  };
  // The children's error files (one a run), as src/distributed/launch.ts makes its workers'.
  const errorDir = options.runOne ? undefined : makeErrorDir();
  try {
    await Promise.all(Array.from({ length: Math.min(options.runOne ? 1 : processes, Math.max(pending.length, 1)) }, worker));
  } finally {
    if (errorDir) fs.rmSync(errorDir, { recursive: true, force: true });
  }
  return result;
}
