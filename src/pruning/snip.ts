/**
 * SNIP (Lee et al. 2019): connection sensitivity |θ ⊙ ∂L/∂θ| on a batch (summed over the given
 * batches' gradients). Higher is kept. The masks equal Synaptic-Flow's SNIP and, on the weights,
 * the authors' snip-public, which also ranks the (zero-initialized, so first pruned) biases:
 * ours masks weights only (docs/pruning-fidelity.md).
 */
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import type { Tensor } from '../tensor/tensor';
import type { Pruner, ScoreContext } from './base';
import { summedGrads } from './gradients';

export class SnipPruner implements Pruner {
  readonly name = 'snip';
  readonly needsData = true;
  readonly defaultIterations = 1;

  score(model: Module, ctx: ScoreContext): Map<string, Tensor> {
    const weights = ctx.weights.map((w) => w.weight);
    const grads = summedGrads(model, ctx, weights);
    return noGrad(() => new Map(ctx.weights.map((w, i) => [w.name, grads[i].mul(w.weight).abs()] as [string, Tensor])));
  }
}
