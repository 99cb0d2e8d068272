/**
 * The report's pairs along any config field (`report --pair-by <field>[=<baseline>]`): finished
 * runs that agree on every field but that one, the seed and the sparsity make a group; in each
 * group every other value of the field is paired with the baseline value, seed by seed and
 * sparsity by sparsity (pairedSummary). Runs pair directly, so the field may split tables
 * (optimizer.lr) or rows (pruning.scope) alike.
 *
 * What is wrong whatever the runs (a field the schema does not have, the seed or a sparsity, a
 * baseline the schema refuses) is an error; what the runs do not hold (no two runs differ in the
 * field only, no run has the baseline) is a line under the section, since the rest of the report
 * stands and a runs directory may still be filling.
 */
import { InvalidArgumentError } from '../errors';
import { func, int, list, obj, str } from '../validate';
import { canonicalJson, nonDefaultFields } from './hash';
import type { RunRecord } from './report';
import { disambiguate, groupBy, methodLabel, showValue } from './report-labels';
import { PAIRED_CAVEAT, pairedCell, pairedTable, type PairedCell } from './report-paired';
import { runRecordsArg } from './run-records-arg';
import { recordSparsity } from './run-sparsity';
import { flattenDotted, getDotted, HASH_EXCLUDED_PATHS, safeParseConfig, setDotted, UNSAFE_KEYS, unsafeKeyIssues, withoutDotted, type ExperimentConfig } from './schema';

/** One `--pair-by`: a dotted config field and, if given, the value the others are paired with. */
export interface PairBy {
  field: string;
  baseline?: unknown;
}

/** Where a group's baseline came from. */
export type BaselineSource = 'given' | 'default' | 'smallest';

export interface PairedByRow {
  /** What the group's runs share: dataset, model and the method of its baseline runs (and the fields that tell groups of one label apart). */
  group: string;
  /** The field's value in the baseline runs; null where the runs leave the field out. */
  baseline: unknown;
  baselineFrom: BaselineSource;
  /** The field's value in the runs paired with them. */
  value: unknown;
  /** value − baseline in final top-1 (percentage points), per sparsity over the seeds both ran. */
  cells: PairedCell[];
}

export interface PairedBy {
  field: string;
  /** The baseline asked for; absent: each group's default, else its smallest value. */
  baseline?: unknown;
  rows: PairedByRow[];
  /** Why nothing, or not every group, pairs: lines the report prints under the table. */
  notes: string[];
}

// Fields the pairs are made along: the seed pairs, the sparsity is a column.
const PAIRING_FIELDS = ['seed', 'pruning.sparsity', 'sparsify.sparsity'];

// A config every field is tried on: the schema names an unknown key, and refuses a bad value, at its path.
const PROBE = { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 };

const isObj = (x: unknown) => typeof x === 'object' && x !== null;
const under = (path: string, field: string) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);

/** A dotted field of the config schema to pair along, not the seed nor a sparsity (nor a section holding one). */
export function pairByFieldArg(name: string, field: unknown): string {
  const expected = 'a dotted field of the config schema other than seed and the sparsity, e.g. pruning.scope, signin.beta or optimizer.lr';
  const f = str(name, field);
  const keys = f.split('.');
  if (keys.some((k) => k.length === 0 || UNSAFE_KEYS.has(k)) || PAIRING_FIELDS.some((p) => under(p, f))) throw new InvalidArgumentError(name, expected, field);
  const res = safeParseConfig(setDotted(structuredClone(PROBE) as Record<string, unknown>, f, null));
  const unknown = res.success ? undefined : res.issues.find((i) => i.code === 'unrecognized_keys' && under(f, i.path));
  if (unknown) throw new InvalidArgumentError(name, `${expected} (${unknown.path}: ${unknown.message})`, field);
  // A path through a value that is not an object (signin.beta.x) has no field to pair along.
  const leaf = res.success ? undefined : res.issues.find((i) => i.code === 'invalid_type' && i.path !== f && under(f, i.path));
  if (leaf) throw new InvalidArgumentError(name, `${expected} (${leaf.path} holds a value, not fields: ${leaf.message})`, field);
  return f;
}

/** A baseline value of `field` (pairByFieldArg'ed) that the schema takes there; null stands for a field the runs leave out. */
export function pairByBaselineArg(name: string, field: string, baseline: unknown): unknown {
  const json = `a JSON value of ${field}`;
  if (unsafeKeyIssues(baseline).length) throw new InvalidArgumentError(name, json, baseline);
  try {
    canonicalJson(baseline);
  } catch {
    throw new InvalidArgumentError(name, json, baseline);
  }
  if (baseline === null) return baseline;
  const res = safeParseConfig(setDotted(structuredClone(PROBE) as Record<string, unknown>, field, baseline));
  // Cross-field checks ('custom') depend on the rest of a config, which the probe is not.
  const refused = res.success ? undefined : res.issues.find((i) => i.code !== 'custom' && under(i.path, field));
  if (refused) throw new InvalidArgumentError(name, `a value of ${field} the config schema takes (${refused.path}: ${refused.message})`, baseline);
  return baseline;
}

