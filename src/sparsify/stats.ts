/**
 * Statistics of a sparsified model for the trainer's metrics and the report: the sparsity each
 * layer actually reached. Sign flips vs the initialization and vs the previous epoch come from
 * src/signin's SignTracker (it compares over the current mask, so it serves changing masks);
 * mask-change counts come from each method's `maskChanges` metric.
 */
import { maskedLayers } from '../nn/masked';
import type { Module } from '../nn/module';
import { tidy } from '../tensor/engine';
import type { SparsifyCallback, SparsifyContext } from './hooks';

export interface LayerSparsity {
  kept: number;
  numel: number;
  /** Fraction removed. */
  sparsity: number;
}

export interface SparsityStats {
  overall: LayerSparsity;
  perLayer: Record<string, LayerSparsity>;
}

/** Kept and removed weights of every masked layer (from the masks) and overall. */
export function sparsityStats(model: Module): SparsityStats {
  const perLayer: Record<string, LayerSparsity> = {};
  let kept = 0;
  let numel = 0;
  for (const [name, l] of maskedLayers(model)) {
    const k = tidy(() => l.mask.ne(0).sum().item());
    const n = l.weight.numel;
    perLayer[name] = { kept: k, numel: n, sparsity: n > 0 ? 1 - k / n : 0 };
    kept += k;
    numel += n;
  }
  return { overall: { kept, numel, sparsity: numel > 0 ? 1 - kept / numel : 0 }, perLayer };
}

/** Adds `sparsity` (sparsityStats) to every epoch's metrics. */
export class SparsityRecorder implements SparsifyCallback {
  readonly name = 'sparsity-stats';

  onEpochEnd(ctx: SparsifyContext, metrics: Record<string, unknown>): void {
    metrics.sparsity = sparsityStats(ctx.model);
  }
}
