/** Magnitude pruning at initialization: score = |θ|. */
import { noGrad } from '../tensor/autograd';
import type { Tensor } from '../tensor/tensor';
import type { Pruner, ScoreContext } from './base';

export class MagnitudePruner implements Pruner {
  readonly name = 'magnitude';
  readonly needsData = false;
  readonly defaultIterations = 1;

  score(_model: unknown, ctx: ScoreContext): Map<string, Tensor> {
    return noGrad(() => new Map(ctx.weights.map((w) => [w.name, w.weight.abs()] as [string, Tensor])));
  }
}
