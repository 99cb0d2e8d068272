/**
 * RiGL (Evci et al. 2020) and SET (Mocanu et al. 2018) as one callback: a sparse mask from the
 * start (ERK layer densities, random positions), then every ΔT steps until stopFraction of the
 * training, each layer drops the fraction d_t = (α/2)(1 + cos(π t / T_end)) of its kept weights
 * with the smallest |θ| and regrows as many among the entries not kept after the drop: by the
 * largest |∂L/∂θ| of the dense gradient (RiGL) or at random (SET). Counts per layer, as the
 * reference's integer cast: n_drop = ⌊d_t · n_kept⌋.
 *
 * As google-research/rigl's `_get_update_op` (sparse_optimizers_base.py): only entries that were
 * not kept before the update are new (θ = 0, under Sign-In m = √β, w = 0, with zero momentum); an
 * entry dropped and regrown in the same update keeps its weight and momentum. RiGL replaces the
 * optimizer step of an update iteration by the update (the reference's `cond_mask_update_op`
 * runs the mask update instead of `apply_gradients`); SET, as the reference's
 * SparseSETOptimizer, takes the step and then updates the mask from the stepped weights.
 */
import { InvalidArgumentError } from '../errors';
import type { MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import { layerDensities } from '../pruning/distributions';
import { keptCount, topKMask } from '../pruning/threshold';
import { noGrad } from '../tensor/autograd';
import { onesLike, rand } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Generator } from '../tensor/runtime';
import { tensorHandle, type Tensor } from '../tensor/tensor';
import { bool, int, keysOf, num, oneOf, options } from '../validate';
import { skipStep, type SparsifyCallback, type SparsifyContext, type SparsifyState } from './hooks';
import { changeMasks, layersByName, type MomentumOwner } from './mask-change';
import { magnitude } from './select';

export const GROWTH = ['gradient', 'random'] as const;
export type Growth = (typeof GROWTH)[number];

export interface RiglOptions {
  /** Target sparsity in [0, 1). */
  sparsity: number;
  /** Layer densities of the initial mask; default 'erk'. */
  distribution?: 'erk' | 'er' | 'uniform';
  /** Steps between mask updates (ΔT); default 100. */
  deltaT?: number;
  /** Initial drop fraction α; default 0.3. */
  dropFraction?: number;
  /** Mask updates stop at this fraction of the total steps (T_end); default 0.75. */
  stopFraction?: number;
  /** 'gradient' (RiGL, default) or 'random' (SET). */
  growth?: Growth;
  /** Total training steps (epochs × steps per epoch); T_end = stopFraction × totalSteps. */
  totalSteps: number;
  /**
   * Keep the first masked layer dense: all ones, never updated, and outside the budget the
   * distribution spreads (google-research/rigl leaves its first conv unmasked by default:
   * first_layer_sparsity 0 in imagenet_train_eval.py, prune_first_layer False in
   * resnet_train_eval.py). Default false.
   */
  denseFirst?: boolean;
  /** Random initial mask and SET growth. */
  generator?: Generator;
}

/** The cosine-decayed drop fraction at step t (0 from T_end on). */
export function riglDropFraction(step: number, alpha: number, tEnd: number): number {
  num('step', step);
  num('alpha', alpha);
  num('tEnd', tEnd);
  if (step >= tEnd) return 0;
  return (alpha / 2) * (1 + Math.cos((Math.PI * step) / tEnd));
}

/**
 * One layer's RiGL/SET update from its mask, |θ| and grow scores: drop the n_drop = ⌊dropFraction ·
 * n_kept⌋ smallest-|θ| kept entries, grow n_drop of the highest grow scores among the entries not
 * kept after the drop (ties to the lower index, as TF's top_k).
 * Returns { afterDrop, next } (0/1 masks of the mask's dtype).
 */
export function riglLayerUpdate(mask: Tensor, magnitudeScores: Tensor, growScores: Tensor, dropFraction: number): { afterDrop: Tensor; next: Tensor; nDrop: number } {
  tensorHandle('mask', mask);
  tensorHandle('magnitudeScores', magnitudeScores);
  tensorHandle('growScores', growScores);
  num('dropFraction', dropFraction, 0, 1);
  return tidy(() => {
    const kept = mask.ne(0);
    const nKept = kept.sum().item();
    const nDrop = Math.floor(dropFraction * nKept);
    const afterDrop = topKMask(magnitudeScores, nKept - nDrop, kept).to(mask.dtype);
    const grown = topKMask(growScores, nDrop, afterDrop.eq(0)).to(mask.dtype);
    return { afterDrop, next: afterDrop.add(grown), nDrop };
  });
}

const RIGL_OPTIONS = keysOf<RiglOptions>({
  sparsity: true, distribution: true, deltaT: true, dropFraction: true, stopFraction: true, growth: true, totalSteps: true, denseFirst: true, generator: true,
});

export class Rigl implements SparsifyCallback {
  readonly name: string;
  readonly sparsity: number;
  readonly distribution: 'erk' | 'er' | 'uniform';
  readonly deltaT: number;
  readonly alpha: number;
  readonly stopFraction: number;
  readonly growth: Growth;
  readonly totalSteps: number;
  readonly denseFirst: boolean;
  private readonly generator?: Generator;
  private initialized = false;
  /** Mask updates since the last epoch end. */
  changes: { step: number; dropFraction: number; changed: number; perLayer: Record<string, number> }[] = [];

