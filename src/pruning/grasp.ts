/**
 * GraSP (Wang et al. 2020, "Picking Winning Tickets Before Training by Preserving Gradient Flow").
 *
 * Sign convention. The paper scores S(−θ) = −θ ⊙ Hg, where g = ∂L/∂θ and H the Hessian of L,
 * and REMOVES the weights with the highest S (Algorithm 1 keeps S < τ, the p-th percentile):
 * removing them reduces the gradient norm the least, or even increases it. Our pruners return an
 * importance where higher is KEPT, so GraSP's importance is −S = θ ⊙ Hg: keeping the largest θ ⊙ Hg
 * is exactly removing the largest −θ ⊙ Hg. (Synaptic-Flow's GraSP does the same.)
 *
 * Hg is a Hessian-gradient product by double backward, as in the authors' code:
 * z = stopgrad(Σ_b ∂L_b/∂θ) (restricted to the currently kept weights), then
 * Hg = Σ_b ∂/∂θ (∂L_b/∂θ · z), the inner gradient taken with createGraph. The logits are divided
 * by a temperature T before the loss (T = 200 in the authors' code, our default). Unlike the
 * authors' code, which takes z and Hg on two halves of its batch, both use every given batch (as
 * Synaptic-Flow does): with one batch, Hg is the exact Hessian-gradient product of that batch's loss.
 *
 * The authors score in train mode and re-initialize every Linear layer (xavier_normal) of the
 * copy they score; pruneModel scores in eval mode, as Synaptic-Flow does, and scores the weights
 * the model has. `mode: 'train'` with the two halves as two batches gives the authors' masks
 * (docs/pruning-fidelity.md, test/native/pruning/reference-procedures.test.ts).
 */
import { InvalidArgumentError } from '../errors';
import { keysOf, options as optionsOf } from '../validate';
import type { Module } from '../nn/module';
import { grad, noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import type { Pruner, ScoreContext } from './base';
import { batchGrads, summedGrads } from './gradients';

export interface GraspOptions {
  /** Logits are divided by this before the loss (default 200, the authors' value). */
  temperature?: number;
}

export class GraspPruner implements Pruner {
  readonly name = 'grasp';
  readonly needsData = true;
  readonly defaultIterations = 1;
  readonly temperature: number;

  constructor(opts: GraspOptions = {}) {
    const options = optionsOf<GraspOptions>('grasp options', opts, keysOf<GraspOptions>({ temperature: true }));
    const t = options.temperature ?? 200;
    if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) throw new InvalidArgumentError('temperature', 'positive number', t);
    this.temperature = t;
  }

  score(model: Module, ctx: ScoreContext): Map<string, Tensor> {
    const T = this.temperature;
    const weights = ctx.weights.map((w) => w.weight);
    const g0 = summedGrads(model, ctx, weights, T);
    const z = noGrad(() => g0.map((g, i) => g.mul(ctx.weights[i].mask).detach()));
    let hz: Tensor[] | undefined;
    for (const batch of ctx.batches) {
      hz = tidy(() => {
        const gs = batchGrads(model, ctx, batch, weights, { createGraph: true, scale: T });
        let dot: Tensor | undefined;
        for (let i = 0; i < gs.length; i++) {
          const term = gs[i].mul(z[i]).sum();
          dot = dot ? dot.add(term) : term;
        }
        const h = grad(dot!, weights, { allowUnused: true }).map((t, i) => t ?? zerosLike(weights[i]));
        return noGrad(() => (hz ? hz.map((a, i) => a.add(h[i])) : h.map((t) => t.detach())));
      });
    }
    // importance = θ ⊙ Hg = −S(−θ): higher is kept.
    return noGrad(() => new Map(ctx.weights.map((w, i) => [w.name, w.weight.mul(hz![i])] as [string, Tensor])));
  }
}
