/**
 * The Sign-In reset schedule ("dynamic" Sign-In, signin-method.md): every `period` epochs (or
 * steps) the factors m and w of every Sign-In layer are re-split with m² − w² = β, which leaves θ
 * and the network function unchanged and restores the inner scaling that SGD noise and weight
 * decay wear away.
 *
 * SignInResetSchedule is a trainer callback (it has the hooks of src/train/callbacks.ts's
 * Callback: onStepEnd / onEpochEnd receive the trainer's context, whose `step` and `epoch` count
 * *completed* optimizer steps and epochs). The hooks also take plain numbers for use outside the
 * trainer: onStepEnd(step, epoch) and onEpochEnd(epoch), with the same meaning (counts, not
 * indices):
 *
 * - unit 'epochs': a reset runs at the end of epoch e (e = completed epochs, 1-based) when
 *   e % period === 0 and, if stopAfterEpoch is set, e ≤ stopAfterEpoch.
 * - unit 'steps': a reset runs after step s (s = completed steps, 1-based) when s % period === 0
 *   and, if stopAfterEpoch is set, the step belongs to an epoch ≤ stopAfterEpoch (that is, fewer
 *   than stopAfterEpoch epochs had completed when the step ran).
 *
 * So with stopAfterEpoch = 150 in a 160-epoch run, no reset happens during the final 10 epochs
 * (e.g. to leave the last learning-rate decay alone).
 *
 * With `epochs` (the training length) no reset runs once training is over: not after the last
 * epoch, nor after the last step of it (unit 'steps', when the trainer's context gives
 * stepsPerEpoch). Such a reset would leave θ unchanged up to rounding, cost a pass, and replace
 * the final β by the reset value in the statistics.
 *
 * Each reset measures the inner scaling β = m² − w² averaged over the kept entries just before
 * and just after it (innerScaling, stats.ts). Before is the quantity that matters: SGD noise and
 * weight decay wear β down between resets and the reset restores it. onEpochEnd adds to the
 * epoch metrics `betaBeforeReset` and `betaAfterReset`, the means over the epoch's resets
 * (absent when none ran in the epoch), and `betaBeforeResetPerLayer`, each layer's β before the
 * resets, averaged over them likewise. Per layer after the reset is left out: it is the β the
 * layer was split with, to rounding, which the config already says.
 */
import { InvalidArgumentError } from '../errors';
import { moduleArg, type Module } from '../nn/module';
import { int, num, obj, oneOf, options } from '../validate';
import { resetSignIn, signinOptimizer, type BetaOption, type SignInOptimizer } from './apply';
import { innerScaling } from './stats';

export type ResetUnit = 'epochs' | 'steps';
export type ResetMomentum = 'keep' | 'zero';

export interface SignInResetOptions {
  /** Reset every `period` units; a positive integer. Default 1 (every epoch, as in the paper's dynamic Sign-In). */
  period?: number;
  /** 'epochs' (default) or 'steps'. */
  unit?: ResetUnit;
  /** No reset after this many epochs have completed (see the module comment). Default: never stop. */
  stopAfterEpoch?: number;
  /** The training length in epochs: no reset once it is reached (see the module comment). Default: unknown (reset on schedule). */
  epochs?: number;
  /** Momentum buffers of m and w at a reset: 'keep' (default) or 'zero'. */
  momentum?: ResetMomentum;
  /**
   * The inner scaling m² − w² restored by a reset, for every layer or per layer; default: each
   * layer's own β (the one applySignIn split it with, 1 unless chosen otherwise).
   */
  beta?: BetaOption;
  /**
   * The optimizer that trains the Sign-In factors; needed for momentum 'zero' (and to keep masked
   * entries of its buffers at zero). Inside the trainer, the context's optimizer is used when this
   * is not given.
   */
  optimizer?: SignInOptimizer;
}

export interface ResolvedResetOptions {
  period: number;
  unit: ResetUnit;
  stopAfterEpoch: number | undefined;
  epochs: number | undefined;
  momentum: ResetMomentum;
  beta: BetaOption | undefined;
}

