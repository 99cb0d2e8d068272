/**
 * Reports from run directories, never from memory (architecture.md decision 9): the paper's
 * table (rows: method, e.g. "Random" / "Random + Sign-In"; columns: sparsity; cells: mean ± sample
 * std of the final top-1 test accuracy over seeds) as markdown and CSV, and SVG plots.
 *
 * Runs are grouped into one table per "setting": everything in the config except the seed, the
 * pruning and the Sign-In fields (so CIFAR-10 and CIFAR-100 runs in one runs dir give two tables).
 * Within a table a row is one pruning + Sign-In configuration (sparsity aside).
 */
import * as fs from 'node:fs';
import { writeFileAtomic, writeJsonAtomic } from '../atomic';
import { InvalidArgumentError, ToolkitError } from '../errors';
import { bool, int, list, num, obj, options as optionsArg, str } from '../validate';
import { canonicalJson, nonDefaultFields } from './hash';
import { meanStd, type MetricsRow } from './metrics';
import { folderArg, reportPaths } from './paths';
import { copyRunRecords, recordsDir } from './records';
import { betaLayerPoints, betaPerLayerPlotPath, betaPerLayerSpec, betaPlotPath, betaPoints, betaSpec } from './plots-beta';
import { accuracyVsSparsitySpec, sparsityPlotPath, sparsityPoints } from './plots-sparsity';
import { hessianMarkdown, pairedJsonPath, pairedRows, pairedToMarkdown, tableArg, type PairedRow } from './report-paired';
import { perLayerFlipsSpec, renderSvg, signFlipsSpec, testAccuracySpec, type CurvePoint, type FlipCurvePoint, type LayerPoint, type PlotOrder } from './plots';
import { scanRuns, type CorruptRun, type RunInfo } from './run-scan';
import { runRecordsArg } from './run-records-arg';
import { recordSparsity, transferSparsity } from './run-sparsity';
import { SPARSIFY_METHODS, type SparsifyMethod } from '../sparsify/methods';
import { HASH_EXCLUDED_PATHS, PRUNING_METHODS, runSparsity, withoutDotted, type ExperimentConfig, type PruningMethod } from './schema';
import { disambiguate, groupBy, methodLabel } from './report-labels';
import { pairByBaselineArg, pairByFieldArg, pairedBy, pairedByToMarkdown, type PairBy, type PairedBy } from './report-pair-by';

export { disambiguate, methodLabel };

export interface RunRecord extends RunInfo {
  /**
   * The sparsity of a run whose config names none (a transfer run trains at its source's): from
   * its transfer.json, else from its last metrics row. Undefined for the others.
   */
  sparsity?: number;
}

/**
 * Reads every run under runsDir: config, final.json (when finished) and metrics.jsonl; runs whose
 * files cannot be read are returned apart, with their problems (scanRuns).
 */
export function scanRunRecords(runsDir: string): { runs: RunRecord[]; corrupt: CorruptRun[] } {
  const { runs, corrupt } = scanRuns(runsDir);
  return {
    runs: runs.map((r) => {
      const sparsity = transferSparsity(r.dir, r.config, r.metrics);
      return sparsity !== undefined ? { ...r, sparsity } : r;
    }),
    corrupt,
  };
}

/** The readable runs under runsDir (see scanRunRecords). */
export function loadRuns(runsDir: string): RunRecord[] {
  return scanRunRecords(runsDir).runs;
}

/** The markdown section that lists corrupt runs (empty when there are none). */
export function corruptRunsMarkdown(corrupt: readonly CorruptRun[]): string {
  if (corrupt.length === 0) return '';
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = corrupt.map((c) => `| ${c.name} | ${cell(c.problems.join('; '))} |`);
  return `\n## Corrupt runs\n\n${corrupt.length} run director${corrupt.length === 1 ? 'y' : 'ies'} could not be read and are left out of the tables:\n\n| run | problem |\n|---|---|\n${rows.join('\n')}\n`;
}

