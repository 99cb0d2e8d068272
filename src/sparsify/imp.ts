/**
 * Iterative magnitude pruning with rewinding (Frankle et al., OpenLTH's levels) and
 * learning-rate rewinding (Renda et al. 2020). A level: train, prune the fraction p of the
 * weights still kept by magnitude |θ| (|m ⊙ w| under Sign-In; one global threshold or each layer
 * its own fraction; layers kept dense left out), then either rewind the
 * weights to their values at iteration k (IMP; k = 0 is the original lottery ticket) or keep the
 * trained weights (LRR), and train again with the full learning-rate schedule and a fresh
 * optimizer. `RewindPoint` captures the model at iteration k of level 0; `impNextLevel` does the
 * prune and rewind between levels; a driver (runner or user loop) runs the levels.
 */
import { InvalidArgumentError } from '../errors';
import { maskedLayers } from '../nn/masked';
import { SIGNIN_M_BUFFER, signinFactors } from '../signin/parametrization';
import { moduleArg, type Module, type StateDict } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import type { Tensor } from '../tensor/tensor';
import { int, keysOf, num, oneOf, options } from '../validate';
import type { SparsifyCallback, SparsifyContext, SparsifyState } from './hooks';
import { changeMasks, type MaskChange, type MomentumOwner } from './mask-change';
import { checkDenseOptions, impLayers, type DenseLayerOptions } from './imp-layers';
import { SCOPES, layerwiseTopK, magnitude, magnitudeMasks, type Scope } from './select';

/** A detached copy of every parameter and persistent buffer (kept tensors: dispose them). */
export function snapshotState(model: Module): StateDict {
  return noGrad(() => new Map([...moduleArg('model', model).stateDict()].map(([k, t]) => [k, keep(t.detach().clone())] as [string, Tensor])));
}

/** Captures the model at iteration `step` (0: before the first step) for IMP's rewinding. */
export class RewindPoint implements SparsifyCallback {
  readonly name = 'rewind-point';
  readonly step: number;
  snapshot: StateDict | undefined;

  constructor(step = 0) {
    this.step = int('rewindStep', step, 0);
  }

  private capture(ctx: SparsifyContext): void {
    if (!this.snapshot && ctx.step === this.step) this.snapshot = snapshotState(ctx.model);
  }

  onTrainStart(ctx: SparsifyContext): void { this.capture(ctx); }

  onStepEnd(ctx: SparsifyContext): void { this.capture(ctx); }

  getState(): SparsifyState {
    return { tensors: this.snapshot ?? new Map(), json: { captured: this.snapshot !== undefined } };
  }

  setState(state: SparsifyState): void {
    if (!(state.json as { captured?: boolean } | undefined)?.captured || !state.tensors) return;
    this.dispose();
    this.snapshot = noGrad(() => new Map([...state.tensors!].map(([k, t]) => [k, keep(t.clone())] as [string, Tensor])));
  }

  dispose(): void {
    for (const t of this.snapshot?.values() ?? []) t.dispose();
    this.snapshot = undefined;
  }
}

export interface ImpLevelOptions extends DenseLayerOptions {
  /** Fraction of the kept weights pruned per level; default 0.2 (OpenLTH). */
  fraction?: number;
  /**
   * 'global' (default, OpenLTH's sparse_global): one threshold over the kept weights of every
   * pruned layer; 'layerwise': each pruned layer loses `fraction` of its own kept weights.
   */
  scope?: Scope;
  /** IMP: the RewindPoint snapshot to restore; undefined: learning-rate rewinding (keep the trained weights). */
  rewindTo?: StateDict;
  optimizer?: MomentumOwner;
}

const IMP_LEVEL_OPTIONS = keysOf<ImpLevelOptions>({
  fraction: true, scope: true, rewindTo: true, optimizer: true, denseFirst: true, denseLast: true, denseLayers: true,
});

/**
 * Prunes `fraction` of the weights still kept in the layers not kept dense (scope: one global
 * threshold, or each layer its own fraction) and, for IMP, restores every other value from the
 * snapshot (parameters, BatchNorm statistics, Sign-In factors) under the new mask. Layers kept
 * dense keep their masks. Returns the mask change of the pruned layers. Create a fresh optimizer
 * for the next level.
 */
export function impNextLevel(model: Module, opts: ImpLevelOptions = {}): MaskChange {
  const o = options<ImpLevelOptions>('options', opts, IMP_LEVEL_OPTIONS);
  const fraction = num('fraction', o.fraction ?? 0.2, 0, 1);
  const scope = oneOf('scope', o.scope ?? 'global', SCOPES);
  const { pruned } = impLayers(model, checkDenseOptions(o));
  const prunedLayers = pruned.map(([, l]) => l);
  const eligible = prunedLayers.map((l) => l.mask);
  const keptOf = prunedLayers.map((l) => tidy(() => l.mask.ne(0).sum().item()));
  const masks = noGrad(() => {
    if (scope === 'layerwise') return tidy(() => layerwiseTopK(prunedLayers.map(magnitude), keptOf.map((k) => Math.round(k * (1 - fraction))), eligible));
    const total = prunedLayers.reduce((a, l) => a + l.weight.numel, 0);
    const kept = keptOf.reduce((a, b) => a + b, 0);
    return magnitudeMasks(prunedLayers, Math.round(kept * (1 - fraction)) / total, 'global', eligible);
  });
  const layers = maskedLayers(model);
  try {
    if (o.rewindTo) {
      if (!(o.rewindTo instanceof Map)) throw new InvalidArgumentError('rewindTo', 'a state dict (Map) from RewindPoint', o.rewindTo);
      const values = new Map([...o.rewindTo].filter(([k]) => !k.endsWith('weight_mask')));
      model.loadStateDict(values, { strict: false });
      // The rewound Sign-In factors of pruned entries: the split of θ = 0, as after any mask change.
      noGrad(() => {
        for (const [name, l] of layers) {
          const s = signinFactors(l);
          if (!s || !o.rewindTo!.has(`${name ? `${name}.` : ''}${SIGNIN_M_BUFFER}`)) continue;
          tidy(() => {
            s.m.maskedFill_(l.mask.eq(0), Math.sqrt(s.beta));
          });
        }
      });
    }
    return tidy(() => changeMasks(model, new Map(pruned.map(([n, l], i) => [n, masks[i].to(l.mask.dtype)])), o.optimizer));
  } finally {
    for (const m of masks) m.dispose();
  }
}
