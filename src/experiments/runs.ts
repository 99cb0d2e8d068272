/**
 * Run directories: create, write, read (run-scan.ts tells damaged runs apart and lists them). A run
 * directory holds everything about one run; reports, sweeps and resumption read it back from disk
 * and nothing else (architecture.md decision 9).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IssuesError, type Issue } from '../errors';
import { canonicalJson, configHash, nonDefaultFields } from './hash';
import { FinalSummarySchema, MetricsRowSchema, type FinalSummary, type MetricsRow } from './metrics';
import { parseRecordJson, recordJson } from './record-json';
import { readRecordBounded } from '../bounded-read';
import { appendFileDurable, writeFileAtomic, writeJsonAtomic } from '../atomic';
import { options as optionsArg, str } from '../validate';
import { keptCheckpointEpoch, runDirFor, runPaths, transferSourceDir, type RunPaths } from './paths';
import { configArg, flattenDotted, formatPath, getDotted, parseConfig, type ExperimentConfig } from './schema';
import type { TransferRecord } from './transfer';

function readJson(file: string): unknown {
  return JSON.parse(readRecordBounded(file));
}

export interface RunDir {
  dir: string;
  paths: RunPaths;
  config: ExperimentConfig;
  /** True when this call created config.json; false when the run directory already existed. */
  created: boolean;
}

type TransferRef = { from: string; sourceHash?: string };

/** The run that transfer.from names is missing: ERR_CONFIG on 'transfer.from', naming the directory it resolved to. */
export function missingTransferSource(t: TransferRef, dir: string, runsDir: string): IssuesError {
  return new IssuesError('ERR_CONFIG', `Cannot transfer from the run ${dir}`, [
    { code: 'missing_source', path: 'transfer.from', message: `Expected a run directory (with ${path.basename(runPaths(dir).config)}) at ${dir} (transfer.from '${t.from}' resolved against ${path.resolve(runsDir)})` },
  ]);
}

/**
 * The directory that transfer.from names (relative to runsDir, or absolute) and the config of the
 * run there, undefined when it has no config.json. Refused with ERR_CONFIG (source_changed) when
 * that run's hash is not the sourceHash given (another run now sits at that path).
 */
export function readTransferSource(t: TransferRef, runsDir: string): { dir: string; config: ExperimentConfig | undefined } {
  const dir = transferSourceDir(t.from, runsDir);
  if (!fs.existsSync(runPaths(dir).config)) return { dir, config: undefined };
  const config = readConfig(dir);
  const hash = configHash(config);
  if (t.sourceHash !== undefined && t.sourceHash !== hash) {
    throw new IssuesError('ERR_CONFIG', `Cannot transfer from the run ${dir}`, [
      { code: 'source_changed', path: 'transfer.sourceHash', message: `Expected the source run with config hash ${t.sourceHash}, but the run at ${dir} hashes to ${hash}` },
    ]);
  }
  return { dir, config };
}

/**
 * The config with its transfer section's identity filled in: `transfer.sourceHash`, the config
 * hash of the source run that `transfer.from` names (readTransferSource), which the run's hash then
 * uses instead of the path. Configs without a transfer section come back as given. A source
 * without config.json is refused (missingTransferSource) unless sourceHash is already there (a run
 * resumed after its source was removed: its checkpoint holds the transferred start).
 */
export function resolveTransfer(config: ExperimentConfig, runsDir: string): ExperimentConfig {
  configArg('config', config);
  const t = config.transfer;
  if (t === undefined) return config;
  const source = readTransferSource(t, runsDir);
  if (!source.config) {
    if (t.sourceHash !== undefined) return config;
    throw missingTransferSource(t, source.dir, runsDir);
  }
  return { ...config, transfer: { ...t, sourceHash: configHash(source.config) } };
}

/**
 * A run directory whose config.json is not the config given, field by field, with what to do: a
 * config.json edited by hand is restored; after a default changed in the code, the run trained
 * with config.json's values, which now hash to another directory, so it goes on there.
 */
