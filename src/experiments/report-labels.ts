/**
 * The labels of the report's rows (methodLabel: "Random + Sign-In", "IMP", ...) and of things
 * whose labels would collide (disambiguate), and the grouping they label (groupBy), apart from
 * report.ts so that the report's sections (report-pair-by.ts) group and label runs as the tables do.
 */
import { SPARSIFY_LABELS } from '../sparsify/methods';
import { canonicalJson } from './hash';
import { DEFAULTS, defaultScope, isConfigSection, type ExperimentConfig, type PruningMethod } from './schema';

const PRUNER_LABELS: Record<PruningMethod, string> = {
  none: 'Dense',
  random: 'Random',
  magnitude: 'Magnitude',
  snip: 'SNIP',
  grasp: 'GraSP',
  synflow: 'SynFlow',
};

const DISTRIBUTION_LABELS: Record<string, string> = { erk: 'ERK', er: 'ER' };

// A pruner's scope, where it is not the method's default: Magnitude by layer-wise ERK counts and
// Magnitude by one global threshold are different masks and must not share a table row.
function scopeLabel(pruning: ExperimentConfig['pruning']): string {
  if (pruning.method === 'none' || pruning.scope === defaultScope(pruning.method)) return '';
  if (pruning.scope === 'global') return ' (global)';
  const d = pruning.distribution ?? DEFAULTS.pruning.distribution;
  return ` (layerwise ${DISTRIBUTION_LABELS[d] ?? d})`;
}

/** "Random", "Random + Sign-In", "SNIP", "Magnitude (layerwise ERK)", "Dense + Sign-In", "RiGL + Sign-In", "AC/DC", "IMP", ...; a registered pruner by its name. */
export function methodLabel(config: ExperimentConfig): string {
  const method = config.transfer
    ? `Transfer (${config.transfer.kind})`
    : config.sparsify ? SPARSIFY_LABELS[config.sparsify.method] : (PRUNER_LABELS[config.pruning.method] ?? config.pruning.method) + scopeLabel(config.pruning);
  return `${method}${config.signin.enabled ? ' + Sign-In' : ''}`;
}

/** A value as the report prints it: a string as is, anything else (null for absent) as compact canonical JSON. */
export function showValue(v: unknown): string {
  return typeof v === 'string' ? v : canonicalJson(v ?? null);
}

/** Items by key, in first-seen order. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    m.set(k, [...(m.get(k) ?? []), it]);
  }
  return m;
}

// What a field that a parsed config leaves out means (pruning.distribution: none with scope
// global); any other such field is at the pruner's, the sparsify method's or the model's own default.
const LEFT_OUT: Readonly<Record<string, string>> = {
  'signin.layers': 'all',
  'signin.layerBeta': 'none',
  'signin.stopResetAfterEpoch': 'never',
  'pruning.distribution': 'none',
  'dataset.maxTrainBatches': 'all',
  'sparsify.denseLayers': 'none',
  sparsify: 'none',
  transfer: 'none',
  hessian: 'none',
  gradClip: 'none',
};

// What the keys of a record or the items of a list are, where it reads "8 layers at 4", "8 layers".
const KEYS_OF: Readonly<Record<string, string>> = { 'signin.layerBeta': 'layers', 'signin.layers': 'layers', 'sparsify.denseLayers': 'layers' };

const isObj = (x: unknown) => typeof x === 'object' && x !== null;
const isRecord = (x: unknown): x is Record<string, unknown> => isObj(x) && !Array.isArray(x);

// A left-out value (undefined) keys apart from every value: canonical JSON is never empty.
const valueKey = (v: unknown) => (v === undefined ? '' : canonicalJson(v));

const leftOut = (field: string) => LEFT_OUT[field] ?? 'default';

// A list whose JSON is longer reads as its length: 8 ResNet layer names ran to 132 characters.
const LONG_LIST = 40;

/**
 * A record or list in a label: "8 layers at 4" where every key of a record holds one value, "8
 * layers" for a long list of names, else compact JSON.
 */
function brief(field: string, value: object): string {
  const items = Object.values(value);
  const noun = KEYS_OF[field] ?? (Array.isArray(value) ? 'items' : 'keys');
  if (Array.isArray(value)) {
    const json = canonicalJson(value);
    return json.length > LONG_LIST && items.every((v) => !isObj(v)) ? `${items.length} ${noun}` : json;
  }
  const same = items.length > 1 && items.every((v) => !isObj(v) && valueKey(v) === valueKey(items[0]));
  return same ? `${items.length} ${noun} at ${showValue(items[0])}` : canonicalJson(value);
}

/**
 * One field's values as the labels print them. Where two values would read alike (maps of as
 * many keys at one value, lists as long, a string that reads as a word), the field's values are
 * its JSON instead.
 */
function shownValues(field: string, values: readonly unknown[]): string[] {
  const short = values.map((v) => (v === undefined ? leftOut(field) : isObj(v) ? brief(field, v) : showValue(v)));
  if (new Set(short).size === new Set(values.map(valueKey)).size) return short;
  return values.map((v) => (v === undefined ? leftOut(field) : canonicalJson(v)));
}

/**
 * The fields at `path` in which the values differ, each with every item's value (undefined: left
 * out): sections of the schema (signin, pruning) are entered where every item has them; anything
 * else (a record such as signin.layerBeta, an array, a section some items lack) is one field.
 */
function differing(values: readonly unknown[], path: string): { field: string; values: unknown[] }[] {
  if (!(values.every(isRecord) && (path === '' || isConfigSection(path)))) return new Set(values.map(valueKey)).size > 1 ? [{ field: path, values: [...values] }] : [];
  const records = values as Record<string, unknown>[];
  return [...new Set(records.flatMap((r) => Object.keys(r)))].flatMap((k) => differing(records.map((r) => r[k]), path ? `${path}.${k}` : k));
}

/**
 * Appends ' (k=v, …)' to labels that would otherwise collide, naming only the fields that differ.
 * `fields` are an item's config fields that may tell it apart, nested as in the config and with
 * its defaults filled in, as a parsed config has them (optimizer.lr=0.1; pruning.scope=layerwise
 * for random); a field left out there is the word for what its absence means (signin.layers=all,
 * signin.layerBeta=none, pruning.iterations=default: the pruner's own), never null. A record is
 * named once (signin.layerBeta=8 layers at 4, model.options={"init":"kaiming_fan_in"}), a list of
 * names by its length (signin.layers=8 layers); items
 * whose fields differ never share a label.
 */
export function disambiguate<T>(items: T[], base: (t: T) => string, fields: (t: T) => Record<string, unknown>): Map<T, string> {
  const out = new Map<T, string>();
  for (const [b, group] of groupBy(items, base)) {
    if (group.length === 1) {
      out.set(group[0], b);
      continue;
    }
    const parts = differing(group.map(fields), '')
      .sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0))
      .map((d) => ({ field: d.field, shown: shownValues(d.field, d.values) }));
    group.forEach((g, i) => out.set(g, parts.length ? `${b} (${parts.map((d) => `${d.field}=${d.shown[i]}`).join(', ')})` : b));
  }
  return out;
}
