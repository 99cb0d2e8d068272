/**
 * The labels of the report's rows (methodLabel: "Random + Sign-In", "IMP", ...) and of things
 * whose labels would collide (disambiguate), and the grouping they label (groupBy), apart from
 * report.ts so that the report's sections (report-pair-by.ts) group and label runs as the tables do.
 */
import { SPARSIFY_LABELS } from '../sparsify/methods';
import { canonicalJson } from './hash';
import { DEFAULTS, defaultScope, flattenDotted, type ExperimentConfig, type PruningMethod } from './schema';

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

/** Appends ' (k=v, …)' to labels that would otherwise collide, naming only the fields that differ. */
export function disambiguate<T>(items: T[], base: (t: T) => string, fields: (t: T) => Record<string, unknown>): Map<T, string> {
  const out = new Map<T, string>();
  for (const [b, group] of groupBy(items, base)) {
    if (group.length === 1) {
      out.set(group[0], b);
      continue;
    }
    const flat = group.map((g) => flattenDotted(fields(g)));
    const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort()
      .filter((k) => new Set(flat.map((f) => canonicalJson(f[k] ?? null))).size > 1);
    group.forEach((g, i) => out.set(g, keys.length ? `${b} (${keys.map((k) => `${k}=${showValue(flat[i][k])}`).join(', ')})` : b));
  }
  return out;
}
