/**
 * Which runs a runs directory holds, and in what state. One test tells a damaged run (readRun):
 * `list runs` shows it as corrupt with its problems, `report` leaves it out of the tables as
 * corrupt, and `train` and sweeps refuse it (checkRunIntact), so no command calls a run finished,
 * or trains on, what another calls corrupt.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecordBounded } from '../bounded-read';
import { IssuesError, type Issue } from '../errors';
import { logger } from '../logger';
import { boundText, errorLine, oneLineText, printableText, quoteText } from '../quote';
import { configHash } from './hash';
import { holderAlive, readLock, type LockHolder } from './lock';
import type { FinalSummary, MetricsRow } from './metrics';
import { folderArg, isRunDirName, RUN_FILES, runPaths } from './paths';
import { isFinished, readFinal, readMetrics, runHasCheckpoint } from './runs';
import { parseRecordJson } from './record-json';
import { getDotted, isUnregisteredName, safeParseConfig, type ExperimentConfig } from './schema';

/** A run directory's record files, read and checked. */
export interface RunRecords {
  config: ExperimentConfig;
  metrics: MetricsRow[];
  /** Undefined while the run has not finished. */
  final: FinalSummary | undefined;
}

/** One problem of a run directory: the record file at fault, and what is wrong with it. */
interface Problem {
  file: string;
  code: string;
  text: string;
  /** A config name the registries lack, quoted: its fix is the module that registers it, not another file. */
  unregistered?: string;
}

/**
 * A run's config naming what this process has not registered: most often a name a module of the
 * user's registered when the run was trained. A run directory does not record its modules (no
 * config field names them), so the fix names the flag, not the module.
 */
const UNREGISTERED_NAME_HINT = 'if a module of yours registers it, pass --import with that module, as when the run was trained (docs/extending.md)';

/** The run's config, or undefined with its problems added. */
function configProblems(runDir: string, problems: Problem[]): ExperimentConfig | undefined {
  const file = RUN_FILES.config;
  if (!fs.existsSync(runPaths(runDir).config)) {
    problems.push({ file, code: 'missing_file', text: `no ${file} (the run was never set up, or it was deleted)` });
    return undefined;
  }
  let text: string;
  try {
    text = readRecordBounded(runPaths(runDir).config);
  } catch (e) {
    problems.push({ file, code: 'unreadable', text: `${file} cannot be read (${(e as Error).message})` });
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    problems.push({ file, code: 'invalid_json', text: `${file} is not valid JSON (${(e as Error).message})` });
    return undefined;
  }
  const res = safeParseConfig(raw);
  if (res.success) return res.data;
  for (const i of res.issues) {
    const text = `${file}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
    // The schema's registry names are strings: a name of another type is an invalid_type issue.
    if (isUnregisteredName(i)) problems.push({ file, code: i.code, text: `${text}; ${UNREGISTERED_NAME_HINT}`, unregistered: printableText(quoteText(getDotted(raw, i.path) as string)) });
    else problems.push({ file, code: i.code, text });
  }
  return undefined;
}

/** What read() returns, or undefined with the file's problems added, one per issue of its error. */
function recordProblems<T>(file: string, read: () => T, problems: Problem[]): T | undefined {
  try {
    return read();
  } catch (e) {
    const issues = e instanceof IssuesError ? e.issues : [{ code: 'unreadable', path: '', message: (e as Error).message }];
    for (const i of issues) {
      const text = i.code === 'unreadable' ? `${file} cannot be read (${i.message})` : `${file}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
      problems.push({ file, code: i.code, text });
    }
    return undefined;
  }
}

function readRunProblems(runDir: string): RunRecords | Problem[] {
  const problems: Problem[] = [];
  const config = configProblems(runDir, problems);
  const metrics = recordProblems(RUN_FILES.metrics, () => readMetrics(runDir), problems);
  const final = recordProblems(RUN_FILES.final, () => readFinal(runDir), problems);
  // A parser's message quotes the file, whatever bytes it holds: `list runs` prints these as they are.
  return problems.length > 0 ? problems.map((p) => ({ ...p, text: printableText(p.text) })) : { config: config!, metrics: metrics!, final };
}

/**
 * The record files of a run directory (config.json, metrics.jsonl, final.json) when they all
 * read, else its problems, one line each, naming the file: the one test of a damaged run.
 */
