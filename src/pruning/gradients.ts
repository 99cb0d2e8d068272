/** Loss gradients with respect to the prunable weights, shared by the data-driven pruners. */
import { InvalidArgumentError } from '../errors';
import { grad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import type { Module } from '../nn/module';
import type { PruneBatch, ScoreContext } from './base';

/** The gradients of one batch's loss, zeros for weights the loss does not reach. */
export function batchGrads(model: Module, ctx: ScoreContext, batch: PruneBatch, weights: Tensor[],
  opts: { createGraph?: boolean; scale?: number } = {}): Tensor[] {
  let out = model.forward(batch.input);
  if (opts.scale !== undefined && opts.scale !== 1) out = out.div(opts.scale);
  const loss = ctx.loss(out, batch.target);
  const gs = grad(loss, weights, { createGraph: opts.createGraph, retainGraph: opts.createGraph, allowUnused: true });
  return gs.map((g, i) => g ?? zerosLike(weights[i]));
}

/** Σ over the batches of ∂L_b/∂θ (no graph), one tensor per weight. */
export function summedGrads(model: Module, ctx: ScoreContext, weights: Tensor[], scale?: number): Tensor[] {
  let acc: Tensor[] | undefined;
  for (const batch of ctx.batches) {
    acc = tidy(() => {
      const gs = batchGrads(model, ctx, batch, weights, { scale });
      return acc ? acc.map((a, i) => a.add(gs[i])) : gs;
    });
  }
  if (!acc) throw new InvalidArgumentError('ctx.batches', 'at least one batch', ctx.batches);
  return acc;
}
