/** Fully connected layer (torch.nn.Linear): y = x Wᵀ + b. */
import type { Generator } from '../tensor/runtime';
import { empty } from '../tensor/creation';
import type { Tensor } from '../tensor/tensor';
import { bool, int, options } from '../validate';
import { linear } from './functional';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init';
import { Module } from './module';

export interface LinearOptions {
  /** Learn an additive bias; default true. */
  bias?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = int('inFeatures', inFeatures, 0);
    this.outFeatures = int('outFeatures', outFeatures, 0);
    const withBias = bool('bias', options<LinearOptions>('options', opts).bias ?? true);
    this.registerParameter('weight', empty([outFeatures, inFeatures]));
    this.registerParameter('bias', withBias ? empty([outFeatures]) : undefined);
    this.resetParameters();
  }

  get weight(): Tensor {
    return this.getParameter('weight')!;
  }

  get bias(): Tensor | undefined {
    return this.getParameter('bias');
  }

  /** PyTorch's default: weight ~ kaiming_uniform(a=√5), i.e. U(±1/√fan_in); bias ~ U(±1/√fan_in). */
  resetParameters(generator?: Generator): void {
    resetWeightAndBias(this.weight, this.bias, generator);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== undefined}`;
  }
}

/** The reset_parameters of torch.nn.Linear and torch.nn.Conv2d. */
export function resetWeightAndBias(weight: Tensor, bias: Tensor | undefined, generator?: Generator): void {
  kaimingUniform_(weight, { a: Math.sqrt(5), generator });
  if (bias) {
    const { fanIn } = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound, generator);
  }
}
