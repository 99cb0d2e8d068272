/**
 * Loss scaling for float16 training, with torch.cuda.amp.GradScaler's rule: multiply the loss by
 * `scale` before backward; before the step, multiply every gradient by 1/scale and skip the step
 * when any gradient holds an inf or NaN; then halve the scale after a skipped step, or double it
 * after `growthInterval` consecutive good steps (unless the doubled scale is not finite in
 * float32). The scale is kept as a float32 value like PyTorch's scale tensor. bfloat16 has
 * float32's exponent range and needs no scaler.
 */
import { InvalidArgumentError } from '../errors';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { bool, int, options as optionsOf } from '../validate';

const FLOAT32_MAX = 3.4028234663852886e38;

/** A number in the open interval (lo, hi), named in the error by `expected`. */
function within(name: string, v: unknown, lo: number, hi: number, expected: string): number {
  if (typeof v !== 'number' || !(v > lo && v < hi)) throw new InvalidArgumentError(name, expected, v);
  return v;
}

export interface GradScalerOptions {
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
  /** false makes every method a pass-through (scale 1, every step taken). */
  enabled?: boolean;
}

export interface GradScalerState {
  scale: number;
  growthTracker: number;
}

/** What the scaler steps: any optimizer. */
export interface Steppable {
  step(): void;
}

export class GradScaler {
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly enabled: boolean;
  private scaleValue: number;
  private growthTracker = 0;
  private foundInf: boolean | undefined;

  constructor(opts: GradScalerOptions = {}) {
    const o = optionsOf<GradScalerOptions>('GradScaler options', opts);
    this.scaleValue = Math.fround(within('initScale', o.initScale ?? 2 ** 16, 0, FLOAT32_MAX, 'a positive float32 number'));
    this.growthFactor = within('growthFactor', o.growthFactor ?? 2, 1, Infinity, 'a finite number > 1');
    this.backoffFactor = within('backoffFactor', o.backoffFactor ?? 0.5, 0, 1, 'a number in (0, 1)');
    this.growthInterval = int('growthInterval', o.growthInterval ?? 2000, 1);
    this.enabled = o.enabled === undefined ? true : bool('enabled', o.enabled);
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
    if (this.foundInf !== undefined) throw new InvalidArgumentError('unscale()', 'one call per step (before update())', 'a second call');
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
    return found;
  }

  /** Unscales if needed, then steps the optimizer unless a gradient was inf/NaN; true if it stepped. */
  step(optimizer: Steppable, params: readonly Tensor[]): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    const bad = this.foundInf ?? this.unscale(params);
    if (!bad) optimizer.step();
    return !bad;
  }

  /** Updates the scale from this step's inf check (call once per step, after step()). */
  update(): void {
    if (!this.enabled) return;
    if (this.foundInf === undefined) throw new InvalidArgumentError('update()', 'a call after unscale() or step() in the same step', 'a call before them');
    if (this.foundInf) {
      this.scaleValue = Math.fround(this.scaleValue * this.backoffFactor);
      this.growthTracker = 0;
    } else if (this.growthTracker + 1 === this.growthInterval) {
      const grown = Math.fround(this.scaleValue * this.growthFactor);
      if (Number.isFinite(grown)) this.scaleValue = grown;
      this.growthTracker = 0;
    } else {
      this.growthTracker++;
    }
    this.foundInf = undefined;
  }

  stateDict(): GradScalerState {
    return { scale: this.scaleValue, growthTracker: this.growthTracker };
  }

  loadStateDict(state: GradScalerState): void {
    const s = optionsOf<GradScalerState>('GradScaler state', state);
    this.scaleValue = Math.fround(within('scale', s.scale, 0, FLOAT32_MAX, 'a positive float32 number'));
    this.growthTracker = int('growthTracker', s.growthTracker, 0, this.growthInterval - 1);
  }
}
