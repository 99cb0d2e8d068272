/**
 * The trainer's callback shape, restated structurally: src/sparsify sits below src/train in the
 * layer order and cannot import it. A sparsify callback is a src/train Callback as is.
 */
import { moduleArg, type Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import type { MomentumOwner } from './mask-change';

export interface SparsifyContext {
  model: Module;
  optimizer: MomentumOwner & { lr: number };
  /** Completed epochs. */
  epoch: number;
  /** Completed optimizer steps. */
  step: number;
  stepsPerEpoch: number;
  /** false in onAfterBackward when the float16 loss scaler skips this step (an inf or NaN gradient). */
  gradsFinite?: boolean;
}

export interface SparsifyState {
  tensors?: Map<string, Tensor>;
  json?: unknown;
}

export interface SparsifyCallback {
  readonly name: string;
  onTrainStart?(ctx: SparsifyContext): void;
  /**
   * After backward, before the optimizer step: θ's gradient is the dense gradient (forward uses
   * `weight` with no mask multiply). Needs the trainer's onAfterBackward hook.
   */
  onAfterBackward?(ctx: SparsifyContext): void;
  onStepEnd?(ctx: SparsifyContext): void;
  onEpochEnd?(ctx: SparsifyContext, metrics: Record<string, unknown>): void;
  getState?(): SparsifyState;
  setState?(state: SparsifyState): void;
}

/** Clears every parameter's gradient, so that the coming optimizer step does nothing (RiGL's update step). */
export function skipStep(model: Module): void {
  for (const p of moduleArg('model', model).parameters()) p.grad = undefined;
}
