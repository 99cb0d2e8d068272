/**
 * The AdamW update of one tensor, as torch.optim.AdamW's single-tensor path computes it
 * (Loshchilov & Hutter's decoupled weight decay): p ← p·(1 − lr·λ); m ← β₁m + (1 − β₁)g;
 * v ← β₂v + (1 − β₂)g²; p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε), t the update count
 * including this one. Shared by the dense path (src/optim/adamw.ts) and the Sign-In route
 * (src/signin/adamw.ts).
 */
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Updates p, expAvg and expAvgSq in place with gradient g; `step` ≥ 1 counts this update. */
export function adamwUpdate(p: Tensor, g: Tensor, expAvg: Tensor, expAvgSq: Tensor, step: number, h: AdamWHyper): void {
  noGrad(() => tidy(() => {
    if (h.weightDecay !== 0) p.mul_(1 - h.lr * h.weightDecay);
    expAvg.mul_(h.beta1).add_(g, 1 - h.beta1);
    expAvgSq.mul_(h.beta2).add_(g.mul(g), 1 - h.beta2);
    const denom = expAvgSq.sqrt().div(Math.sqrt(1 - h.beta2 ** step)).add(h.eps);
    p.sub_(expAvg.div(denom), h.lr / (1 - h.beta1 ** step));
  }));
}
