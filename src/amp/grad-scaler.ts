/**
 * Loss scaling for float16 training, with torch.cuda.amp.GradScaler's rule: multiply the loss by
 * `scale` before backward; before the step, multiply every gradient by 1/scale and skip the step
 * when any gradient holds an inf or NaN; then halve the scale after a skipped step, or double it
 * after `growthInterval` consecutive good steps (unless the doubled scale is not finite in
 * float32). The scale is kept as a float32 value like PyTorch's scale tensor. bfloat16 has
 * float32's exponent range and needs no scaler. Each step is unscale() (optional, e.g. before
 * clipping), step(), update(), in that order and once each, as PyTorch enforces.
 */
import { InvalidArgumentError } from '../errors';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { bool, int, keysOf, options as optionsOf } from '../validate';

/** A number in the open interval (lo, hi), named in the error by `expected`. */
function within(name: string, v: unknown, lo: number, hi: number, expected: string): number {
  if (typeof v !== 'number' || !(v > lo && v < hi)) throw new InvalidArgumentError(name, expected, v);
  return v;
}

/**
 * The float32 value of a scale, which must be positive and finite there: a positive double below
 * float32's smallest subnormal rounds to 0, which would unscale every gradient to inf or NaN.
 */
function scaleValueOf(name: string, v: unknown): number {
  const f = typeof v === 'number' ? Math.fround(v) : NaN;
  if (!(f > 0 && f < Infinity)) throw new InvalidArgumentError(name, 'a number that is positive and finite in float32', v);
  return f;
}

export interface GradScalerOptions {
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
  /** false makes every method a pass-through (scale 1, every step taken). */
  enabled?: boolean;
}

/** torch.cuda.amp.GradScaler.state_dict()'s five entries, in camelCase; {} when disabled. */
export interface GradScalerState {
  scale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
  growthTracker?: number;
}

const STATE_KEYS = keysOf<GradScalerState>({ scale: true, growthFactor: true, backoffFactor: true, growthInterval: true, growthTracker: true });

type Stage = 'ready' | 'unscaled' | 'stepped';

/** What the scaler steps: any optimizer. */
export interface Steppable {
  step(): void;
}

export class GradScaler {
  readonly enabled: boolean;
  private growthFactorValue: number;
  private backoffFactorValue: number;
  private growthIntervalValue: number;
  private scaleValue: number;
  private growthTracker = 0;
  private foundInf: boolean | undefined;
  private stage: Stage = 'ready';

  constructor(opts: GradScalerOptions = {}) {
    const o = optionsOf<GradScalerOptions>('GradScaler options', opts, keysOf<GradScalerOptions>({
      initScale: true, growthFactor: true, backoffFactor: true, growthInterval: true, enabled: true,
    }));
    this.scaleValue = scaleValueOf('initScale', o.initScale ?? 2 ** 16);
    this.growthFactorValue = within('growthFactor', o.growthFactor ?? 2, 1, Infinity, 'a finite number > 1');
    this.backoffFactorValue = within('backoffFactor', o.backoffFactor ?? 0.5, 0, 1, 'a number in (0, 1)');
    this.growthIntervalValue = int('growthInterval', o.growthInterval ?? 2000, 1);
    this.enabled = o.enabled === undefined ? true : bool('enabled', o.enabled);
  }

  get growthFactor(): number {
    return this.growthFactorValue;
  }

  get backoffFactor(): number {
    return this.backoffFactorValue;
  }

  get growthInterval(): number {
    return this.growthIntervalValue;
  }

  /** The current scale (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  /** loss × scale, a new tensor (the loss itself when disabled). */
  scale(loss: Tensor): Tensor {
    return this.enabled ? loss.mul(this.scaleValue) : loss;
  }

  /**
   * Divides the gradients of `params` by the scale in place (float32 reciprocal, as PyTorch) and
   * returns whether any was not finite. Once per step: step() calls it when it was not called.
   */
  unscale(params: readonly Tensor[]): boolean {
    if (!this.enabled) return false;
    if (this.stage === 'unscaled') throw new InvalidArgumentError('unscale()', 'one call per step (before update())', 'a second call');
    if (this.stage === 'stepped') throw new InvalidArgumentError('unscale()', 'a call before step() (step() unscales by itself)', 'a call after step()');
    const inv = Math.fround(1 / this.scaleValue);
    const found = noGrad(() => tidy(() => {
      let anyBad: Tensor | undefined;
      for (const p of params) {
        const g = p.grad;
        if (!g) continue;
        const bad = g.isfinite().all().logicalNot();
        anyBad = anyBad ? anyBad.logicalOr(bad) : bad;
        g.mul_(inv);
      }
      return anyBad ? anyBad.item() !== 0 : false;
    }));
    this.foundInf = found;
    this.stage = 'unscaled';
    return found;
  }

  /** Unscales if needed, then steps the optimizer unless a gradient was inf/NaN; true if it stepped. */
  step(optimizer: Steppable, params: readonly Tensor[]): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    if (this.stage === 'stepped') throw new InvalidArgumentError('step()', 'one call per step (then update())', 'a second call');
    const bad = this.foundInf ?? this.unscale(params);
    if (!bad) optimizer.step();
    this.stage = 'stepped';
    return !bad;
  }

  /** Updates the scale from this step's inf check (call once per step, after step()). */
  update(): void {
    if (!this.enabled) return;
    if (this.foundInf === undefined) throw new InvalidArgumentError('update()', 'a call after unscale() or step() in the same step', 'a call before them');
    if (this.foundInf) {
      this.scaleValue = Math.fround(this.scaleValue * this.backoffFactorValue);
      this.growthTracker = 0;
    } else if (this.growthTracker + 1 === this.growthIntervalValue) {
      const grown = Math.fround(this.scaleValue * this.growthFactorValue);
      if (Number.isFinite(grown)) this.scaleValue = grown;
      this.growthTracker = 0;
    } else {
      this.growthTracker++;
    }
    this.foundInf = undefined;
    this.stage = 'ready';
  }

  /** The scale, the factors, the interval and the growth tracker; {} when disabled (as PyTorch). */
  stateDict(): GradScalerState {
    if (!this.enabled) return {};
    return {
      scale: this.scaleValue, growthFactor: this.growthFactorValue, backoffFactor: this.backoffFactorValue,
      growthInterval: this.growthIntervalValue, growthTracker: this.growthTracker,
    };
  }

  /** Restores a stateDict(), factors and interval included; ignored when disabled (as PyTorch). */
  loadStateDict(state: GradScalerState): void {
    if (!this.enabled) return;
    const s = optionsOf<GradScalerState>('GradScaler state', state, STATE_KEYS);
    if (Object.keys(s).length === 0) {
      throw new InvalidArgumentError('GradScaler state', 'the stateDict() of an enabled GradScaler (a disabled one saves {})', s);
    }
    const scale = scaleValueOf('scale', s.scale);
    const growthFactor = within('growthFactor', s.growthFactor, 1, Infinity, 'a finite number > 1');
    const backoffFactor = within('backoffFactor', s.backoffFactor, 0, 1, 'a number in (0, 1)');
    const growthInterval = int('growthInterval', s.growthInterval, 1);
    this.growthTracker = int('growthTracker', s.growthTracker, 0, growthInterval - 1);
    this.scaleValue = scale;
    this.growthFactorValue = growthFactor;
    this.backoffFactorValue = backoffFactor;
    this.growthIntervalValue = growthInterval;
  }
}