export function readRun(runDir: string): RunRecords | { problems: string[] } {
  const r = readRunProblems(runDir);
  return Array.isArray(r) ? { problems: r.map((p) => p.text) } : r;
}

const REMEDIES: Record<string, string> = {
  [RUN_FILES.config]: `restore ${RUN_FILES.config}`,
  [RUN_FILES.metrics]: `fix or remove the lines named in ${RUN_FILES.metrics}`,
  [RUN_FILES.final]: `remove ${RUN_FILES.final}: train then evaluates the last checkpoint and writes it again`,
};

/**
 * Refuses to train, or call finished, a run directory whose record files do not read: ERR_CONFIG
 * naming each problem and what to do. Its files are left as they are (a damaged final.json or
 * metrics line may still hold what a person can recover). A directory without config.json is not
 * refused: training sets it up. A config whose only problem is a name this process has not
 * registered is not damaged (deleting the run would lose it): the fix is the module that registers
 * the name. `train` and sweeps parse the config that names the run first, so there such a name
 * means config.json was edited since, whose fix is named too.
 */
export function checkRunIntact(runDir: string): void {
  if (!fs.existsSync(runPaths(runDir).config)) return;
  const r = readRunProblems(runDir);
  if (!Array.isArray(r)) return;
  const issues = r.map((p) => ({ code: p.code, path: '', message: p.text }));
  const names = [...new Set(r.flatMap((p) => (p.unregistered === undefined ? [] : [p.unregistered])))];
  const importFix = `pass --import with the module of yours that registers ${names.join(', ')}, as when the run was trained (docs/extending.md), or restore ${RUN_FILES.config} if it was edited since`;
  const damaged = r.filter((p) => p.unregistered === undefined);
  if (damaged.length === 0) throw new IssuesError('ERR_CONFIG', `Run directory ${runDir} names a dataset, model or pruner this process has not registered (${importFix})`, issues);
  const remedies = [...(names.length > 0 ? [importFix] : []), ...new Set(damaged.map((p) => REMEDIES[p.file]))];
  throw new IssuesError('ERR_CONFIG', `Run directory ${runDir} is damaged (${remedies.join('; ')}; or delete the directory to train the run from scratch)`, issues);
}

/** corrupt: its record files do not read (readRun); finished: it has final.json; started: a checkpoint or metrics. */
export type RunStatus = 'finished' | 'started' | 'new' | 'corrupt';

export function runStatus(runDir: string): RunStatus {
  if (fs.existsSync(runPaths(runDir).config) && Array.isArray(readRunProblems(runDir))) return 'corrupt';
  return statusOfReadable(runDir);
}

function statusOfReadable(runDir: string): RunStatus {
  if (isFinished(runDir)) return 'finished';
  return runHasCheckpoint(runDir) || fs.existsSync(runPaths(runDir).metrics) ? 'started' : 'new';
}

/**
 * new: nothing ran yet; running: its lock's process is alive; interrupted: a signal stopped it at
 * a checkpoint (interrupted.json), the same command resumes it; failed: it stopped before
 * final.json otherwise (an error, recorded in failed.json, a crash, a kill), before its first
 * epoch too.
 */
export type RunState = 'new' | 'running' | 'finished' | 'interrupted' | 'failed';

/**
 * The state of a readable run from its files and its lock (and, when running, the process holding
 * it); `reason` is a failed run's recorded error, `<code>: <message>` as the CLI printed it.
 */
export function runState(runDir: string): { state: RunState; holder?: LockHolder; reason?: string } {
  if (isFinished(runDir)) return { state: 'finished' };
  const holder = readLock(runDir);
  if (holder && holderAlive(holder)) return { state: 'running', holder };
  if (fs.existsSync(runPaths(runDir).interrupted)) return { state: 'interrupted' };
  if (holder) return { state: 'failed', holder };
  const reason = failureReason(runDir);
  if (reason !== undefined) return { state: 'failed', reason };
  return { state: statusOfReadable(runDir) === 'started' ? 'failed' : 'new' };
}

/** An error of failed.json as `list runs` prints it: one printable line of at most MAX_QUOTED_CHARS characters and its length. */
const reasonLine = (code: unknown, message: unknown): string => boundText(errorLine(code, message));

/**
 * failed.json as one line; a record that does not read still says the run failed. With a
 * `--nproc` launcher's rootCause (root-cause.ts), the rank that failed first leads, then rank 0's
 * own error. Each part is bounded: the file may have been edited by hand, a message megabytes long.
 */
