/**
 * IMP and LRR as one run of the config runner (docs/sparsify.md): the run's epochs are `levels`
 * levels of `epochsPerLevel` epochs. At the end of each level but the last it prunes
 * `pruneFraction` of the kept weights by |θ| (impNextLevel: global or layerwise, the layers kept
 * dense left out), rewinds every value to the
 * snapshot taken at iteration `rewindStep` of level 0 (IMP) or keeps the trained weights (LRR),
 * and resets the optimizer's state to that of a fresh optimizer. The learning-rate schedule
 * restarts each level (src/experiments/resolve.ts's scheduleFor).
 *
 * The runner calls it after the epoch's metrics row and checkpoint, so both hold the level as
 * trained. A run resumed from the checkpoint at a level's end finds the prune not yet done
 * (its state says how many were) and does it at onTrainStart: the same weights give the same mask.
 */
import { InvalidArgumentError, IssuesError, ToolkitError } from '../errors';
import type { StateDict } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { keep } from '../tensor/keep';
import type { Tensor } from '../tensor/tensor';
import { bool, int, keysOf, num, oneOf, options } from '../validate';
import type { SparsifyCallback, SparsifyContext, SparsifyState } from './hooks';
import { impNextLevel, snapshotState } from './imp';
import { checkDenseOptions, impLayers, type DenseLayerOptions } from './imp-layers';
import { SCOPES, type Scope } from './select';

/** The optimizer state a level start resets (the trainer's Optimizer has it). */
export interface StatefulOptimizer {
  stateDict(): Map<string, Tensor>;
  loadStateDict(state: Map<string, Tensor>): void;
}

/**
 * Sets every optimizer state tensor (momentum buffers, Adam moments, step counts) to zero: the
 * state of a freshly made optimizer, whose first step then starts its buffers from the gradient.
 */
export function resetOptimizerState(optimizer: StatefulOptimizer): void {
  if (typeof optimizer?.stateDict !== 'function' || typeof optimizer.loadStateDict !== 'function') {
    throw new InvalidArgumentError('optimizer', 'an optimizer with stateDict() and loadStateDict()', optimizer);
  }
  const zero = noGrad(() => new Map([...optimizer.stateDict()].map(([k, t]) => [k, keep(zerosLike(t))] as [string, Tensor])));
  try {
    optimizer.loadStateDict(zero);
  } finally {
    for (const t of zero.values()) t.dispose();
  }
}

export interface ImpLevelsOptions extends DenseLayerOptions {
  /** true: IMP (rewind to the snapshot); false: LRR (keep the trained weights). */
  rewind: boolean;
  /** Training levels, the dense level 0 included (levels − 1 prunes). */
  levels: number;
  epochsPerLevel: number;
  /** Fraction of the kept weights pruned at each level's start. */
  pruneFraction: number;
  /** IMP: the iteration of level 0 to rewind to (0: the initialization). Default 0. */
  rewindStep?: number;
  /** 'global' (default) or 'layerwise' (impNextLevel). */
  scope?: Scope;
}

const IMP_LEVELS_OPTIONS = keysOf<ImpLevelsOptions>({
  rewind: true, levels: true, epochsPerLevel: true, pruneFraction: true, rewindStep: true, scope: true, denseFirst: true, denseLast: true, denseLayers: true,
});

export class ImpLevels implements SparsifyCallback {
  readonly name: 'imp' | 'lrr';
  readonly rewind: boolean;
  readonly levels: number;
  readonly epochsPerLevel: number;
  readonly pruneFraction: number;
  readonly rewindStep: number;
  readonly scope: Scope;
  /** The layers kept dense (denseFirst, denseLast, denseLayers); checked against the model at onTrainStart. */
  readonly dense: Required<DenseLayerOptions>;
  /** Prunes done: the level now training. */
  level = 0;
  private snapshot: StateDict | undefined;

