/**
 * The sparsity of a run as the report groups it: its config's (pruning or sparsify), except for a
 * transfer run, whose config names none: it trains on its source's mask, so it takes the source's
 * sparsity (transfer.json) or, failing that, the overall sparsity its metrics rows record.
 */
import type { MetricsRow } from './metrics';
import { readTransferRecord } from './runs';
import { runSparsity, type ExperimentConfig } from './schema';

/** The overall sparsity a run's last metrics row records (sparsify and transfer runs record one), to 0.01%. */
function recordedSparsity(metrics: readonly MetricsRow[]): number | undefined {
  const s = (metrics[metrics.length - 1]?.sparsity as { overall?: { sparsity?: unknown } } | undefined)?.overall?.sparsity;
  return typeof s === 'number' && s >= 0 && s < 1 ? Math.round(s * 1e4) / 1e4 : undefined;
}

/** A transfer run's sparsity as RunRecord.sparsity has it; undefined for a run whose config names it. */
export function transferSparsity(dir: string, config: ExperimentConfig, metrics: readonly MetricsRow[]): number | undefined {
  if (!config.transfer) return undefined;
  return readTransferRecord(dir)?.sourceSparsity ?? recordedSparsity(metrics);
}

/** The sparsity a run trained to: its config's, or for a transfer run its record's (see RunRecord.sparsity). */
export function recordSparsity(r: { config: Parameters<typeof runSparsity>[0] & { transfer?: unknown }; sparsity?: number }): number {
  return r.config.transfer && r.sparsity !== undefined ? r.sparsity : runSparsity(r.config);
}
