/**
 * Sign statistics (signin-method.md, "Sign-In causes more sign flips than PaI"): the fraction of
 * unmasked weights whose sign differs from a reference, the initialization or the previous
 * snapshot, per layer and overall, and the mean inner scaling β = m² − w² of Sign-In layers.
 *
 * SignTracker snapshots sign(θ) of every tracked masked layer when it is created (int8 tensors,
 * one byte per weight) and on each update() compares the current signs with the initial and the
 * previous snapshot, over the entries where the *current* mask is 1. The overall fractions are
 * weighted by the unmasked counts (Σ flips / Σ unmasked). A weight that is exactly 0 has sign 0,
 * so it differs from both +1 and −1. Each layer costs one ATen pass per statistic inside tidy()
 * and one read-back of a handful of numbers.
 *
 * It is also a trainer callback: onEpochEnd adds `signFlips` (the returned plain data) to the
 * epoch metrics, so it lands in metrics.jsonl; getState/setState carry the snapshots in
 * checkpoints.
 */
import { ToolkitError } from '../errors';
import type { MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { stack } from '../tensor/ops';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import type { Tensor } from '../tensor/tensor';
import { keysOf, options } from '../validate';
import { selectLayers, signinLayers, type LayerSelector } from './apply';
import { signinFactors } from './parametrization';

export interface FlipFractions {
  /** Fraction of unmasked weights whose sign differs from the initial snapshot. */
  fromInit: number;
  /** Fraction of unmasked weights whose sign differs from the previous snapshot. */
  fromPrev: number;
}

export interface LayerSignStats extends FlipFractions {
  /** Unmasked weights of the layer (the weight of this layer in the overall fractions). */
  unmasked: number;
  /** Mean of m² − w² over the unmasked entries; only for layers in the Sign-In parametrization. */
  meanBeta?: number;
}

export interface SignStats {
  overall: FlipFractions & { unmasked: number };
  /** By dotted module name of the masked layer (`layer1.0.conv1`). */
  perLayer: Record<string, LayerSignStats>;
}

/** The inner scaling β = m² − w² of a model's Sign-In layers, averaged over the kept entries. */
export interface InnerScaling {
  /** Σ over layers of Σ_kept (m² − w²) / Σ kept entries; NaN without Sign-In layers or kept entries. */
  mean: number;
  /** Kept entries of the Sign-In layers. */
  count: number;
  /** Mean over each layer's kept entries, by dotted module name. */
  perLayer: Record<string, number>;
}

/**
 * β = m² − w² averaged over the kept entries of every Sign-In layer (masked entries hold m = √β
 * and w = 0 and would only echo the last reset's β). One ATen reduction per layer, in float64.
 */
export function innerScaling(model: Module): InnerScaling {
  const perLayer: Record<string, number> = {};
  let sum = 0;
  let count = 0;
  for (const [name, layer] of signinLayers(model)) {
    const s = signinFactors(layer)!;
    const t = noGrad(() => tidy(() => {
      const kept = layer.mask.ne(0);
      const beta = s.m.to('float64').square().sub(s.w.to('float64').square());
      return stack([beta.mul(kept).sum(), kept.sum().to('float64')]);
    }));
    const [b, n] = t.toArray();
    t.dispose();
    perLayer[name] = n > 0 ? b / n : NaN;
    sum += b;
    count += n;
  }
  return { mean: count > 0 ? sum / count : NaN, count, perLayer };
}

export interface SignTrackerOptions {
  /** Layers to track; default all masked conv/linear layers. */
  layers?: LayerSelector;
}

/** sign(θ) as int8 (−1, 0, 1), detached. */
function signOf(t: Tensor): Tensor {
  return noGrad(() => tidy(() => t.detach().sign().to('int8')));
}

export class SignTracker {
  readonly name = 'sign-tracker';
  private readonly layers: [string, MaskedLayer][];
  private readonly init = new Map<string, Tensor>();
  private readonly prev = new Map<string, Tensor>();
  /** The statistics of the last update(), if any. */
  last: SignStats | undefined;

  /** Snapshots the signs of the tracked layers now (call it on the initialized, masked model). */
  constructor(model: Module, opts: SignTrackerOptions = {}) {
    const o = options<SignTrackerOptions>('options', opts, keysOf<SignTrackerOptions>({ layers: true }));
    this.layers = selectLayers(model, o.layers);
    for (const [name, layer] of this.layers) {
      this.init.set(name, keep(signOf(layer.weight)));
      this.prev.set(name, keep(signOf(layer.weight)));
    }
  }

  /** The tracked layer names. */
  get layerNames(): string[] {
    return this.layers.map(([n]) => n);
  }

  /**
   * Compares the current signs with the initial and previous snapshots, then makes the current
   * signs the new previous snapshot.
   */
  update(): SignStats {
    const perLayer: Record<string, LayerSignStats> = {};
    let unmasked = 0;
    let flipsInit = 0;
    let flipsPrev = 0;
    for (const [name, layer] of this.layers) {
      const init = this.init.get(name)!;
      const prev = this.prev.get(name)!;
      if (init.isDisposed) throw new ToolkitError('ERR_TENSOR_DISPOSED', 'SignTracker is disposed');
      const s = signinFactors(layer);
      const { counts, current } = noGrad(() => tidy(() => {
        const cur = layer.weight.detach().sign().to('int8');
        const keepMask = layer.mask.ne(0);
        const parts = [
          keepMask.sum().to('float64'),
          cur.ne(init).logicalAnd(keepMask).sum().to('float64'),
          cur.ne(prev).logicalAnd(keepMask).sum().to('float64'),
        ];
        if (s) parts.push(s.m.to('float64').square().sub(s.w.to('float64').square()).mul(keepMask).sum());
        return { counts: stack(parts), current: cur };
      }));
      const [n, fi, fp, betaSum] = counts.toArray();
      counts.dispose();
      prev.dispose();
      this.prev.set(name, keep(current));
      const entry: LayerSignStats = { fromInit: n > 0 ? fi / n : 0, fromPrev: n > 0 ? fp / n : 0, unmasked: n };
      if (s) entry.meanBeta = n > 0 ? betaSum / n : 0;
      perLayer[name] = entry;
      unmasked += n;
      flipsInit += fi;
      flipsPrev += fp;
    }
    this.last = {
      overall: { fromInit: unmasked > 0 ? flipsInit / unmasked : 0, fromPrev: unmasked > 0 ? flipsPrev / unmasked : 0, unmasked },
      perLayer,
    };
    return this.last;
  }

  /** Trainer hook: updates and adds the statistics to the epoch metrics as `signFlips`. */
  onEpochEnd(_ctx: unknown, metrics?: Record<string, unknown>): void {
    const stats = this.update();
    if (metrics && typeof metrics === 'object') metrics.signFlips = stats;
  }

  /** The snapshots for a checkpoint (`<layer>.init`, `<layer>.prev`; live tensors, not copies). */
  getState(): { tensors: Map<string, Tensor> } {
    const tensors = new Map<string, Tensor>();
    for (const [name] of this.layers) {
      tensors.set(`${name}.init`, this.init.get(name)!);
      tensors.set(`${name}.prev`, this.prev.get(name)!);
    }
    return { tensors };
  }

  /** Restores snapshots saved by getState (copied into the tracker's own tensors). */
  setState(state: { tensors?: Map<string, Tensor> }): void {
    const src = state.tensors;
    if (!src) return;
    noGrad(() => {
      for (const [name] of this.layers) {
        for (const [kind, map] of [['init', this.init], ['prev', this.prev]] as const) {
          const t = src.get(`${name}.${kind}`);
          if (!t) throw new ToolkitError('ERR_STATE_DICT', `SignTracker state lacks ${name}.${kind}`);
          tidy(() => {
            map.get(name)!.copy_(t.to('int8'));
          });
        }
      }
    });
  }

  /** Frees the snapshots. Idempotent. */
  dispose(): void {
    for (const t of this.init.values()) t.dispose();
    for (const t of this.prev.values()) t.dispose();
  }
}
