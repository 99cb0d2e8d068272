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
  trainAcc: number;
  testLoss?: number;
  testAcc?: number;
  testTop5?: number;
  /** Seconds the epoch took (training and evaluation). */
  epochSeconds: number;
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
  stepsPerEpoch: number;
}

/**
 * Serializable callback state for checkpoints: tensors go to safetensors, the rest to JSON. The
 * tensors handed to setState are disposed after it returns: copy (clone + keep) what must stay.
 */
export interface CallbackState {
  tensors?: Map<string, Tensor>;
  json?: unknown;
}

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
  getState?(): CallbackState;
  setState?(state: CallbackState): void;
}
