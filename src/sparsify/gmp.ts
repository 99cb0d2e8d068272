/**
 * Gradual magnitude pruning (Zhu & Gupta 2017): sparsity follows the cubic schedule
 * s_t = s_f + (s_i − s_f)·(1 − (t − t_0)/(t_1 − t_0))³ from step t_0 to t_1, pruning every
 * `frequency` steps (and at t_1) by magnitude |θ| (|m ⊙ w| under Sign-In) among the weights still
 * kept, so the mask only shrinks. Global (one threshold) or layerwise (every layer at s_t).
 */
import { InvalidArgumentError } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { keysOf, num, oneOf, options } from '../validate';
import type { SparsifyCallback, SparsifyContext, SparsifyState } from './hooks';
import { changeMasks, layersByName, type MaskChange } from './mask-change';
import { magnitudeMasks, SCOPES, type Scope } from './select';

export interface GmpOptions {
  /** Final sparsity s_f in [0, 1). */
  sparsity: number;
  /** Sparsity at the start s_i; default 0. */
  initialSparsity?: number;
  /** First pruning epoch (fractional allowed); default 0. */
  startEpoch?: number;
  /** Epoch at which s_f is reached; required. */
  endEpoch: number;
  /** Steps between prunes (Δt); default 100 (Zhu & Gupta). */
  frequency?: number;
  /** default 'global'. */
  scope?: Scope;
}

/** The cubic schedule's sparsity at `step` (clamped to [s_i, s_f] outside [start, end]). */
export function gmpSparsity(step: number, start: number, end: number, initial: number, final: number): number {
  num('step', step);
  num('start', start);
  num('end', end);
  num('initial', initial, 0, 1);
  num('final', final, 0, 1);
  if (step <= start) return initial;
  if (step >= end) return final;
  return final + (initial - final) * (1 - (step - start) / (end - start)) ** 3;
}

const GMP_OPTIONS = keysOf<GmpOptions>({ sparsity: true, initialSparsity: true, startEpoch: true, endEpoch: true, frequency: true, scope: true });

export class Gmp implements SparsifyCallback {
  readonly name = 'gmp';
  readonly sparsity: number;
  readonly initialSparsity: number;
  readonly startEpoch: number;
  readonly endEpoch: number;
  readonly frequency: number;
  readonly scope: Scope;
  /** Mask changes so far: [step, change]. */
  changes: { step: number; sparsity: number; dropped: number }[] = [];
  private lastPruneStep = -1;

  constructor(opts: GmpOptions) {
    const o = options<GmpOptions>('options', opts, GMP_OPTIONS);
    this.sparsity = num('sparsity', o.sparsity, 0, 1);
    if (this.sparsity >= 1) throw new InvalidArgumentError('sparsity', 'number in [0, 1)', o.sparsity);
    this.initialSparsity = num('initialSparsity', o.initialSparsity ?? 0, 0, this.sparsity);
    this.startEpoch = num('startEpoch', o.startEpoch ?? 0, 0);
    this.endEpoch = num('endEpoch', o.endEpoch, this.startEpoch);
    this.frequency = num('frequency', o.frequency ?? 100, 1);
    if (!Number.isInteger(this.frequency)) throw new InvalidArgumentError('frequency', 'positive integer (steps)', o.frequency);
    this.scope = oneOf('scope', o.scope ?? 'global', SCOPES);
  }

  /** Whether a prune is due after `step` completed steps. */
  dueAt(step: number, stepsPerEpoch: number): boolean {
    const start = Math.round(this.startEpoch * stepsPerEpoch);
    const end = Math.round(this.endEpoch * stepsPerEpoch);
    if (step < start || step > end || step === this.lastPruneStep) return false;
    return (step - start) % this.frequency === 0 || step === end;
  }

  /** Prunes the kept weights of the model down to `sparsity` (what the callback runs when due). */
  pruneTo(model: Module, sparsity: number, optimizer?: SparsifyContext['optimizer']): MaskChange {
    const layers = [...layersByName(model)];
    const masks = noGrad(() => magnitudeMasks(layers.map(([, l]) => l), 1 - sparsity, this.scope, layers.map(([, l]) => l.mask)));
    try {
      return changeMasks(model, new Map(layers.map(([n], i) => [n, masks[i]])), optimizer);
    } finally {
      for (const m of masks) m.dispose();
    }
  }

  onStepEnd(ctx: SparsifyContext): void {
    if (!this.dueAt(ctx.step, ctx.stepsPerEpoch)) return;
    const start = Math.round(this.startEpoch * ctx.stepsPerEpoch);
    const end = Math.round(this.endEpoch * ctx.stepsPerEpoch);
    const s = gmpSparsity(ctx.step, start, end, this.initialSparsity, this.sparsity);
    const change = this.pruneTo(ctx.model, s, ctx.optimizer);
    this.lastPruneStep = ctx.step;
    this.changes.push({ step: ctx.step, sparsity: s, dropped: change.dropped });
  }

  /** Adds `maskChanges` (prunes since the last epoch) to the epoch metrics. */
  onEpochEnd(_ctx: SparsifyContext, metrics: Record<string, unknown>): void {
    metrics.maskChanges = { method: this.name, events: this.changes };
    this.changes = [];
  }

  getState(): SparsifyState {
    return { json: { lastPruneStep: this.lastPruneStep, changes: this.changes } };
  }

  setState(state: SparsifyState): void {
    const j = state.json as { lastPruneStep?: number; changes?: Gmp['changes'] } | undefined;
    this.lastPruneStep = j?.lastPruneStep ?? -1;
    this.changes = j?.changes ?? [];
  }
}
