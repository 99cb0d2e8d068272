/**
 * What Linear and Conv2d share: a `weight` and an optional `bias` under PyTorch's names, and
 * torch.nn's reset_parameters for both (weight ~ kaiming_uniform(a=√5), i.e. U(±1/√fan_in);
 * bias ~ U(±1/√fan_in)).
 */
import { empty } from '../tensor/creation';
import type { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init';
import { Module } from './module';

export abstract class WeightLayer extends Module {
  get weight(): Tensor {
    return this.getParameter('weight')!;
  }

  get bias(): Tensor | undefined {
    return this.getParameter('bias');
  }

  /** Registers the weight (and the bias, [shape[0]]) and initialises them; the subclass's last step. */
  protected initWeightAndBias(weightShape: number[], withBias: boolean): void {
    this.registerParameter('weight', empty(weightShape));
    this.registerParameter('bias', withBias ? empty([weightShape[0]]) : undefined);
    this.resetParameters();
  }

  resetParameters(generator?: Generator): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator });
    const bias = this.bias;
    if (bias) {
      const { fanIn } = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(bias, -bound, bound, generator);
    }
  }
}