function hashMismatch(dir: string, stored: ExperimentConfig, config: ExperimentConfig, storedDir: string): IssuesError {
  const leaves = (c: ExperimentConfig) => Object.keys(flattenDotted(nonDefaultFields(c)));
  const fields = [...new Set([...leaves(stored), ...leaves(config)])].sort()
    .filter((p) => canonicalJson(getDotted(stored, p) ?? null) !== canonicalJson(getDotted(config, p) ?? null));
  const show = (v: unknown) => canonicalJson(v ?? null);
  const file = runPaths(dir).config;
  return new IssuesError('ERR_CONFIG', `Run directory ${dir} holds a different config: ${file} hashes to ${configHash(stored)}, the config given to ${configHash(config)}. `
    + `If ${path.basename(file)} was edited, restore these fields; if their defaults changed since the run started, the run trained with ${path.basename(file)}'s values: `
    + `to go on with it, move the directory to ${storedDir} and train with --config ${runPaths(storedDir).config}`,
  fields.map((p) => ({ code: 'hash_mismatch', path: p, message: `${show(getDotted(stored, p))} in ${path.basename(file)}, ${show(getDotted(config, p))} in the config given` })));
}

/**
 * Creates (or reopens) the run directory of a config: `<runsDir>/<prefix>_<hash>/config.json`.
 * Reopening checks that the stored config hashes the same (it may differ in defaults that were
 * added later, or in execution-only fields such as device); config.json is then rewritten with the
 * current resolution of defaults. A transfer section is resolved first (resolveTransfer), so the
 * directory is named by the source's identity and config.json records it.
 */
export function createRunDir(runsDir: string, config: ExperimentConfig, options: { prefix?: string } = {}): RunDir {
  configArg('config', config);
  str('runsDir', runsDir);
  config = resolveTransfer(config, runsDir);
  const dir = runDirFor(runsDir, config, optionsArg<{ prefix?: string }>('options', options).prefix);
  const paths = runPaths(dir);
  let created = true;
  if (fs.existsSync(paths.config)) {
    const stored = readConfig(dir);
    if (configHash(stored) !== configHash(config)) throw hashMismatch(dir, stored, config, runDirFor(runsDir, stored, options.prefix));
    created = false;
  }
  writeJsonAtomic(paths.config, config);
  return { dir, paths, config, created };
}

/** The validated config of a run directory (defaults added since it was written are filled in). */
export function readConfig(runDir: string): ExperimentConfig {
  const file = runPaths(runDir).config;
  let raw: unknown;
  try {
    raw = readJson(file);
  } catch (e) {
    throw new IssuesError('ERR_CONFIG', `Cannot read ${file}`, [{ code: 'unreadable', path: '', message: (e as Error).message }]);
  }
  return parseConfig(raw, `in ${file}`);
}

/**
 * Appends one metrics row (one JSON line) and fsyncs it: the epoch's checkpoint, written next, is
 * fsync'd too, and a power loss must not keep that checkpoint but lose the row, which the resume
 * would then skip. One small write per epoch, whole or not at all (appendFileDurable): a row cut
 * short by a full disk would have the next session's first row glued to it, a bad line in the
 * middle of the file that makes the run corrupt. readMetrics skips a torn last line.
 */
export function appendMetrics(runDir: string, row: MetricsRow): void {
  appendFileDurable(runPaths(runDir).metrics, `${recordJson(row)}\n`, 'a run record');
}

/**
 * The metrics rows of a run, in file order. A torn (unparsable) LAST line is skipped; any other
 * bad line is an error naming the line. Missing file → []. A row is about 3 KB with ResNet-50's
 * per-layer sign flips, and about 7 KB with a Sign-In run's per-layer β as well (ResNet-20 measured
 * 73 bytes a layer for both β maps), so a 90-epoch ImageNet run writes under 700 KB, far under
 * readRecordBounded's limit.
 */
export function readMetrics(runDir: string): MetricsRow[] {
  const file = runPaths(runDir).metrics;
  if (!fs.existsSync(file)) return [];
  const lines = readRecordBounded(file).split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const rows: MetricsRow[] = [];
  const issues: Issue[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = parseRecordJson(line);
    } catch (e) {
      if (i === lines.length - 1) return; // torn last write
      issues.push({ code: 'invalid_json', path: `line ${i + 1}`, message: (e as Error).message });
      return;
    }
    const res = MetricsRowSchema.safeParse(raw);
    if (res.success) rows.push(res.data as MetricsRow);
    else for (const iss of res.error.issues) issues.push({ code: iss.code, path: `line ${i + 1}${iss.path.length ? `: ${formatPath(iss.path)}` : ''}`, message: iss.message });
  });
  if (issues.length > 0) throw new IssuesError('ERR_CONFIG', `Invalid metrics in ${file}`, issues);
  return rows;
}

