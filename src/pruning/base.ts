/**
 * The pruner interface (Synaptic-Flow's, without its warts): a pruning method supplies ONLY a
 * score per prunable weight. Everything else — which layers are prunable, thresholding (exact
 * top-k), global or layerwise scope, the iterative schedule and writing masks into the layers'
 * `weight_mask` buffers — is shared code in prune.ts and threshold.ts.
 *
 * Convention: a score is an IMPORTANCE. Higher scores are kept, lower scores are pruned. Scores
 * are keyed by parameter name (`layer1.0.conv1.weight`), never by order or object identity.
 */
import type { Logger } from 'pino';
import type { MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import type { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';

/** One batch of pruning data: inputs and integer class targets. */
export interface PruneBatch {
  input: Tensor;
  target: Tensor;
}

/** A loss of the model output and the targets (default: mean cross-entropy). */
export type LossFn = (output: Tensor, target: Tensor) => Tensor;

/** A prunable weight: the masked layer that owns it and its names. */
export interface PrunableWeight {
  /** Parameter name, the key of scores and masks: `${layerName}.weight`. */
  name: string;
  /** Dotted module name of the layer. */
  layerName: string;
  layer: MaskedLayer;
  /** The weight parameter (masked entries are exactly zero). */
  weight: Tensor;
  /** The live mask buffer `weight_mask` (1 = kept). */
  mask: Tensor;
}

/** What a pruner gets besides the model. */
export interface ScoreContext {
  /** Every masked layer's weight, in model order (layers kept dense included; their scores are ignored). */
  weights: readonly PrunableWeight[];
  /** Pruning data; empty for data-free methods. */
  batches: readonly PruneBatch[];
  loss: LossFn;
  /** Input shape of one example without the batch dimension (data-free methods), when known. */
  inputShape?: readonly number[];
  generator?: Generator;
  /** 1-based round of an iterative prune and the number of rounds. */
  round: number;
  rounds: number;
  logger: Logger;
}

export interface Pruner {
  /** Registry name, lowercase snake. */
  readonly name: string;
  /** True when score() needs `batches` (SNIP, GraSP). */
  readonly needsData: boolean;
  /** Rounds used when pruneModel's `iterations` is not given (SynFlow: 100). */
  readonly defaultIterations: number;
  /**
   * The importance of every weight in ctx.weights, keyed by parameter name, each tensor shaped
   * like its weight. Higher is kept. Called inside a tidy scope: return fresh tensors.
   */
  score(model: Module, ctx: ScoreContext): Map<string, Tensor>;
}
