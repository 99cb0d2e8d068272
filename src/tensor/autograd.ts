/** Autograd beyond Tensor.backward(): grad mode scopes and torch.autograd.grad. */
import { InvalidArgumentError } from '../errors';
import { native, type NativeTensor } from '../native';
import { refuseAsync } from './engine';
import { BACKWARD_OPTIONS, Tensor, tensorHandle, type BackwardOptions } from './tensor';
import { keysOf, options as optionsOf } from '../validate';

function handles(name: string, list: unknown): NativeTensor[] {
  if (!Array.isArray(list)) throw new InvalidArgumentError(name, 'array of Tensors', list);
  const out: NativeTensor[] = [];
  for (let i = 0; i < list.length; i++) out.push(tensorHandle(`${name}[${i}]`, list[i]));
  return out;
}

function withGradMode<T>(name: string, enabled: boolean, fn: () => T): T {
  if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'function', fn);
  const previous = native().setGradEnabled(enabled);
  let result: T;
  try {
    result = fn();
  } finally {
    native().setGradEnabled(previous);
  }
  refuseAsync(result, `${name}() cannot hold the grad mode across await: fn returned a Promise; use ${name} inside the async code around each synchronous step instead`);
  return result;
}

/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode('noGrad', false, fn);
}

/** Runs fn with gradient recording on (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode('enableGrad', true, fn);
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

const GRAD_OPTIONS = keysOf<GradOptions>({ gradOutputs: true, retainGraph: true, createGraph: true, allowUnused: true });

/** The gradients of outputs with respect to inputs (torch.autograd.grad); unused inputs give undefined. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], options: GradOptions = {}): (Tensor | undefined)[] {
  const outs = handles('outputs', Array.isArray(outputs) ? outputs : [outputs]);
  const ins = handles('inputs', inputs);
  const o = optionsOf<GradOptions>('options', options, GRAD_OPTIONS);
  const gradOutputs = o.gradOutputs === undefined ? undefined : handles('gradOutputs', o.gradOutputs);
  const result = native().grad(outs, ins, gradOutputs, o.retainGraph, o.createGraph, o.allowUnused);
  return result.map((h) => (h ? new Tensor(h) : undefined));
}

/** Backward from several tensors at once (torch.autograd.backward). */
export function backward(tensors: Tensor[], grads?: Tensor[], options: BackwardOptions = {}): void {
  const ts = handles('tensors', tensors);
  const gs = grads === undefined ? undefined : handles('grads', grads);
  const o = optionsOf<BackwardOptions>('options', options, BACKWARD_OPTIONS);
  native().backward(ts, gs, o.retainGraph, o.createGraph);
}
