/**
 * The only module that knows file names (open_lth's foundations/paths.py). Everything else asks
 * for a path here, so a layout change is a one-file change.
 *
 * <runsDir>/<prefix>_<md5 of non-default config>/
 *   config.json              the full validated config (defaults filled in)
 *   metrics.jsonl            one MetricsRow per epoch
 *   checkpoint.safetensors   last checkpoint (tensors + JSON metadata)
 *   checkpoint.prev.safetensors  the one before it: resume falls back to it when the last is damaged
 *   checkpoint.epoch-<E>.safetensors  the checkpoint after epoch E, kept for good (config `checkpoint`)
 *   checkpoint.json          optional sidecar for checkpoint metadata
 *   mask-report.json         per-layer densities after pruning
 *   transfer.json            a transfer run's source: its directory, config hash and checkpoint (sha256)
 *   final.json               FinalSummary; present only when the run finished
 *   interrupted.json         where a signal stopped the run ({ epoch, step, batch, reason, checkpoint }, or { epoch: 0, step: 0, reason, pruning: { round, rounds } } when it stopped while pruning at initialization); removed when it trains again
 *   failed.json              { code, message } of the error that stopped the run (no code: a bug), and after a failed
 *                            `--nproc` launch rootCause { rank, localRank, host, exitCode, code, message }: the worker that
 *                            failed first, added by node 0's launcher (experiments/root-cause.ts); removed when it trains again
 *   run.lock                 { pid, host, startedAt } of the process training the run, while it does
 *   train.log                stdout/stderr of a sweep's child process
 *   log.jsonl                the run's log lines (pino JSON), appended by every session
 */
import * as path from 'node:path';
import { systemErrorText } from '../atomic';
import { statIfAny } from '../bounded-read';
import { InvalidArgumentError } from '../errors';
import { obj, str } from '../validate';
import { configHash } from './hash';
import type { ExperimentConfig } from './schema';

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  checkpoint: 'checkpoint.safetensors',
  checkpointPrev: 'checkpoint.prev.safetensors',
  checkpointMeta: 'checkpoint.json',
  maskReport: 'mask-report.json',
  transfer: 'transfer.json',
  final: 'final.json',
  interrupted: 'interrupted.json',
  failed: 'failed.json',
  lock: 'run.lock',
  log: 'train.log',
  runLog: 'log.jsonl',
} as const;

export type RunFile = keyof typeof RUN_FILES;
export type RunPaths = { readonly dir: string } & { readonly [K in RunFile]: string };

export const REPORT_FILES = {
  markdown: 'report.md',
  csv: 'accuracy.csv',
  json: 'report.json',
} as const;

/** Default prefix of run directories (open_lth's 'train_'). */
export const DEFAULT_RUN_PREFIX = 'train';

/** Default root of run directories, relative to the working directory. */
export const DEFAULT_RUNS_DIR = 'runs';

const KEPT_CHECKPOINT = /^checkpoint\.epoch-([1-9][0-9]*)\.safetensors$/;

/** The checkpoint kept after `epoch` (config `checkpoint.keepEpochs` / `keepEvery`), beside the rolling two. */
export function keptCheckpointPath(runDir: string, epoch: number): string {
  str('runDir', runDir);
  if (!Number.isInteger(epoch) || epoch < 1) throw new InvalidArgumentError('epoch', 'integer >= 1', epoch);
  return path.join(runDir, `checkpoint.epoch-${epoch}.safetensors`);
}

/** The epoch of a kept checkpoint's file name, or undefined for any other name. */
export function keptCheckpointEpoch(fileName: string): number | undefined {
  const m = KEPT_CHECKPOINT.exec(str('fileName', fileName));
  return m ? Number(m[1]) : undefined;
}

/**
 * A transfer source's directory: `from` when absolute, else resolved against the runs directory
 * that holds the run, so a sweep's runs can name their sibling 'train_<hash>' and move with it.
 */
export function transferSourceDir(from: string, runsDir: string): string {
  str('from', from);
  str('runsDir', runsDir);
  return path.isAbsolute(from) ? path.normalize(from) : path.resolve(runsDir, from);
}

/** `<prefix>_<hash>`. */
export function runDirName(config: ExperimentConfig, prefix: string = DEFAULT_RUN_PREFIX): string {
  return `${prefix}_${configHash(config)}`;
}

/** What a run-directory prefix may hold: it must stay one folder name (no separators, no '..'). */
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

export function runDirFor(runsDir: string, config: ExperimentConfig, prefix?: string): string {
  str('runsDir', runsDir);
  obj('config', config, 'experiment config');
  if (prefix !== undefined && !PREFIX.test(str('prefix', prefix))) throw new InvalidArgumentError('prefix', 'letters, digits, dots and dashes, starting with a letter or digit', prefix);
  return path.join(runsDir, runDirName(config, prefix));
}

/**
 * A folder argument (a runs directory, a report's folder) that may not exist yet: a file there is
 * refused naming the argument, before anything is read from or written under it (it was a bare
 * ENOTDIR from the first file inside, or a sweep of runs each failing to make its directory).
 */
export function folderArg(name: string, dir: unknown): string {
  str(name, dir);
  const st = statIfAny(dir as string, (e) => new InvalidArgumentError(name, `a folder that can be read (${systemErrorText(e)})`, dir));
  if (st !== undefined && !st.isDirectory()) throw new InvalidArgumentError(name, 'a folder, or a path where one can be made (this is a file)', dir);
  return dir as string;
}

/** True when a directory name looks like a run directory (`<prefix>_<32 hex>`). */
export function isRunDirName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9.-]*_[0-9a-f]{32}$/.test(str('name', name));
}

export function runPaths(runDir: string): RunPaths {
  str('runDir', runDir);
  const out: Record<string, string> = { dir: runDir };
  for (const [k, f] of Object.entries(RUN_FILES)) out[k] = path.join(runDir, f);
  return out as RunPaths;
}

/** A slug safe in file names (report plots per setting). */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'all';
}

export interface ReportPaths {
  dir: string;
  markdown: string;
  csv: string;
  json: string;
  testAccuracyPlot(setting: string): string;
  signFlipsPlot(setting: string): string;
  perLayerFlipsPlot(setting: string): string;
}

export function reportPaths(outDir: string): ReportPaths {
  return {
    dir: outDir,
    markdown: path.join(outDir, REPORT_FILES.markdown),
    csv: path.join(outDir, REPORT_FILES.csv),
    json: path.join(outDir, REPORT_FILES.json),
    testAccuracyPlot: (s) => path.join(outDir, `test-accuracy_${slug(s)}.svg`),
    signFlipsPlot: (s) => path.join(outDir, `sign-flips_${slug(s)}.svg`),
    perLayerFlipsPlot: (s) => path.join(outDir, `sign-flips-per-layer_${slug(s)}.svg`),
  };
}

export { tempPathFor } from '../atomic';