/**
 * `field` or `field=baseline`, as `--pair-by` takes it: the baseline is JSON where it parses
 * (`signin.beta=4`, `signin.layerBeta={"fc":4}`, `signin.layerBeta=null`), else the text (`pruning.scope=global`).
 */
export function parsePairBy(text: string, name = '--pair-by'): PairBy {
  str(name, text);
  const eq = text.indexOf('=');
  if (eq < 0) return { field: pairByFieldArg(name, text) };
  const field = pairByFieldArg(name, text.slice(0, eq));
  const raw = text.slice(eq + 1);
  let baseline: unknown;
  try {
    baseline = JSON.parse(raw);
  } catch {
    baseline = raw;
  }
  return { field, baseline: pairByBaselineArg(name, field, baseline) };
}

/** The field's value in a config; null where it is left out. */
function valueOf(config: ExperimentConfig, field: string): unknown {
  return getDotted(config, field) ?? null;
}

/** What a group's runs share: their non-default fields, flattened, but the field, the seed and the sparsity. */
function groupFields(config: ExperimentConfig, field: string): Record<string, unknown> {
  const flat = flattenDotted(nonDefaultFields(config));
  for (const k of Object.keys(flat)) if (under(k, field) || PAIRING_FIELDS.includes(k)) delete flat[k];
  return flat;
}

/**
 * What tells groups of one label apart, by their values with defaults filled in (a group at the
 * default lr reads `optimizer.lr=0.1`, not a missing field): the hashed fields but the field, the
 * seed and the sparsity, nested as in the config (disambiguate names a record such as signin.layerBeta once).
 */
function labelFields(config: ExperimentConfig, field: string): Record<string, unknown> {
  // A resolved transfer is named by its source's hash (as in nonDefaultFields), not by the path.
  const skip = [field, ...PAIRING_FIELDS, ...HASH_EXCLUDED_PATHS, ...(config.transfer?.sourceHash !== undefined ? ['transfer.from'] : [])];
  return skip.reduce<unknown>((c, p) => withoutDotted(c, p), config) as Record<string, unknown>;
}

/** The schema's default of the field in a run's context (pruning.scope's depends on the method): the run's config parsed without it. */
function defaultValue(config: ExperimentConfig, field: string): unknown {
  const res = safeParseConfig(withoutDotted(config, field));
  return res.success ? valueOf(res.data, field) : undefined;
}

