/** The trainer's extension points (OpenLTH's callbacks, as objects with optional hooks). */
import type { Logger } from 'pino';
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';

export interface Optimizer {
  lr: number;
  step(): void;
  zeroGrad(): void;
  stateDict(): Map<string, Tensor>;
  loadStateDict(state: Map<string, Tensor>): void;
}

export interface EpochMetrics {
  epoch: number;
  step: number;
  lr: number;
  trainLoss: number;
  /** Absent, as testAcc and testTop5, when the trainer counts no accuracy (a custom criterion). */
  trainAcc?: number;
  testLoss?: number;
  testAcc?: number;
  testTop5?: number;
  /** Seconds the epoch took (training and evaluation). */
  epochSeconds: number;
  /**
   * Of those, the seconds training waited for its batches (from one step's end to the next batch);
   * near epochSeconds − evalSeconds, the input pipeline is the bottleneck. Only this session's part of a resumed epoch.
   */
  dataSeconds?: number;
  /** Of those, the seconds the evaluation took (absent in an epoch without one). */
  evalSeconds?: number;
  [extra: string]: unknown;
}

export interface TrainContext {
  model: Module;
  optimizer: Optimizer;
  logger: Logger;
  /** Completed epochs so far (0 before the first epoch ends). */
  epoch: number;
  /** Completed optimizer steps so far. */
  step: number;
  /** Completed steps of the epoch in progress (0 between epochs): a mid-epoch checkpoint's place in it. */
  batch: number;
  stepsPerEpoch: number;
  /**
   * In onAfterBackward: false when the float16 loss scaler found an inf or NaN gradient, so the
   * optimizer step is skipped (PyTorch's GradScaler.step); a callback that steps or reads the
   * gradient (STR, RiGL's growth) must skip too. True otherwise.
   */
  gradsFinite?: boolean;
}

/**
 * Serializable callback state for checkpoints: tensors go to safetensors, the rest to JSON. The
 * tensors handed to setState are disposed after it returns: copy (clone + keep) what must stay.
 */
export interface CallbackState {
  tensors?: Map<string, Tensor>;
  json?: unknown;
}

/** Why a checkpoint is asked for outside the epoch-end callbacks. */
export type CheckpointReason = 'interrupt' | 'periodic';

export interface Callback {
  /** A unique name; keys this callback's state in checkpoints. */
  readonly name: string;
  onTrainStart?(ctx: TrainContext): void | Promise<void>;
  /** After backward, before the optimizer step: gradients are there (RiGL grows by them; clearing them skips the step). */
  onAfterBackward?(ctx: TrainContext): void;
  /** After the optimizer step (gradients already consumed). */
  onStepEnd?(ctx: TrainContext): void;
  /** After evaluation; may add fields to metrics. Called in the order the callbacks were given. */
  onEpochEnd?(ctx: TrainContext, metrics: EpochMetrics): void | Promise<void>;
  onTrainEnd?(ctx: TrainContext, metrics: EpochMetrics | undefined): void | Promise<void>;
  /**
   * A checkpoint is due at ctx.epoch epochs and ctx.batch steps of the next (0: between epochs):
   * 'interrupt' when the trainer's signal stopped it (then fit rejects, and onTrainEnd is not
   * called), 'periodic' every `checkpointEvery` steps inside an epoch. Every rank calls it at the
   * same step. Returns the file that holds the run there, if it wrote or knows one.
   */
  onCheckpoint?(ctx: TrainContext, reason: CheckpointReason): string | undefined | void | Promise<string | undefined | void>;
  getState?(): CallbackState;
  setState?(state: CallbackState): void;
}
