/** The Gaussian error linear unit (torch.nn.GELU). */
import * as aten from '../tensor/aten';
import type { Tensor } from '../tensor/tensor';
import { keysOf, oneOf, options } from '../validate';
import { tensorArg } from './functional';
import { Module } from './module';

export type GeluApproximate = 'none' | 'tanh';
const APPROXIMATIONS: readonly GeluApproximate[] = ['none', 'tanh'];

/** x·Φ(x) with the exact normal CDF ('none', PyTorch's and timm's default) or its tanh approximation. */
export function gelu(x: Tensor, approximate: GeluApproximate = 'none'): Tensor {
  return aten.gelu(tensorArg('input', x), oneOf('approximate', approximate, APPROXIMATIONS));
}

export interface GeluOptions {
  approximate?: GeluApproximate;
}

export class GELU extends Module {
  readonly approximate: GeluApproximate;

  constructor(opts: GeluOptions = {}) {
    super();
    const o = options<GeluOptions>('options', opts, keysOf<GeluOptions>({ approximate: true }));
    this.approximate = oneOf('approximate', o.approximate ?? 'none', APPROXIMATIONS);
  }

  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }

  protected override extraRepr(): string {
    return this.approximate === 'none' ? '' : `approximate=${this.approximate}`;
  }
}
