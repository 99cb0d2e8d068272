/** Elementwise activations as modules. */
import * as aten from '../tensor/aten';
import type { Tensor } from '../tensor/tensor';
import { int, keysOf, num, options } from '../validate';
import { relu, softmax, tensorArg } from './functional';
import { Module } from './module';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export interface LeakyReLUOptions {
  negativeSlope?: number;
}

export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(opts: LeakyReLUOptions = {}) {
    super();
    const o = options<LeakyReLUOptions>('options', opts, keysOf<LeakyReLUOptions>({ negativeSlope: true }));
    this.negativeSlope = num('negativeSlope', o.negativeSlope ?? 0.01);
  }

  forward(x: Tensor): Tensor {
    return aten.leaky_relu(tensorArg('input', x), this.negativeSlope);
  }

  protected override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tensorArg('input', x).tanh();
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return tensorArg('input', x).sigmoid();
  }
}

export class Softmax extends Module {
  readonly dim: number;

  constructor(dim: number) {
    super();
    this.dim = int('dim', dim);
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
