/**
 * SynFlow (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving
 * synaptic flow"). Data-free: every parameter and floating-point buffer is replaced by its
 * absolute value (the |θ| trick, which makes the network linear in each layer's weights on a
 * positive input), an all-ones input of batch 1 goes through the model, R = Σ output, and the
 * score is |θ ⊙ ∂R/∂θ|. The original values are restored exactly afterwards. Meant to be iterated
 * (pruneModel's default for SynFlow: 100 rounds, exponential schedule), which is what lets it
 * avoid layer collapse.
 *
 * Precision: R is a product over depth and overflows float32 in deep networks. With dtype 'auto'
 * (default) the pass runs in the model's dtype and is redone in float64 when R or a score is not
 * finite, or R is 0; 'float64' always uses float64. Running in float64 converts the model with
 * Module.to() and back, which REPLACES its parameter tensors (values unchanged, exactly): create
 * optimizers after pruning.
 */
import { InvalidArgumentError } from '../errors';
import type { Module } from '../nn/module';
import { MASK_BUFFER } from '../nn/masked';
import { grad, noGrad } from '../tensor/autograd';
import { ones, zerosLike } from '../tensor/creation';
import { callInPlace } from '../tensor/dispatch';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import type { DType, Tensor } from '../tensor/tensor';
import { oneOf } from '../validate';
import type { Pruner, ScoreContext } from './base';

export interface SynflowOptions {
  /** 'auto' (default): the model's dtype, float64 on overflow; 'float32' / 'float64': always that. */
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
        callInPlace('aten::abs_', [t]);
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

  constructor(options: SynflowOptions = {}) {
    for (const k of Object.keys(options)) {
      if (k !== 'dtype') throw new InvalidArgumentError('synflow options', "only 'dtype'", k);
    }
    this.dtype = oneOf('dtype', options.dtype ?? 'auto', ['auto', 'float32', 'float64'] as const);
  }

  score(model: Module, ctx: ScoreContext): Map<string, Tensor> {
    if (!ctx.inputShape) {
      throw new InvalidArgumentError('inputShape', 'the input shape of one example (SynFlow is data-free and needs it)', undefined);
    }
    const modelDtype = ctx.weights[0].weight.dtype;
    if (this.dtype === 'float64' || (this.dtype === 'float32' && modelDtype !== 'float32')) {
      return this.inDtype(model, ctx, this.dtype);
    }
    if (this.dtype === 'float32') return this.pass(model, ctx).scores;
    const first = this.pass(model, ctx);
    if (first.ok || modelDtype === 'float64') return first.scores;
    for (const t of first.scores.values()) t.dispose();
    ctx.logger.debug({ round: ctx.round }, 'synflow: float overflow/underflow, recomputing in float64');
    return this.inDtype(model, ctx, 'float64');
  }

  /** The pass with the model temporarily converted to dtype (parameters replaced, values kept). */
  private inDtype(model: Module, ctx: ScoreContext, dtype: DType): Map<string, Tensor> {
    const original = ctx.weights[0].weight.dtype;
    if (original === dtype) return this.pass(model, ctx).scores;
    model.to(dtype);
    try {
      return this.pass(model, ctx).scores;
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