  constructor(opts: RiglOptions) {
    const o = options<RiglOptions>('options', opts, RIGL_OPTIONS);
    this.sparsity = num('sparsity', o.sparsity, 0, 1);
    if (this.sparsity >= 1) throw new InvalidArgumentError('sparsity', 'number in [0, 1)', o.sparsity);
    this.distribution = oneOf('distribution', o.distribution ?? 'erk', ['erk', 'er', 'uniform'] as const);
    this.deltaT = int('deltaT', o.deltaT ?? 100, 1);
    this.alpha = num('dropFraction', o.dropFraction ?? 0.3, 0, 1);
    this.stopFraction = num('stopFraction', o.stopFraction ?? 0.75, 0, 1);
    this.growth = oneOf('growth', o.growth ?? 'gradient', GROWTH);
    this.totalSteps = int('totalSteps', o.totalSteps, 1);
    this.denseFirst = bool('denseFirst', o.denseFirst ?? false);
    this.generator = o.generator;
    this.name = this.growth === 'gradient' ? 'rigl' : 'set';
  }

  get tEnd(): number {
    return Math.floor(this.stopFraction * this.totalSteps);
  }

  /** Whether the iteration after `step` completed steps updates the mask. */
  dueAt(step: number): boolean {
    return step > 0 && step % this.deltaT === 0 && step < this.tEnd;
  }

  /** The masked layers the method sparsifies (all but the first with denseFirst). */
  private sparseLayers(model: Module): [string, MaskedLayer][] {
    const layers = [...layersByName(model)];
    if (!this.denseFirst) return layers;
    if (layers.length < 2) throw new InvalidArgumentError('denseFirst', `false for a model with ${layers.length} masked layer(s) (nothing would be sparse)`, true);
    return layers.slice(1);
  }

  /**
   * The initial random mask with the distribution's layer densities (exact counts per layer); with
   * denseFirst the first masked layer gets an all-ones mask.
   */
  initialize(model: Module, optimizer?: MomentumOwner): void {
    const all = [...layersByName(model)];
    const layers = this.sparseLayers(model);
    const dens = layerDensities(this.distribution, layers.map(([n, l]) => ({ name: n, shape: l.weight.shape })), 1 - this.sparsity);
    const density = new Map(layers.map(([n], i) => [n, dens[i]]));
    const masks = noGrad(() => tidy(() => all.map(([n, l]) => {
      const d = density.get(n);
      if (d === undefined) return onesLike(l.mask);
      return topKMask(rand(l.weight.shape, { generator: this.generator }), keptCount(d, l.weight.numel)).to(l.mask.dtype);
    })));
    try {
      changeMasks(model, new Map(all.map(([n], i) => [n, masks[i]])), optimizer);
    } finally {
      for (const m of masks) m.dispose();
    }
    this.initialized = true;
  }

  /**
   * One drop/grow update of every layer at iteration `step` (θ.grad must hold the dense gradient for
   * RiGL). The events count as grown only the entries that were not kept before the update.
   */
  update(model: Module, step: number, optimizer?: MomentumOwner): void {
    const d = riglDropFraction(step, this.alpha, this.tEnd);
    const layers = this.sparseLayers(model);
    const plans = noGrad(() => tidy(() => layers.map(([name, l]) => {
      const grow = this.growth === 'gradient' ? this.gradScores(name, l) : rand(l.weight.shape, { generator: this.generator });
      return riglLayerUpdate(l.mask, magnitude(l), grow, d);
    })));
    try {
      // One change from the old mask to the new: a dropped-and-regrown entry is unchanged, so it keeps θ and momentum.
      const change = changeMasks(model, new Map(layers.map(([n], i) => [n, plans[i].next])), optimizer);
      const perLayer: Record<string, number> = {};
      for (const [n] of layers) perLayer[n] = change.perLayer[n].grown;
      this.changes.push({ step, dropFraction: d, changed: change.grown, perLayer });
    } finally {
      for (const p of plans) { p.afterDrop.dispose(); p.next.dispose(); }
    }
  }

  private gradScores(name: string, l: MaskedLayer): Tensor {
    const g = l.weight.grad;
    if (!g) throw new InvalidArgumentError(`the gradient of ${name}.weight`, 'a Tensor (RiGL grows by the dense gradient: call update after backward)', g);
    return g.abs();
  }

  onTrainStart(ctx: SparsifyContext): void {
    if (!this.initialized) this.initialize(ctx.model, ctx.optimizer);
  }

  onAfterBackward(ctx: SparsifyContext): void {
    // An inf/NaN gradient (float16, the step skipped) would grow by garbage: this update is missed,
    // as the step is, and the next comes at the next ΔT.
    if (this.growth !== 'gradient' || !this.dueAt(ctx.step) || ctx.gradsFinite === false) return;
    this.update(ctx.model, ctx.step, ctx.optimizer);
    skipStep(ctx.model);
  }

  /** SET: the update of iteration ctx.step − 1, after its optimizer step. */
  onStepEnd(ctx: SparsifyContext): void {
    const t = ctx.step - 1;
    if (this.growth !== 'random' || !this.dueAt(t)) return;
    this.update(ctx.model, t, ctx.optimizer);
  }

  onEpochEnd(_ctx: SparsifyContext, metrics: Record<string, unknown>): void {
    metrics.maskChanges = { method: this.name, events: this.changes };
    this.changes = [];
  }

  getState(): SparsifyState {
    return { json: { initialized: this.initialized, changes: this.changes } };
  }

  setState(state: SparsifyState): void {
    const j = state.json as { initialized?: boolean; changes?: Rigl['changes'] } | undefined;
    this.initialized = j?.initialized ?? false;
    this.changes = j?.changes ?? [];
  }
}