/**
 * Keeps only the rows with epoch <= lastEpoch (atomically): a run resumed from a checkpoint at
 * lastEpoch drops rows written after that checkpoint, so epochs never appear twice. Returns the
 * epochs 1..lastEpoch that have no row: each row is on disk before its epoch's checkpoint, so
 * these were lost to the file being cut or removed.
 */
export function truncateMetrics(runDir: string, lastEpoch: number): number[] {
  const file = runPaths(runDir).metrics;
  const rows = readMetrics(runDir).filter((r) => r.epoch <= lastEpoch);
  if (fs.existsSync(file)) writeFileAtomic(file, rows.map((r) => `${recordJson(r)}\n`).join(''));
  const present = new Set(rows.map((r) => r.epoch));
  return Array.from({ length: lastEpoch }, (_, i) => i + 1).filter((e) => !present.has(e));
}

/** '1–3, 5' for [1, 2, 3, 5]: a run of a hundred lost epochs is one range, not a hundred numbers. */
export function epochRanges(epochs: readonly number[]): string {
  const ranges: [number, number][] = [];
  for (const e of epochs) {
    const last = ranges[ranges.length - 1];
    if (last && e === last[1] + 1) last[1] = e;
    else ranges.push([e, e]);
  }
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
}

/** Writes final.json (atomically), which marks the run finished. */
export function writeFinal(runDir: string, summary: FinalSummary): void {
  writeFileAtomic(runPaths(runDir).final, `${recordJson({ finishedAt: new Date().toISOString(), ...summary }, 2)}\n`);
}

/** final.json of a run, or undefined when the run has not finished. */
export function readFinal(runDir: string): FinalSummary | undefined {
  const file = runPaths(runDir).final;
  if (!fs.existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = parseRecordJson(readRecordBounded(file));
  } catch (e) {
    throw new IssuesError('ERR_CONFIG', `Cannot read ${file}`, [{ code: 'unreadable', path: '', message: (e as Error).message }]);
  }
  const res = FinalSummarySchema.safeParse(raw);
  if (!res.success) {
    throw new IssuesError('ERR_CONFIG', `Invalid ${file}`, res.error.issues.map((i) => ({ code: i.code, path: formatPath(i.path), message: i.message })));
  }
  return res.data as FinalSummary;
}

/** A run's transfer.json, or undefined when it has none or one without the fields read here. */
export function readTransferRecord(runDir: string): Partial<TransferRecord> | undefined {
  // Read for provenance and the report's sparsity, both of which have a fallback: an unreadable
  // record is no record.
  try {
    const raw: unknown = JSON.parse(readRecordBounded(runPaths(runDir).transfer));
    if (typeof raw !== 'object' || raw === null) return undefined;
    const r = raw as Partial<TransferRecord>;
    return typeof r.sourceSparsity === 'number' && r.sourceSparsity >= 0 && r.sourceSparsity < 1 ? r : { ...r, sourceSparsity: undefined };
  } catch {
    return undefined;
  }
}

/** A run is finished when its final.json exists. */
export function isFinished(runDir: string): boolean {
  return fs.existsSync(runPaths(runDir).final);
}

/** The checkpoints a run kept for good (checkpoint.epoch-<E>.safetensors), by epoch. */
export function keptCheckpoints(runDir: string): { epoch: number; file: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(str('runDir', runDir));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const epoch = keptCheckpointEpoch(name);
    return epoch === undefined ? [] : [{ epoch, file: path.join(runDir, name) }];
  }).sort((a, b) => a.epoch - b.epoch);
}

export function runHasCheckpoint(runDir: string): boolean {
  const p = runPaths(runDir);
  return fs.existsSync(p.checkpoint) || fs.existsSync(p.checkpointPrev);
}