function failureReason(runDir: string): string | undefined {
  const file = runPaths(runDir).failed;
  if (!fs.existsSync(file)) return undefined;
  try {
    const { code, message, rootCause } = parseRecordJson(readRecordBounded(file)) as { code?: unknown; message?: unknown; rootCause?: { rank?: unknown; code?: unknown; message?: unknown } };
    const own = message === undefined ? undefined : reasonLine(code, message);
    if (typeof rootCause !== 'object' || rootCause === null || (rootCause.rank === 0 && own !== undefined)) return own ?? reasonLine(code, message);
    const first = `rank ${boundText(printableText(String(rootCause.rank)))} failed first: ${reasonLine(rootCause.code, rootCause.message)}`;
    return own === undefined ? first : `${first}; rank 0: ${own}`;
  } catch (e) {
    return `${RUN_FILES.failed} does not read (${boundText(printableText(oneLineText((e as Error).message)))})`;
  }
}

/**
 * The live process, other than `ownPid` on this host, whose lock says it is training the run: the
 * one answer to "is another process training this run now?", which a sweep asks before leaving a
 * run to that process and `sweep --dry-run` before showing it as running. Without `ownPid` this
 * process counts as another (a dry run trains nothing itself).
 */
export function liveHolder(runDir: string, ownPid?: number): LockHolder | undefined {
  const { state, holder } = runState(runDir);
  if (state !== 'running' || !holder) return undefined;
  return holder.host === os.hostname() && holder.pid === ownPid ? undefined : holder;
}

export interface RunInfo extends RunRecords {
  dir: string;
  name: string;
  hash: string;
  status: RunStatus;
  /**
   * What `list runs` prints (runState): status alone calls an interrupted run and a failed one
   * both 'started' (or 'new' when neither got to a checkpoint). Always set by scanRuns, listRuns
   * and loadRuns; optional so that records built by hand for the report functions need none.
   */
  state?: RunState;
  /** A failed run's recorded error (runState). */
  reason?: string;
  /** The lock's holder: the live process of a running run, or the dead one of a failed run. */
  holder?: LockHolder;
}

export interface ListRunsOptions {
  /** Throw one IssuesError naming every unreadable run directory instead of skipping it (logged). */
  strict?: boolean;
}

/** A directory named like a run whose config.json, metrics.jsonl or final.json cannot be read. */
export interface CorruptRun {
  dir: string;
  name: string;
  /** What is wrong, one line per problem, naming the file ("config.json: dataset: Required"). */
  problems: string[];
}

export interface RunScan {
  runs: RunInfo[];
  corrupt: CorruptRun[];
}

/**
 * Every directory under runsDir (one level) named like a run, sorted by name: the readable runs
 * with their records, and the corrupt ones (readRun) with their problems; `issues` has these as
 * issues, their path the run's name. A missing runsDir → none of either.
 */
export function scanRuns(runsDir: string): RunScan & { issues: Issue[] } {
  const out: RunScan & { issues: Issue[] } = { runs: [], corrupt: [], issues: [] };
  if (!fs.existsSync(folderArg('runsDir', runsDir))) return out;
  for (const entry of fs.readdirSync(runsDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || !isRunDirName(entry.name)) continue;
    const dir = path.join(runsDir, entry.name);
    const r = readRunProblems(dir);
    if (!Array.isArray(r)) {
      out.runs.push({ dir, name: entry.name, hash: configHash(r.config), status: statusOfReadable(dir), ...runState(dir), ...r });
      continue;
    }
    out.issues.push(...r.map((p) => ({ code: p.code, path: entry.name, message: p.text })));
    out.corrupt.push({ dir, name: entry.name, problems: r.map((p) => p.text) });
  }
  return out;
}

/** Every readable run directory under runsDir (one level), sorted by name. A missing runsDir → []. */
export function listRuns(runsDir: string, options: ListRunsOptions = {}): RunInfo[] {
  const { runs, issues } = scanRuns(runsDir);
  if (issues.length > 0) {
    if (options.strict) throw new IssuesError('ERR_CONFIG', `Unreadable run directories in ${runsDir}`, issues);
    logger().warn({ runsDir, issues }, 'skipped unreadable run directories');
  }
  return runs;
}