/** Validates reset-schedule options and fills in the defaults. */
export function resolveResetOptions(opts: SignInResetOptions = {}): ResolvedResetOptions {
  const o = options<SignInResetOptions>('options', opts, ['period', 'unit', 'stopAfterEpoch', 'epochs', 'momentum', 'beta', 'optimizer']);
  const stop = o.stopAfterEpoch;
  const beta = o.beta;
  if (beta !== undefined && typeof beta !== 'function' && (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta))) {
    throw new InvalidArgumentError('beta', 'finite number > 0 or a function of the layer', beta);
  }
  return {
    period: int('period', o.period ?? 1, 1),
    unit: oneOf('unit', o.unit ?? 'epochs', ['epochs', 'steps'] as const),
    stopAfterEpoch: stop === undefined ? undefined : int('stopAfterEpoch', stop, 0),
    epochs: o.epochs === undefined ? undefined : int('epochs', o.epochs, 1),
    momentum: oneOf('momentum', o.momentum ?? 'keep', ['keep', 'zero'] as const),
    beta,
  };
}

/**
 * Whether a reset is due after `step` completed steps, `epoch` completed epochs before this step
 * ended; `stepsPerEpoch`, when known, recognises the last step of training (options.epochs).
 */
export function resetDueAtStep(o: ResolvedResetOptions, step: number, epoch: number, stepsPerEpoch?: number): boolean {
  obj('options', o, 'reset options (from resolveResetOptions)');
  int('step', step);
  int('epoch', epoch);
  if (stepsPerEpoch !== undefined) num('stepsPerEpoch', stepsPerEpoch, 0);
  if (o.unit !== 'steps' || step <= 0 || step % o.period !== 0) return false;
  if (o.epochs !== undefined && stepsPerEpoch !== undefined && stepsPerEpoch > 0 && step >= o.epochs * stepsPerEpoch) return false;
  return o.stopAfterEpoch === undefined || epoch < o.stopAfterEpoch;
}

/** Whether a reset is due when `epoch` epochs have completed. */
export function resetDueAtEpoch(o: ResolvedResetOptions, epoch: number): boolean {
  obj('options', o, 'reset options (from resolveResetOptions)');
  int('epoch', epoch);
  if (o.unit !== 'epochs' || epoch <= 0 || epoch % o.period !== 0) return false;
  if (o.epochs !== undefined && epoch >= o.epochs) return false;
  return o.stopAfterEpoch === undefined || epoch <= o.stopAfterEpoch;
}

/** The parts of the trainer's context the schedule reads (src/train/callbacks.ts TrainContext). */
export interface ResetContext {
  step: number;
  epoch: number;
  stepsPerEpoch?: number;
  optimizer?: unknown;
}

/** One reset that ran, for logs and tests. */
export interface ResetEvent {
  step: number | undefined;
  epoch: number;
  layers: number;
  /** Mean of m² − w² over the kept entries just before the reset (NaN without kept entries). */
  betaBefore: number;
  /** The same just after it (the restored β, to rounding). */
  betaAfter: number;
}

/**
 * Resets the Sign-In split on a schedule. Use it as a trainer callback, or call its hooks
 * yourself (`onStepEnd(step, epoch)` after each optimizer step, `onEpochEnd(epoch)` after each
 * epoch; both count completed steps/epochs).
 */
export class SignInResetSchedule {
  readonly name = 'signin-reset';
  readonly options: ResolvedResetOptions;
  /** Every reset performed so far, in order. */
  readonly history: ResetEvent[] = [];
  private optimizer: SignInOptimizer | undefined;
  /** Resets since the last onEpochEnd, for the epoch's β metrics. */
  private epochResets: ResetEvent[] = [];
  /**
   * Per layer, the sum and count of the finite β before this epoch's resets (kept as sums, not
   * in the events: with resets every step, per-layer values in every event would swell the
   * history that checkpoints carry). Undefined when a checkpoint without them resumed this epoch:
   * its per-layer means would miss the resets before the checkpoint, so the row goes without.
   */
  private epochBeforePerLayer: Map<string, LayerSum> | undefined = new Map();

  constructor(readonly model: Module, opts: SignInResetOptions = {}) {
    moduleArg('model', model);
    this.options = resolveResetOptions(opts);
    this.optimizer = signinOptimizer('optimizer', opts.optimizer);
  }

  /** After an optimizer step: the trainer's context, or (completed steps, completed epochs). */
  onStepEnd(ctx: ResetContext | number, epoch?: number): void {
    const c = typeof ctx === 'number' ? { step: ctx, epoch: epoch ?? 0 } : ctx;
    if (resetDueAtStep(this.options, c.step, c.epoch, typeof ctx === 'number' ? undefined : ctx.stepsPerEpoch)) this.reset(c, c.step);
  }

