/**
 * The report's paired section: each Sign-In row of a table against the plain row with the same
 * pruning (method, distribution, scope, ...), sparsity by sparsity, over the seeds both ran (the
 * same seed is the same init, mask and data order, so a pair is one sample of the difference).
 * Cells: per-seed differences, their mean, the 95% Student-t interval (paired.ts) and how many
 * pairs favour Sign-In. The same pairing gives the top Hessian eigenvalue at the final weights
 * where the runs measured it (config `hessian`).
 */
import * as path from 'node:path';
import { func, int, list, obj, str } from '../validate';
import { meanStd, type MetricsRow } from './metrics';
import { holmAdjust, pairedSummary, type PairedSummary } from './paired';
import type { AccuracyTable, RunRecord } from './report';
import { recordSparsity } from './run-sparsity';

export interface PairedCell {
  sparsity: number;
  seeds: number[];
  summary: PairedSummary;
}

export interface PairedRow {
  /** Labels of the two rows of the accuracy table, plain first. */
  plain: string;
  signin: string;
  cells: PairedCell[];
}

const isObj = (x: unknown) => typeof x === 'object' && x !== null;

/** The final top Hessian eigenvalue a run stored in its metrics, if any. */
export function finalHessianEigenvalue(metrics: readonly MetricsRow[]): number | undefined {
  list('metrics', metrics, 'array of metrics rows', isObj);
  for (let i = metrics.length - 1; i >= 0; i--) {
    const v = metrics[i].topHessianEigenvalue;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

/** Per-run values of one row at one sparsity, by seed. */
type SeedValues = (label: string, sparsity: number) => Map<number, number>;

export interface RunValues {
  runs: readonly RunRecord[];
  /** The table row (label) a run belongs to, if any. */
  rowOf: (r: RunRecord) => string | undefined;
  value: (r: RunRecord) => number | undefined;
}

/** An accuracy table (from accuracyTables) as an argument named `name`. */
export function tableArg(v: unknown, name = 'table'): AccuracyTable {
  const t = obj<AccuracyTable>(name, v, 'accuracy table (from accuracyTables)');
  list(`${name}.rows`, t.rows, 'array of table rows', isObj);
  list(`${name}.sparsities`, t.sparsities, 'array of sparsities', (x) => typeof x === 'number');
  for (const [i, r] of t.rows.entries()) list(`${name}.rows[${i}].cells`, r.cells, 'array of cells', (c) => c === undefined || isObj(c));
  return t;
}

function runValuesArg(v: unknown): RunValues {
  const o = obj<RunValues>('valueOf', v, 'per-run values ({ runs, rowOf, value })');
  list('valueOf.runs', o.runs, 'array of run records', isObj);
  func('valueOf.rowOf', o.rowOf);
  func('valueOf.value', o.value);
  return o;
}

/** The final accuracies (percent) of the table's own cells. */
function cellValues(table: AccuracyTable): SeedValues {
  return (label, sparsity) => {
    const c = table.rows.find((r) => r.label === label)?.cells[table.sparsities.indexOf(sparsity)];
    return new Map(c ? c.seeds.map((seed, k) => [seed, c.values[k]]) : []);
  };
}

/** Another per-run number, from the finished runs of a row. */
function runValues(v: RunValues): SeedValues {
  return (label, sparsity) => {
    const m = new Map<number, number>();
    for (const r of v.runs) {
      if (!r.final || v.rowOf(r) !== label || recordSparsity(r) !== sparsity) continue;
      const x = v.value(r);
      if (x !== undefined) m.set(r.config.seed, x);
    }
    return m;
  };
}

/** b − a at one sparsity over the seeds both have (values by seed); undefined when they share none. */
export function pairedCell(sparsity: number, a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): PairedCell | undefined {
  const seeds = [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y);
  return seeds.length ? { sparsity, seeds, summary: pairedSummary(seeds.map((k) => a.get(k)!), seeds.map((k) => b.get(k)!)) } : undefined;
}

/**
 * Pairs of a table, for each Sign-In row and sparsity over the seeds both rows ran: by default
 * the final accuracies of the table's cells (percent); with `valueOf`, another per-run number
 * (e.g. the Hessian eigenvalue).
 */
export function pairedRows(table: AccuracyTable, valueOf?: RunValues): PairedRow[] {
  tableArg(table);
  const values = valueOf !== undefined ? runValues(runValuesArg(valueOf)) : cellValues(table);
  const out: PairedRow[] = [];
  for (const s of table.rows.filter((r) => r.signin)) {
    const plain = table.rows.find((p) => !p.signin && p.pruningKey === s.pruningKey);
    if (!plain) continue;
    const cells = table.sparsities.flatMap((sparsity) => pairedCell(sparsity, values(plain.label, sparsity), values(s.label, sparsity)) ?? []);
    if (cells.length) out.push({ plain: plain.label, signin: s.label, cells });
  }
  return out;
}

const signed = (x: number, digits: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}` : '–');

/** What every paired table's caption ends with. */
export const PAIRED_CAVEAT = 'An interval that contains 0 does not show a difference at this number of seeds. ' +
  'p is the paired t test\'s two-sided p-value; Holm p adjusts it for every comparison in the same table (Holm\'s step-down), ' +
  'the one to read when the table compares several rows or sparsities.';

const pValue = (p: number) => (Number.isNaN(p) ? '–' : p < 0.001 ? '< 0.001' : p.toFixed(3));

/**
 * The markdown table of paired cells, one line per row and sparsity: the first column, headed
 * `header`, names each row's pair (b − a) by its `label`.
 */
export function pairedTable(header: string, rows: readonly { label: string; cells: readonly PairedCell[] }[], sparsityLabel: (s: number) => string, digits: number): string {
  const lines = [
    `| ${header} | sparsity | pairs | per-seed differences (seed: Δ) | mean Δ | 95% CI (paired t) | p | Holm p | pairs with Δ > 0 |`,
    '|---|---:|---:|---|---:|---|---:|---:|---:|',
  ];
  const cells = rows.flatMap((r) => r.cells.map((c) => ({ label: r.label, c })));
  const holm = holmAdjust(cells.map(({ c }) => c.summary.p));
  cells.forEach(({ label, c }, i) => {
    const s = c.summary;
    const per = c.seeds.map((seed, k) => `${seed}: ${signed(s.differences[k], digits)}`).join(', ');
    const ci = s.n < 2 ? '– (one pair)' : `[${signed(s.ci95[0], digits)}, ${signed(s.ci95[1], digits)}]`;
    lines.push(`| ${label} | ${sparsityLabel(c.sparsity)} | ${s.n} | ${per} | ${signed(s.mean, digits)} | ${ci} | ${pValue(s.p)} | ${pValue(holm[i])} | ${s.positive} of ${s.n} |`);
  });
  return lines.join('\n');
}

/** One markdown table of paired rows; `unit` names what the differences are in. */
export function pairedToMarkdown(rows: readonly PairedRow[], unit: string, sparsityLabel: (s: number) => string, digits = 2): string {
  list('rows', rows, 'array of paired rows (from pairedRows)', isObj);
  for (const [i, r] of rows.entries()) list(`rows[${i}].cells`, r.cells, 'array of paired cells', isObj);
  str('unit', unit);
  func('sparsityLabel', sparsityLabel);
  int('digits', digits, 0, 100);
  if (rows.length === 0) return '';
  const table = pairedTable('Sign-In − plain', rows.map((r) => ({ label: `${r.signin} − ${r.plain}`, cells: r.cells })), sparsityLabel, digits);
  return `${table}\n\nDifferences in ${unit}, Sign-In minus the plain run of the same seed (same init, mask and data order). ${PAIRED_CAVEAT}\n`;
}

/** Mean ± sample std of the final top Hessian eigenvalue per row and sparsity, then its pairs. */
export function hessianMarkdown(table: AccuracyTable, runs: readonly RunRecord[], rowOf: (r: RunRecord) => string | undefined, sparsityLabel: (s: number) => string): string {
  tableArg(table);
  list('runs', runs, 'array of run records', isObj);
  func('rowOf', rowOf);
  func('sparsityLabel', sparsityLabel);
  const value = (r: RunRecord) => finalHessianEigenvalue(r.metrics);
  const measured = runs.filter((r) => r.final && rowOf(r) !== undefined && value(r) !== undefined);
  if (measured.length === 0) return '';
  const cell = (label: string, sparsity: number) => {
    const v = measured.filter((r) => rowOf(r) === label && recordSparsity(r) === sparsity).map((r) => value(r)!);
    if (v.length === 0) return '–';
    const { mean: m, std: sd } = meanStd(v);
    return `${m.toFixed(2)}${v.length > 1 ? ` ± ${sd.toFixed(2)}` : ''} (n=${v.length})`;
  };
  const lines = [
    `| Method | ${table.sparsities.map(sparsityLabel).join(' | ')} |`,
    `|---|${table.sparsities.map(() => '---:|').join('')}`,
    ...table.rows.map((r) => `| ${r.label} | ${table.sparsities.map((s) => cell(r.label, s)).join(' | ')} |`),
  ];
  const pairs = pairedToMarkdown(pairedRows(table, { runs, rowOf, value }), 'eigenvalue units', sparsityLabel);
  return `Top Hessian eigenvalue of the training loss at the final weights (power iteration, θ coordinates on the kept weights; mean ± sample std over seeds):\n\n${lines.join('\n')}\n${pairs ? `\n${pairs}` : ''}`;
}

/** Where the report writes every table's paired rows as JSON. */
export function pairedJsonPath(outDir: string): string {
  return path.join(str('outDir', outDir), 'paired.json');
}
