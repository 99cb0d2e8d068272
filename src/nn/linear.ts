/** Fully connected layer (torch.nn.Linear): y = x Wᵀ + b. */
import type { Tensor } from '../tensor/tensor';
import { bool, int, keysOf, options } from '../validate';
import { linear } from './functional';
import { WeightLayer } from './weight-layer';

export interface LinearOptions {
  /** Learn an additive bias; default true. */
  bias?: boolean;
}

export class Linear extends WeightLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = int('inFeatures', inFeatures, 0);
    this.outFeatures = int('outFeatures', outFeatures, 0);
    const o = options<LinearOptions>('options', opts, keysOf<LinearOptions>({ bias: true }));
    const withBias = bool('bias', o.bias ?? true);
    this.initWeightAndBias([outFeatures, inFeatures], withBias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== undefined}`;
  }
}