/** "RiGL + Sign-In 90%", "Random 95%", "Dense 0%": a run's method and the sparsity it trains to. */
export function runLabel(config: ExperimentConfig): string {
  const sparsity = runSparsity(config);
  obj('config.signin', config.signin, 'Sign-In section object');
  // A transfer run's sparsity is its source's, which the config does not hold.
  if (config.transfer) return methodLabel(config);
  return `${methodLabel(config)} ${sparsityLabel(sparsity)}`;
}

/** "90%", "95%", "98.5%". */
export function sparsityLabel(sparsity: number): string {
  return `${Number((sparsity * 100).toFixed(2))}%`;
}

/**
 * The fields that make a table: everything but seed, pruning.*, sparsify.*, transfer.* and signin.*
 * (non-default only), so that pruning at initialization, sparsify and transfer runs of one setting
 * share a table.
 */
function settingFields(config: ExperimentConfig): Record<string, unknown> {
  const { seed: _seed, pruning: _p, signin: _s, sparsify: _sf, transfer: _t, ...rest } = nonDefaultFields(config) as Record<string, unknown>;
  return rest;
}

/**
 * settingFields with the defaults filled in, as the config has them: what tells tables of one
 * title apart (`optimizer.lr=0.1`, not a missing field).
 */
function titleFields(config: ExperimentConfig): Record<string, unknown> {
  const { seed: _seed, pruning: _p, signin: _s, sparsify: _sf, transfer: _t, ...rest } = config;
  return HASH_EXCLUDED_PATHS.reduce<unknown>((c, p) => withoutDotted(c, p), rest) as Record<string, unknown>;
}

/** The fields that make a row: pruning and sparsify (but the sparsity) or transfer, and Sign-In, defaults included. */
function methodFields(config: ExperimentConfig): Record<string, unknown> {
  const { sparsity: _sp, ...pruning } = config.pruning;
  const signin = config.signin.enabled ? config.signin : { enabled: false };
  if (config.transfer) {
    // A resolved source is named by its config hash (as in the run's own hash), not by the path.
    const { from: _from, ...identity } = config.transfer;
    return { pruning, transfer: config.transfer.sourceHash !== undefined ? identity : config.transfer, signin };
  }
  if (!config.sparsify) return { pruning, signin };
  const { sparsity: _ss, ...sparsify } = config.sparsify;
  return { pruning, sparsify, signin };
}

/** A row's fields but Sign-In (canonical JSON): the key that pairs a Sign-In row with its plain row. */
function pairingKey(config: ExperimentConfig): string {
  const { signin: _s, ...rest } = methodFields(config);
  return canonicalJson(config.sparsify || config.transfer ? rest : rest.pruning);
}

export interface AccuracyCell {
  sparsity: number;
  /** Final test accuracies in percent, one per finished seed. */
  values: number[];
  seeds: number[];
  n: number;
  mean: number;
  std: number;
}

export interface AccuracyRow {
  label: string;
  method: PruningMethod;
  /** The row's sparsify method (dense-to-sparse or dynamic sparse training), when it has one. */
  sparsify?: SparsifyMethod;
  signin: boolean;
  /** The row's pruning (and sparsify) fields but sparsity (canonical JSON): a Sign-In row pairs with the plain row that has the same. */
  pruningKey: string;
  cells: (AccuracyCell | undefined)[];
}

export interface AccuracyTable {
  title: string;
  /** Non-default fields shared by every run of the table. */
  setting: Record<string, unknown>;
  sparsities: number[];
  rows: AccuracyRow[];
  /** Runs of this setting that have not finished (left out of the cells). */
  unfinished: string[];
}

interface Group {
  key: string;
  setting: Record<string, unknown>;
  runs: RunRecord[];
}