  constructor(opts: ImpLevelsOptions) {
    const o = options<ImpLevelsOptions>('options', opts, IMP_LEVELS_OPTIONS);
    this.rewind = bool('rewind', o.rewind);
    this.name = this.rewind ? 'imp' : 'lrr';
    this.levels = int('levels', o.levels, 2);
    this.epochsPerLevel = int('epochsPerLevel', o.epochsPerLevel, 1);
    this.pruneFraction = num('pruneFraction', o.pruneFraction, 0, 1);
    if (!(this.pruneFraction > 0 && this.pruneFraction < 1)) throw new InvalidArgumentError('pruneFraction', 'a number in (0, 1)', o.pruneFraction);
    if (!this.rewind && o.rewindStep !== undefined) throw new InvalidArgumentError('rewindStep', 'no rewind step for LRR (it keeps the trained weights)', o.rewindStep);
    this.rewindStep = int('rewindStep', o.rewindStep ?? 0, 0);
    this.scope = oneOf('scope', o.scope ?? 'global', SCOPES);
    this.dense = checkDenseOptions(o);
  }

  /** The snapshot IMP rewinds to (undefined for LRR and before iteration rewindStep). */
  get rewindPoint(): StateDict | undefined {
    return this.snapshot;
  }

  /** The level an epoch (0-based) trains in. */
  levelOf(epoch: number): number {
    return Math.min(Math.floor(epoch / this.epochsPerLevel), this.levels - 1);
  }

  private capture(ctx: SparsifyContext): void {
    if (this.rewind && !this.snapshot && ctx.step === this.rewindStep) this.snapshot = snapshotState(ctx.model);
  }

  private nextLevel(ctx: SparsifyContext): void {
    if (this.rewind && !this.snapshot) {
      throw new InvalidArgumentError('rewindStep', `an iteration of level 0 (< ${this.epochsPerLevel * ctx.stepsPerEpoch}, the level's steps)`, this.rewindStep);
    }
    impNextLevel(ctx.model, { fraction: this.pruneFraction, scope: this.scope, ...this.dense, rewindTo: this.snapshot, optimizer: ctx.optimizer });
    resetOptimizerState(ctx.optimizer as SparsifyContext['optimizer'] & StatefulOptimizer);
    this.level++;
  }

  onTrainStart(ctx: SparsifyContext): void {
    // A layer name that is not the model's is refused before the first level trains, not at its end.
    impLayers(ctx.model, this.dense);
    this.capture(ctx);
    if (this.levelOf(ctx.epoch) === this.level + 1 && ctx.epoch % this.epochsPerLevel === 0) this.nextLevel(ctx);
    if (this.levelOf(ctx.epoch) !== this.level) {
      throw new ToolkitError('ERR_STATE_DICT', `The ${this.name} state is at level ${this.level}, but epoch ${ctx.epoch + 1} trains in level ${this.levelOf(ctx.epoch)} (${this.epochsPerLevel} epochs a level): the checkpoint does not belong to this config`);
    }
  }

  onStepEnd(ctx: SparsifyContext): void {
    this.capture(ctx);
  }

  onEpochEnd(ctx: SparsifyContext): void {
    if (ctx.epoch % this.epochsPerLevel === 0 && this.levelOf(ctx.epoch) > this.level) this.nextLevel(ctx);
  }

  getState(): SparsifyState {
    return { tensors: this.snapshot ?? new Map(), json: { level: this.level, captured: this.snapshot !== undefined } };
  }

  setState(state: SparsifyState): void {
    const json = state.json as { level?: unknown; captured?: unknown } | undefined;
    const level = json?.level;
    if (!Number.isInteger(level) || (level as number) < 0 || (level as number) >= this.levels || typeof json?.captured !== 'boolean') {
      throw new IssuesError('ERR_STATE_DICT', `Error(s) in loading the ${this.name} state`, [
        { code: 'invalid_value', path: `${this.name}.level`, message: `expected a level in 0..${this.levels - 1} and a captured flag, received ${JSON.stringify(json ?? null)}` },
      ]);
    }
    if (json.captured && (!state.tensors || state.tensors.size === 0)) {
      throw new IssuesError('ERR_STATE_DICT', `Error(s) in loading the ${this.name} state`, [{ code: 'missing_key', path: `${this.name}.snapshot`, message: 'the rewind snapshot is missing' }]);
    }
    this.dispose();
    this.level = level as number;
    if (json.captured) this.snapshot = noGrad(() => new Map([...state.tensors!].map(([k, t]) => [k, keep(t.clone())] as [string, Tensor])));
  }

  /** Frees the rewind snapshot. */
  dispose(): void {
    for (const t of this.snapshot?.values() ?? []) t.dispose();
    this.snapshot = undefined;
  }
}
