/**
 * SynFlow (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving
 * synaptic flow"). Data-free: every parameter and floating-point buffer is replaced by its
 * absolute value (the |θ| trick, which makes the network linear in each layer's weights on a
 * positive input), an all-ones input of batch 1 goes through the model, R = Σ output, and the
 * score is |θ ⊙ ∂R/∂θ|. The original values are restored exactly afterwards. Meant to be iterated
 * (pruneModel's default for SynFlow: 100 rounds, exponential schedule), which is what lets it
 * avoid layer collapse.
 *
 * Precision: R is a product over depth and overflows float32 in deep networks (an all-ones input
 * through a CIFAR ResNet-56 with |θ| already exceeds float32's 3.4e38), and the method's
 * derivation (conservation of synaptic flow) assumes exact arithmetic. So the default dtype is
 * 'float64': every round converts the model to float64 with Module.to(), scores, and converts it
 * back. The cost is the float64 pass plus two conversions per round: 100 rounds on a CIFAR
 * ResNet-20 (32x32) took 1.4x as long as in float32 on this project's 2-core CPU machine (222 s
 * vs 155 s, measured under load); on GPUs with slow float64 the ratio is larger. 'auto' scores in the model's dtype and redoes a round in
 * float64 only when R or a score is not finite, or R is 0; 'float32' always scores in float32 and
 * rejects a round that overflows (an error naming the option) rather than ranking inf/NaN scores.
 * Converting REPLACES the model's parameter tensors (values unchanged, exactly): create
 * optimizers after pruning.
 */
import { InvalidArgumentError, ToolkitError } from '../errors';
import type { Module } from '../nn/module';
import { MASK_BUFFER } from '../nn/masked';
import { grad, noGrad } from '../tensor/autograd';
import { ones, zerosLike } from '../tensor/creation';
import * as aten from '../tensor/aten';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import type { DType, Tensor } from '../tensor/tensor';
import { keysOf, oneOf, options as optionsOf } from '../validate';
import type { Pruner, ScoreContext } from './base';

export interface SynflowOptions {
  /**
   * 'float64' (default): always score in float64. 'auto': the model's dtype, float64 on overflow.
   * 'float32': always float32; a round that overflows is an error.
   */
  dtype?: 'auto' | 'float32' | 'float64';
}

const FLOATS = ['float32', 'float64', 'float16', 'bfloat16'];

/** Runs fn with every parameter and floating buffer (masks aside) replaced by its absolute value. */
function withAbsoluteValues<T>(model: Module, fn: () => T): T {
  const saved: [Tensor, Tensor][] = [];
  try {
    noGrad(() => {
      const tensors: Tensor[] = [...model.namedParameters()].map(([, t]) => t);
      for (const [name, b] of model.namedBuffers()) {
        if (!name.endsWith(MASK_BUFFER) && FLOATS.includes(b.dtype)) tensors.push(b);
      }
      for (const t of tensors) {
        saved.push([t, keep(t.clone())]);
        aten.abs_(t);
      }
    });
    return fn();
  } finally {
    noGrad(() => {
      for (const [t, copy] of saved) {
        t.copy_(copy);
        copy.dispose();
      }
    });
  }
}

export class SynflowPruner implements Pruner {
  readonly name = 'synflow';
  readonly needsData = false;
  readonly defaultIterations = 100;
  readonly dtype: 'auto' | 'float32' | 'float64';

  constructor(opts: SynflowOptions = {}) {
    const options = optionsOf<SynflowOptions>('synflow options', opts, keysOf<SynflowOptions>({ dtype: true }));
    this.dtype = oneOf('dtype', options.dtype ?? 'float64', ['auto', 'float32', 'float64'] as const);
  }

  score(model: Module, ctx: ScoreContext): Map<string, Tensor> {
    if (!ctx.inputShape) {
      throw new InvalidArgumentError('inputShape', 'the input shape of one example (SynFlow is data-free and needs it)', undefined);
    }
    const modelDtype = ctx.weights[0].weight.dtype;
    if (this.dtype === 'float64') return this.inDtype(model, ctx, 'float64').scores;
    if (this.dtype === 'float32') {
      const r = this.inDtype(model, ctx, 'float32');
      if (r.ok) return r.scores;
      for (const t of r.scores.values()) t.dispose();
      throw new ToolkitError('ERR_INVALID_ARG',
        `SynFlow scores overflowed float32 in round ${ctx.round} of ${ctx.rounds} (R = Σ f(1) or a score is not finite, or R is 0); `
        + "score in float64: pruner option dtype 'float64' (the default) or 'auto', config field pruning.synflowDtype");
    }
    const first = this.pass(model, ctx);
    if (first.ok || modelDtype === 'float64') return first.scores;
    for (const t of first.scores.values()) t.dispose();
    ctx.logger.debug({ round: ctx.round }, 'synflow: float overflow/underflow, recomputing in float64');
    return this.inDtype(model, ctx, 'float64').scores;
  }

  /** The pass with the model temporarily converted to dtype (parameters replaced, values kept). */
  private inDtype(model: Module, ctx: ScoreContext, dtype: DType): { scores: Map<string, Tensor>; ok: boolean } {
    const original = ctx.weights[0].weight.dtype;
    if (original === dtype) return this.pass(model, ctx);
    model.to(dtype);
    try {
      return this.pass(model, ctx);
    } finally {
      model.to(original);
    }
  }

  private pass(model: Module, ctx: ScoreContext): { scores: Map<string, Tensor>; ok: boolean } {
    // Weights are looked up afresh: Module.to() replaces the tensors.
    const layers = ctx.weights.map((w) => ({ name: w.name, weight: w.layer.weight }));
    const weights = layers.map((l) => l.weight);
    const dtype = weights[0].dtype;
    return withAbsoluteValues(model, () => tidy(() => {
      const x = ones([1, ...ctx.inputShape!], { dtype, device: weights[0].device });
      const r = model.forward(x).sum();
      const rv = r.item();
      const gs = grad(r, weights, { allowUnused: true }).map((g, i) => g ?? zerosLike(weights[i]));
      return noGrad(() => {
        const scores = new Map<string, Tensor>();
        let finite = Number.isFinite(rv) && rv !== 0;
        layers.forEach((l, i) => {
          const s = gs[i].mul(l.weight).abs();
          if (finite && !s.isfinite().all().item()) finite = false;
          scores.set(l.name, s);
        });
        return { scores, ok: finite };
      });
    }));
  }
}
