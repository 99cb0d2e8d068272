/**
 * AC/DC (Peste et al. 2021, IST-DASLab/ACDC): a dense warm-up, then alternating compressed
 * (sparse) and decompressed (dense) phases, and a final compressed fine-tuning phase. Each
 * compression keeps the top-k |θ| (|m ⊙ w| under Sign-In) of the whole, dense, weight: a weight
 * pruned in an earlier sparse phase can come back. By default one threshold over all the masked
 * layers, as the reference's UnstructuredMagnitudePruner (policies/pruners.py) that its ResNet-50
 * and CIFAR configs use. Each decompression sets the mask to all ones; the weights that were
 * pruned come back at θ = 0 (m = √β, w = 0 under Sign-In), as the reference RestoreWeights
 * recycler does, and the momentum of every parameter is zeroed, as its
 * `--reset_momentum_after_recycling` runs do with SGD.reset_momentum_buffer (option
 * resetMomentumAfterDecompress, default true). Phases change at epoch boundaries.
 */
import { InvalidArgumentError } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { onesLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { bool, int, keysOf, num, oneOf, options } from '../validate';
import type { SparsifyCallback, SparsifyContext, SparsifyState } from './hooks';
import { changeMasks, layersByName, zeroAllMomentum, type MomentumOwner } from './mask-change';
import { magnitudeMasks, SCOPES, type Scope } from './select';

export type AcdcPhase = 'dense' | 'sparse';

export interface AcdcOptions {
  sparsity: number;
  /** Total training epochs. */
  epochs: number;
  /** Dense warm-up epochs; default 10 (ImageNet). */
  warmupEpochs?: number;
  /** Length of each sparse and each dense phase in epochs; default 5. */
  phaseEpochs?: number;
  /** Final sparse fine-tuning epochs; default 10. */
  finetuneEpochs?: number;
  /** default 'global' (the reference's UnstructuredMagnitudePruner: one threshold over the listed layers). */
  scope?: Scope;
  /** Zero the momentum of every parameter when a dense phase starts; default true. */
  resetMomentumAfterDecompress?: boolean;
}

/** The phase lengths of the reference's ImageNet recipe, in epochs: what an option left out gets. */
export const ACDC_DEFAULTS = { warmupEpochs: 10, phaseEpochs: 5, finetuneEpochs: 10 } as const;

const ACDC_OPTIONS = keysOf<AcdcOptions>({
  sparsity: true, epochs: true, warmupEpochs: true, phaseEpochs: true, finetuneEpochs: true, scope: true, resetMomentumAfterDecompress: true,
});

export class Acdc implements SparsifyCallback {
  readonly name = 'acdc';
  readonly sparsity: number;
  readonly epochs: number;
  readonly warmupEpochs: number;
  readonly phaseEpochs: number;
  readonly finetuneEpochs: number;
  readonly scope: Scope;
  readonly resetMomentumAfterDecompress: boolean;
  private current: AcdcPhase = 'dense';
  /** Phase switches since the last epoch end. */
  changes: { epoch: number; phase: AcdcPhase; changed: number }[] = [];

  constructor(opts: AcdcOptions) {
    const o = options<AcdcOptions>('options', opts, ACDC_OPTIONS);
    this.sparsity = num('sparsity', o.sparsity, 0, 1);
    if (this.sparsity >= 1) throw new InvalidArgumentError('sparsity', 'number in [0, 1)', o.sparsity);
    this.epochs = int('epochs', o.epochs, 1);
    this.warmupEpochs = int('warmupEpochs', o.warmupEpochs ?? ACDC_DEFAULTS.warmupEpochs, 0, this.epochs);
    this.phaseEpochs = int('phaseEpochs', o.phaseEpochs ?? ACDC_DEFAULTS.phaseEpochs, 1);
    this.finetuneEpochs = int('finetuneEpochs', o.finetuneEpochs ?? ACDC_DEFAULTS.finetuneEpochs, 0, this.epochs - this.warmupEpochs);
    this.scope = oneOf('scope', o.scope ?? 'global', SCOPES);
    this.resetMomentumAfterDecompress = bool('resetMomentumAfterDecompress', o.resetMomentumAfterDecompress ?? true);
  }

  /** The phase of (0-based) epoch e. */
  phaseAt(e: number): AcdcPhase {
    if (e < this.warmupEpochs) return 'dense';
    if (e >= this.epochs - this.finetuneEpochs) return 'sparse';
    return Math.floor((e - this.warmupEpochs) / this.phaseEpochs) % 2 === 0 ? 'sparse' : 'dense';
  }

  /** Compresses (magnitude top-k of the whole weight) or decompresses (all ones) the model. */
  switchTo(model: Module, phase: AcdcPhase, optimizer?: MomentumOwner): number {
    const layers = [...layersByName(model)];
    const masks = noGrad(() => tidy(() => (phase === 'sparse'
      ? magnitudeMasks(layers.map(([, l]) => l), 1 - this.sparsity, this.scope).map((m, i) => m.to(layers[i][1].mask.dtype))
      : layers.map(([, l]) => onesLike(l.mask)))));
    try {
      const change = changeMasks(model, new Map(layers.map(([n], i) => [n, masks[i]])), optimizer);
      if (phase === 'dense' && this.resetMomentumAfterDecompress) zeroAllMomentum(model, optimizer);
      this.current = phase;
      return change.grown + change.dropped;
    } finally {
      for (const m of masks) m.dispose();
    }
  }

  private enter(ctx: SparsifyContext): void {
    const want = this.phaseAt(ctx.epoch);
    if (ctx.epoch >= this.epochs || want === this.current) return;
    const changed = this.switchTo(ctx.model, want, ctx.optimizer);
    this.changes.push({ epoch: ctx.epoch, phase: want, changed });
  }

  onTrainStart(ctx: SparsifyContext): void {
    this.enter(ctx);
  }

  /** Switches phase for the coming epoch, then adds `maskChanges` (this epoch's switches included) to the metrics. */
  onEpochEnd(ctx: SparsifyContext, metrics: Record<string, unknown>): void {
    this.enter(ctx);
    metrics.maskChanges = { method: this.name, events: this.changes };
    this.changes = [];
  }

  getState(): SparsifyState {
    return { json: { current: this.current, changes: this.changes } };
  }

  setState(state: SparsifyState): void {
    const j = state.json as { current?: AcdcPhase; changes?: Acdc['changes'] } | undefined;
    this.current = j?.current ?? 'dense';
    this.changes = j?.changes ?? [];
  }
}
