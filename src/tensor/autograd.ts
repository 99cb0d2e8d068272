/** Autograd beyond Tensor.backward(): grad mode scopes and torch.autograd.grad. */
import { fromNative } from '../errors';
import { native } from '../native';
import { Tensor } from './tensor';

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native().setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    native().setGradEnabled(previous);
  }
}

/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs fn with gradient recording on (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}

export interface GradOptions {
  gradOutputs?: Tensor[];
  retainGraph?: boolean;
  /** Record the graph of the gradient itself, for higher-order derivatives (GraSP's Hg). */
  createGraph?: boolean;
  allowUnused?: boolean;
}

/** The gradients of outputs with respect to inputs (torch.autograd.grad); unused inputs give undefined. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], options: GradOptions = {}): (Tensor | undefined)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  try {
    const result = native().grad(
      outs.map((t) => t.handle), inputs.map((t) => t.handle), options.gradOutputs?.map((t) => t.handle),
      options.retainGraph, options.createGraph, options.allowUnused,
    );
    return result.map((h) => (h ? new Tensor(h) : undefined));
  } catch (e) {
    throw fromNative(e);
  }
}

/** Backward from several tensors at once (torch.autograd.backward). */
export function backward(tensors: Tensor[], grads?: Tensor[], options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
  try {
    native().backward(tensors.map((t) => t.handle), grads?.map((t) => t.handle), options.retainGraph, options.createGraph);
  } catch (e) {
    throw fromNative(e);
  }
}