function settingGroups(runs: readonly RunRecord[]): { groups: Group[]; titles: Map<Group, string> } {
  const groups = [...groupBy(runs, (r) => canonicalJson(settingFields(r.config)))].map(([key, rs]) => ({ key, setting: settingFields(rs[0].config), runs: rs }));
  groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const titles = disambiguate(groups, (g) => `${g.runs[0].config.dataset.name} ${g.runs[0].config.model.name}`, (g) => titleFields(g.runs[0].config));
  return { groups, titles };
}

/** Pruning at initialization first (in PRUNING_METHODS order), then the sparsify methods. */
const methodRank = (r: AccuracyRow): number => (r.sparsify ? PRUNING_METHODS.length + SPARSIFY_METHODS.indexOf(r.sparsify) : PRUNING_METHODS.indexOf(r.method));

const isObj = (x: unknown) => typeof x === 'object' && x !== null;
const isNumber = (x: unknown) => typeof x === 'number';

/** A table cell's printed numbers. */
function cellArg(name: string, v: unknown): AccuracyCell {
  const c = obj<AccuracyCell>(name, v, 'accuracy cell ({ n, mean, std, ... }) or undefined');
  for (const k of ['n', 'mean', 'std'] as const) if (!isNumber(c[k])) throw new InvalidArgumentError(`${name}.${k}`, 'number', c[k]);
  return c;
}

/** A whole accuracy table as markdown and CSV read it: tableArg's rows and cells, and every field they print. */
function printedTableArg(v: unknown, name: string): AccuracyTable {
  const t = tableArg(v, name);
  str(`${name}.title`, t.title);
  obj(`${name}.setting`, t.setting, 'object of setting fields');
  list(`${name}.unfinished`, t.unfinished, 'array of run names', (x) => typeof x === 'string');
  t.rows.forEach((r, i) => {
    str(`${name}.rows[${i}].label`, r.label);
    r.cells.forEach((c, j) => {
      if (!c) return;
      const at = `${name}.rows[${i}].cells[${j}]`;
      cellArg(at, c);
      list(`${at}.seeds`, c.seeds, 'array of seeds', isNumber);
      list(`${at}.values`, c.values, 'array of numbers', isNumber);
    });
  });
  return t;
}

/** The paper's tables from loaded runs: one per setting; only finished runs fill cells. */
export function accuracyTables(runs: readonly RunRecord[]): AccuracyTable[] {
  runRecordsArg(runs);
  const { groups, titles } = settingGroups(runs);
  return groups.map((g) => {
    const finished = g.runs.filter((r) => r.final);
    const sparsities = [...new Set(finished.map((r) => recordSparsity(r)))].sort((a, b) => a - b);
    const byMethod = [...groupBy(finished, (r) => canonicalJson(methodFields(r.config)))].map(([, rs]) => rs);
    const labels = disambiguate(byMethod, (rs) => methodLabel(rs[0].config), (rs) => methodFields(rs[0].config));
    const rows: AccuracyRow[] = byMethod.map((rs) => ({
      label: labels.get(rs)!,
      method: rs[0].config.pruning.method,
      ...(rs[0].config.sparsify ? { sparsify: rs[0].config.sparsify.method } : {}),
      signin: rs[0].config.signin.enabled,
      pruningKey: pairingKey(rs[0].config),
      cells: sparsities.map((s) => {
        const cellRuns = rs.filter((r) => recordSparsity(r) === s).sort((a, b) => a.config.seed - b.config.seed);
        if (cellRuns.length === 0) return undefined;
        const values = cellRuns.map((r) => r.final!.testAcc * 100);
        const st = meanStd(values);
        return { sparsity: s, values, seeds: cellRuns.map((r) => r.config.seed), n: st.n, mean: st.mean, std: st.std };
      }),
    }));
    rows.sort((a, b) => methodRank(a) - methodRank(b) || Number(a.signin) - Number(b.signin) || a.label.localeCompare(b.label));
    return { title: titles.get(g)!, setting: g.setting, sparsities, rows, unfinished: g.runs.filter((r) => !r.final).map((r) => r.name) };
  });
}

function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '';
}

