/**
 * Stochastic depth (timm's DropPath): in training, each sample's residual branch is dropped with
 * probability p and the kept ones are scaled by 1/(1 − p), so the expectation is unchanged.
 */
import { rand } from '../tensor/creation';
import type { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import { bool, num } from '../validate';
import { invalidTensorArg, tensorArg } from './functional';
import { Module } from './module';

/** Drops whole samples (dim 0) of x with probability p; identity when p is 0 or not training. */
export function dropPath(x: Tensor, p = 0, training = true, generator?: Generator): Tensor {
  tensorArg('input', x);
  num('p', p, 0, 1);
  bool('training', training);
  if (p === 0 || !training) return x;
  if (x.ndim < 1) throw invalidTensorArg('input', 'a Tensor with a batch dimension', x);
  const keepProb = 1 - p;
  const shape = [x.shape[0], ...new Array<number>(x.ndim - 1).fill(1)];
  const keep = rand(shape, { dtype: x.dtype, device: x.device, generator }).lt(keepProb).to(x.dtype);
  return keepProb === 0 ? x.mul(keep) : x.mul(keep.div(keepProb));
}

export class DropPath extends Module {
  readonly p: number;

  constructor(p = 0) {
    super();
    this.p = num('p', p, 0, 1);
  }

  forward(x: Tensor): Tensor {
    return dropPath(x, this.p, this.training);
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