  /** After an epoch: the trainer's context, or the number of completed epochs. */
  onEpochEnd(ctx: ResetContext | number, metrics?: Record<string, unknown>): void {
    const c = typeof ctx === 'number' ? { step: NaN, epoch: ctx } : ctx;
    if (resetDueAtEpoch(this.options, c.epoch)) this.reset(c, Number.isNaN(c.step) ? undefined : c.step);
    const resets = this.epochResets;
    const perLayer = this.epochBeforePerLayer;
    this.epochResets = [];
    this.epochBeforePerLayer = new Map();
    if (metrics && typeof metrics === 'object') {
      metrics.signinResets = this.history.length;
      const before = resets.map((e) => e.betaBefore).filter(Number.isFinite);
      const after = resets.map((e) => e.betaAfter).filter(Number.isFinite);
      if (before.length) metrics.betaBeforeReset = before.reduce((a, b) => a + b, 0) / before.length;
      if (after.length) metrics.betaAfterReset = after.reduce((a, b) => a + b, 0) / after.length;
      const layers = [...(perLayer ?? [])].filter(([, l]) => l.n > 0);
      if (layers.length) metrics.betaBeforeResetPerLayer = Object.fromEntries(layers.map(([name, l]) => [name, l.sum / l.n]));
    }
  }

  /**
   * Checkpoint state: the resets done so far (the schedule itself is a function of step and epoch),
   * how many of the last are this epoch's and their per-layer β sums, for the epoch's β metrics
   * when a checkpoint in the middle of the epoch resumes.
   */
  getState(): { json: { history: ResetEvent[]; epochResets: number; epochBeforePerLayer?: Record<string, LayerSum> } } {
    const perLayer = this.epochBeforePerLayer;
    return {
      json: {
        history: this.history.map((e) => ({ ...e })),
        epochResets: this.epochResets.length,
        ...(perLayer ? { epochBeforePerLayer: Object.fromEntries([...perLayer].map(([k, l]) => [k, { ...l }])) } : {}),
      },
    };
  }

  /**
   * Takes getState's json, or what older checkpoints held: the list of resets (written at an
   * epoch's end), or the state without per-layer sums (its epoch's row then has no per-layer β).
   */
  setState(state: { json?: unknown }): void {
    this.history.length = 0;
    this.epochResets = [];
    this.epochBeforePerLayer = new Map();
    const j = state.json as { history?: unknown; epochResets?: unknown; epochBeforePerLayer?: unknown } | ResetEvent[] | undefined;
    const history = Array.isArray(j) ? j : j?.history;
    if (!Array.isArray(history)) return;
    this.history.push(...(history as ResetEvent[]));
    const n = Array.isArray(j) ? 0 : Number(j?.epochResets ?? 0);
    if (!Number.isInteger(n) || n <= 0) return;
    this.epochResets = this.history.slice(-n);
    this.epochBeforePerLayer = layerSums(Array.isArray(j) ? undefined : j?.epochBeforePerLayer);
  }

  /** Resets now, whatever the schedule says. */
  resetNow(ctx?: ResetContext): number {
    return this.reset(ctx ?? { step: NaN, epoch: NaN }, undefined);
  }

  private reset(ctx: ResetContext, step: number | undefined): number {
    const optimizer = this.optimizer ?? asSignInOptimizer(ctx.optimizer);
    const before = innerScaling(this.model);
    const layers = resetSignIn(this.model, {
      beta: this.options.beta,
      zeroMomentum: this.options.momentum === 'zero',
      optimizer,
    });
    const event = { step, epoch: ctx.epoch, layers, betaBefore: before.mean, betaAfter: innerScaling(this.model).mean };
    const sums = this.epochBeforePerLayer;
    if (sums) {
      for (const [name, b] of Object.entries(before.perLayer)) {
        if (!Number.isFinite(b)) continue;
        const l = sums.get(name) ?? { sum: 0, n: 0 };
        sums.set(name, { sum: l.sum + b, n: l.n + 1 });
      }
    }
    this.history.push(event);
    this.epochResets.push(event);
    return layers;
  }
}

/** A layer's running sum of β before the epoch's resets, and how many it holds. */
export interface LayerSum {
  sum: number;
  n: number;
}

/** getState's per-layer sums from a checkpoint's json; undefined when absent or malformed. */
function layerSums(v: unknown): Map<string, LayerSum> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out = new Map<string, LayerSum>();
  for (const [name, l] of Object.entries(v)) {
    const { sum, n } = (l ?? {}) as Partial<LayerSum>;
    if (typeof sum !== 'number' || !Number.isInteger(n) || n! < 0) return undefined;
    out.set(name, { sum, n: n! });
  }
  return out;
}

function asSignInOptimizer(o: unknown): SignInOptimizer | undefined {
  return o && typeof (o as SignInOptimizer).entryBuffers === 'function' ? (o as SignInOptimizer) : undefined;
}