/** "88.25 ± 0.31"; a single seed shows the value alone; " (n=2)" marks cells with fewer seeds than the table's most. */
export function formatCell(cell: AccuracyCell | undefined, maxN: number, digits = 2): string {
  if (cell !== undefined && cell !== null) cellArg('cell', cell);
  num('maxN', maxN);
  int('digits', digits, 0, 100);
  if (!cell) return '–';
  const body = cell.n > 1 ? `${fmt(cell.mean, digits)} ± ${fmt(cell.std, digits)}` : fmt(cell.mean, digits);
  return cell.n < maxN ? `${body} (n=${cell.n})` : body;
}

function maxSeeds(t: AccuracyTable): number {
  return Math.max(0, ...t.rows.flatMap((r) => r.cells.map((c) => c?.n ?? 0)));
}

/** One table as markdown: heading, table, caption. */
export function tableToMarkdown(t: AccuracyTable, digits = 2): string {
  printedTableArg(t, 'table');
  int('digits', digits, 0, 100);
  const n = maxSeeds(t);
  const header = `| Method | ${t.sparsities.map(sparsityLabel).join(' | ')} |`;
  const sep = `|---|${t.sparsities.map(() => '---:|').join('')}`;
  const rows = t.rows.map((r) => `| ${r.label} | ${r.cells.map((c) => formatCell(c, n, digits)).join(' | ')} |`);
  const caption = n > 1 ? `Top-1 test accuracy (%) after the last epoch, mean ± sample standard deviation over up to ${n} seeds.`
    : 'Top-1 test accuracy (%) after the last epoch, one seed.';
  const extra = Object.keys(t.setting).length ? `\n\nSetting (non-default fields): \`${canonicalJson(t.setting)}\`` : '';
  const pending = t.unfinished.length ? `\n\n${t.unfinished.length} unfinished run(s) left out: ${t.unfinished.join(', ')}` : '';
  return `### ${t.title}\n\n${header}\n${sep}\n${rows.join('\n')}\n\n${caption}${extra}${pending}\n`;
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Long-format CSV: one line per (table, method, sparsity) cell. */
export function tablesToCsv(tables: readonly AccuracyTable[], digits = 4): string {
  list('tables', tables, 'array of accuracy tables (from accuracyTables)', isObj).forEach((t, i) => printedTableArg(t, `tables[${i}]`));
  int('digits', digits, 0, 100);
  const lines = ['table,method,sparsity,n,mean,std,seeds,values'];
  for (const t of tables) {
    for (const r of t.rows) {
      r.cells.forEach((c, i) => {
        if (!c) return;
        lines.push([t.title, r.label, t.sparsities[i], c.n, fmt(c.mean, digits), fmt(c.std, digits), c.seeds.join(';'), c.values.map((v) => fmt(v, digits)).join(';')].map(csvField).join(','));
      });
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Plot data

interface PlotData {
  title: string;
  order: PlotOrder;
  accuracy: CurvePoint[];
  flips: FlipCurvePoint[];
  layers: LayerPoint[];
  layerNames: string[];
  /** The method label of each plotted run, by run name. */
  runLabels: Map<string, string>;
}

/** Curves of one table's runs (finished runs only unless includeUnfinished). */
export function plotData(table: AccuracyTable, runs: readonly RunRecord[], includeUnfinished = false): PlotData {
  const accuracy: CurvePoint[] = [];
  const flips: FlipCurvePoint[] = [];
  const layers: LayerPoint[] = [];
  const layerNames: string[] = [];
  const runLabels = new Map<string, string>();
  // Runs are matched to rows by their method fields, labelled as accuracyTables labels them.
  const byFields = new Map<string, string>();
  const tableRuns = runs.filter((r) => canonicalJson(settingFields(r.config)) === canonicalJson(table.setting) && (includeUnfinished || r.final));
  const byMethod = groupBy(tableRuns, (r) => canonicalJson(methodFields(r.config)));
  const labels = disambiguate([...byMethod.values()], (rs) => methodLabel(rs[0].config), (rs) => methodFields(rs[0].config));
  for (const [k, rs] of byMethod) byFields.set(k, labels.get(rs)!);
  for (const r of tableRuns) {
    const method = byFields.get(canonicalJson(methodFields(r.config)))!;
    runLabels.set(r.name, method);
    const sparsity = sparsityLabel(recordSparsity(r));
    const seed = r.config.seed;
    let lastFlips: MetricsRow['signFlips'];
    for (const m of r.metrics) {
      if (typeof m.testAcc === 'number') accuracy.push({ method, sparsity, seed, epoch: m.epoch, value: m.testAcc * 100 });
      if (m.signFlips) {
        flips.push({ method, sparsity, seed, epoch: m.epoch, value: m.signFlips.fromInit, measure: 'from init' });
        flips.push({ method, sparsity, seed, epoch: m.epoch, value: m.signFlips.fromPrev, measure: 'from previous epoch' });
        lastFlips = m.signFlips;
      }
    }
    for (const [layer, value] of Object.entries(lastFlips?.perLayer ?? {})) {
      if (!layerNames.includes(layer)) layerNames.push(layer);
      layers.push({ method, sparsity, seed, layer, value });
    }
  }
  const methods = [...table.rows.map((r) => r.label), ...[...byFields.values()].filter((l) => !table.rows.some((r) => r.label === l))];
  const sparsities = [...new Set(tableRuns.map((r) => recordSparsity(r)))].sort((a, b) => a - b).map(sparsityLabel);
  return { title: table.title, order: { methods, sparsities }, accuracy, flips, layers, layerNames, runLabels };
}

export interface ReportOptions {
  /** Render SVG plots (default true). */
  plots?: boolean;
  /** Plot curves of unfinished runs too (default false: plots match the table). */
  includeUnfinished?: boolean;
  digits?: number;
  /**
   * Also copy each finished run's record files (no checkpoints) into `<outDir>/runs`, from which
   * the report can be regenerated once the run directories are gone (default false).
   */
  saveRecords?: boolean;
  /**
   * Also pair the finished runs along these config fields (report-pair-by.ts): a section
   * "Paired differences by <field>" each, after the tables, and an entry each in paired.json.
   */
  pairBy?: readonly PairBy[];
}

export interface ReportResult {
  tables: AccuracyTable[];
  /** Run directories left out because their files cannot be read (listed in the markdown). */
  corrupt: CorruptRun[];
  markdown: string;
  csv: string;
  /** The pairs of each options.pairBy, in order. */
  pairedBy: PairedBy[];
  /** Files written, in order. */
  files: string[];
}

/** Reads runsDir, writes report.md, accuracy.csv, report.json, paired.json and the SVG plots into outDir. */
export async function writeReport(runsDir: string, outDir: string, options: ReportOptions = {}): Promise<ReportResult> {
  str('runsDir', runsDir);
  folderArg('outDir', outDir);
  const o = optionsArg<ReportOptions>('options', options);
  for (const k of ['plots', 'includeUnfinished', 'saveRecords'] as const) if (o[k] !== undefined) bool(`options.${k}`, o[k]);
  if (o.digits !== undefined) int('options.digits', o.digits, 0, 100);
  const pairBy = o.pairBy === undefined ? [] : list<PairBy>('options.pairBy', o.pairBy, 'array of { field, baseline? }', isObj);
  pairBy.forEach((b, i) => {
    const field = pairByFieldArg(`options.pairBy[${i}].field`, b.field);
    if (b.baseline !== undefined) pairByBaselineArg(`options.pairBy[${i}].baseline`, field, b.baseline);
  });
  let isDir = false;
  try {
    isDir = fs.statSync(runsDir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new ToolkitError('ERR_INVALID_ARG', `Runs directory ${runsDir} does not exist or is not a folder: pass --runs-dir, the folder that holds the run directories`);
  const { runs, corrupt } = scanRunRecords(runsDir);
  const tables = accuracyTables(runs);
  const p = reportPaths(outDir);
  const files: string[] = [];
  if (options.saveRecords && copyRunRecords(runs.filter((r) => r.final).map((r) => r.dir), outDir).length > 0) files.push(recordsDir(outDir));
  const sections: string[] = [];
  const pairedAll: { table: string; accuracy: PairedRow[] }[] = [];
  for (const t of tables) {
    let section = tableToMarkdown(t, options.digits);
    const accuracyPairs = pairedRows(t);
    pairedAll.push({ table: t.title, accuracy: accuracyPairs });
    const paired = pairedToMarkdown(accuracyPairs, 'top-1 percentage points', sparsityLabel, options.digits);
    if (paired) section += `\n#### Paired differences (top-1 test accuracy)\n\n${paired}`;
    const d = plotData(t, runs, options.includeUnfinished);
    const hessian = hessianMarkdown(t, runs, (r) => d.runLabels.get(r.name), sparsityLabel);
    if (hessian) section += `\n#### Flatness\n\n${hessian}`;
    if (options.plots !== false) {
      const out: [string, string][] = [];
      if (t.sparsities.length > 1) out.push([sparsityPlotPath(outDir, t.title), await renderSvg(accuracyVsSparsitySpec(sparsityPoints(t.rows), d.title, d.order))]);
      if (d.accuracy.length) out.push([p.testAccuracyPlot(t.title), await renderSvg(testAccuracySpec(d.accuracy, d.title, d.order))]);
      if (d.flips.length) out.push([p.signFlipsPlot(t.title), await renderSvg(signFlipsSpec(d.flips, d.title, d.order))]);
      if (d.layers.length) out.push([p.perLayerFlipsPlot(t.title), await renderSvg(perLayerFlipsSpec(d.layers, d.layerNames, d.title, d.order))]);
      const beta = betaPoints(runs, (name) => d.runLabels.get(name), sparsityLabel);
      if (beta.length) out.push([betaPlotPath(outDir, t.title), await renderSvg(betaSpec(beta, d.title, d.order))]);
      const layerBeta = betaLayerPoints(runs, (name) => d.runLabels.get(name), sparsityLabel);
      if (layerBeta.points.length) out.push([betaPerLayerPlotPath(outDir, t.title), await renderSvg(betaPerLayerSpec(layerBeta.points, layerBeta.layers, d.title, d.order))]);
      for (const [file, svg] of out) {
        writeFileAtomic(file, svg);
        files.push(file);
        section += `\n![${t.title}](${file.slice(outDir.length).replace(/^[/\\]/, '')})\n`;
      }
    }
    sections.push(section);
  }
  const byField = pairBy.map((b) => pairedBy(runs, b.field, b.baseline));
  const byFieldMarkdown = byField.map((b) => `\n${pairedByToMarkdown(b, sparsityLabel, options.digits)}`).join('');
  const markdown = `${tables.length
    ? `# Results\n\nFrom ${runs.length} run(s) in \`${runsDir}\`.\n\n${sections.join('\n')}`
    : `# Results\n\nNo runs found in \`${runsDir}\`.\n`}${byFieldMarkdown}${corruptRunsMarkdown(corrupt)}`;
  const csv = tablesToCsv(tables);
  writeFileAtomic(p.markdown, markdown);
  writeFileAtomic(p.csv, csv);
  writeJsonAtomic(p.json, tables);
  const pairedJson = pairedJsonPath(outDir);
  // Each field's pairs after the tables' entries, shaped as an entry without Sign-In pairs, so that a reader of the tables' entries reads on.
  writeJsonAtomic(pairedJson, [...pairedAll, ...byField.map((b) => ({ table: `Paired differences by ${b.field}`, accuracy: [], pairBy: b }))]);
  files.unshift(p.markdown, p.csv, p.json, pairedJson);
  return { tables, corrupt, markdown, csv, pairedBy: byField, files };
}