/** Numbers ascending first, then the other values by their canonical JSON. */
function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number' || typeof b === 'number') return typeof a === 'number' ? -1 : 1;
  const x = canonicalJson(a);
  const y = canonicalJson(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Final top-1 (percent) by seed of the runs at one sparsity. */
function bySeed(runs: readonly RunRecord[], sparsity: number): Map<number, number> {
  return new Map(runs.filter((r) => recordSparsity(r) === sparsity).map((r) => [r.config.seed, r.final!.testAcc * 100]));
}

function pairCells(base: readonly RunRecord[], other: readonly RunRecord[]): PairedCell[] {
  const sparsities = [...new Set([...base, ...other].map((r) => recordSparsity(r)))].sort((x, y) => x - y);
  return sparsities.flatMap((sparsity) => pairedCell(sparsity, bySeed(base, sparsity), bySeed(other, sparsity)) ?? []);
}

/**
 * Where no group holds two values: the other fields in which every two runs of different values
 * differ (what keeps them apart), else every field in which some two do.
 */
function alsoDiffering(finished: readonly RunRecord[], field: string): string[] {
  const groups = [...groupBy(finished, (r) => canonicalJson(groupFields(r.config, field))).values()]
    .map((rs) => ({
      value: canonicalJson(valueOf(rs[0].config, field)),
      fields: Object.fromEntries(Object.entries(groupFields(rs[0].config, field)).map(([k, v]) => [k, canonicalJson(v)])),
    }));
  let every: Set<string> | undefined;
  const some = new Set<string>();
  groups.forEach((a, i) => groups.slice(i + 1).filter((b) => b.value !== a.value).forEach((b) => {
    const differ = [...new Set([...Object.keys(a.fields), ...Object.keys(b.fields)])]
      .filter((k) => a.fields[k] !== b.fields[k]);
    differ.forEach((k) => some.add(k));
    every = new Set(every === undefined ? differ : differ.filter((k) => every!.has(k)));
  }));
  return [...(every?.size ? every : some)].sort();
}

const MAX_LISTED = 10;
const listed = (values: readonly unknown[]) => values.slice(0, MAX_LISTED).map(showValue).join(', ') + (values.length > MAX_LISTED ? `, … (${values.length} in all)` : '');

/**
 * The finished runs' pairs along `field`: in every group of runs equal but in the field, the seed
 * and the sparsity, each value against the baseline (the one given; else the schema's default
 * where the group has a run of it, else the group's smallest value), as value − baseline of the
 * final top-1 in percentage points.
 */
export function pairedBy(runs: readonly RunRecord[], field: string, baseline?: unknown): PairedBy {
  const finished = runRecordsArg(runs).filter((r) => r.final);
  pairByFieldArg('field', field);
  if (baseline !== undefined) pairByBaselineArg('baseline', field, baseline);
  const key = (r: RunRecord) => canonicalJson(valueOf(r.config, field));
  const groups = [...groupBy(finished, (r) => canonicalJson(groupFields(r.config, field))).values()]
    .map((rs) => groupBy(rs, key))
    .filter((byValue) => byValue.size > 1);
  const notes: string[] = [];
  const made: { runs: RunRecord[]; rows: Omit<PairedByRow, 'group'>[] }[] = [];
  let lacking = 0;
  let unpaired = 0;
  for (const byValue of groups) {
    const values = [...byValue.values()].map((rs) => valueOf(rs[0].config, field)).sort(compareValues);
    const first = [...byValue.values()][0][0].config;
    const wanted = baseline !== undefined ? baseline : defaultValue(first, field);
    const has = wanted !== undefined && byValue.has(canonicalJson(wanted));
    if (baseline !== undefined && !has) {
      lacking++;
      continue;
    }
    const base = has ? wanted : values[0];
    const baselineFrom: BaselineSource = baseline !== undefined ? 'given' : has ? 'default' : 'smallest';
    const baseRuns = byValue.get(canonicalJson(base))!;
    const rows = values.filter((v) => canonicalJson(v) !== canonicalJson(base))
      .map((value) => ({ baseline: base, baselineFrom, value, cells: pairCells(baseRuns, byValue.get(canonicalJson(value))!) }))
      .filter((r) => r.cells.length > 0);
    if (rows.length) made.push({ runs: baseRuns, rows });
    else unpaired++;
  }
  const labels = disambiguate(made, (g) => `${g.runs[0].config.dataset.name} ${g.runs[0].config.model.name} · ${methodLabel(g.runs[0].config)}`, (g) => labelFields(g.runs[0].config, field));
  const rows = [...made].sort((a, b) => labels.get(a)!.localeCompare(labels.get(b)!)).flatMap((g) => g.rows.map((r) => ({ group: labels.get(g)!, ...r })));
  if (groups.length === 0) {
    const values = [...groupBy(finished, key).values()].map((rs) => valueOf(rs[0].config, field)).sort(compareValues);
    notes.push(`No two finished runs that agree on every other field (seed and sparsity aside) differ in ${field}: nothing to pair.` +
      (values.length > 1 ? ` Its values (${listed(values)}) are in runs that differ in ${alsoDiffering(finished, field).join(', ')} too.` : ''));
  }
  if (lacking) notes.push(`${lacking} of the ${groups.length} group(s) whose runs differ in ${field} have no finished run with ${field} = ${showValue(baseline)} and are left out.`);
  if (unpaired) notes.push(`${unpaired} group(s) whose runs differ in ${field} share no seed at any sparsity with their baseline runs.`);
  return { field, ...(baseline !== undefined ? { baseline } : {}), rows, notes };
}

const cell = (t: string) => t.replace(/\|/g, '\\|');

/** The report's section of one `--pair-by`: heading, table, caption, how the baseline was chosen, and the notes. */
export function pairedByToMarkdown(p: PairedBy, sparsityLabel: (s: number) => string, digits = 2): string {
  obj('p', p, 'pairs along a field (from pairedBy)');
  const field = pairByFieldArg('p.field', p.field);
  list<PairedByRow>('p.rows', p.rows, 'array of rows (from pairedBy)', isObj).forEach((r, i) => list(`p.rows[${i}].cells`, r.cells, 'array of paired cells', isObj));
  list('p.notes', p.notes, 'array of lines', (x) => typeof x === 'string');
  func('sparsityLabel', sparsityLabel);
  int('digits', digits, 0, 100);
  const parts = [`## Paired differences by ${field}`];
  if (p.rows.length) {
    const rows = p.rows.map((r) => ({ label: cell(`${r.group}: ${showValue(r.value)} − ${showValue(r.baseline)}`), cells: r.cells }));
    parts.push(pairedTable(cell(`${field}: value − baseline`), rows, sparsityLabel, digits));
    const chosen = p.baseline !== undefined ? `${showValue(p.baseline)}, as given`
      : p.rows.every((r) => r.baselineFrom === 'default') ? `the schema's default value of ${field}`
        : `the schema's default value of ${field} where a group has a run of it, else the group's smallest value (numbers ascending, then other values by their JSON text)`;
    parts.push(`Differences in top-1 percentage points: each run minus the run of the baseline value with the same seed and sparsity, every other field equal. ${PAIRED_CAVEAT} Baseline: ${chosen}.`);
  }
  parts.push(...p.notes);
  return `${parts.join('\n\n')}\n`;
}
