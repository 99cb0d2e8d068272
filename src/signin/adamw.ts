/**
 * Sign-In with AdamW: the documented route for optimizers without a fused Sign-In kernel.
 *
 * A Sign-In pair θ = mask ⊙ m ⊙ w is trained exactly as torch.optim.AdamW would train the leaves
 * m and w of that product: θ's gradient g (the autograd leaf forward used) is mapped by the chain
 * rule to ∂L/∂m = g·mask·w and ∂L/∂w = g·mask·m (with the old m and w), each factor gets its own
 * AdamW update (own moments, decoupled decay of the group), w is zeroed outside the mask and θ is
 * rewritten as m·w, so the layer invariant (weight == m ⊙ w, w == 0 outside the mask) holds after
 * every step. Outside the mask m receives no gradient, only the decay; w and θ stay exactly 0.
 *
 * The Sign-In reset (resetSignIn) works unchanged: the optimizer's entryBuffers() hands it the
 * first moments of m and w (zeroed with zeroMomentum, masked always); the second moments are kept.
 *
 * signinAdamWStep is the whole per-pair update, with its state in SignInAdamWState; ./adamw-kind.ts
 * registers it with AdamW under `signin`.
 */
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import type { Tensor } from '../tensor/tensor';
import { adamwUpdate, type AdamWHyper } from '../optim/adamw-update';
import type { SignInParam } from './update-kind';

/** The AdamW moments of a Sign-In pair's m and w and the updates applied so far. */
export interface SignInAdamWState {
  expAvgM: Tensor;
  expAvgSqM: Tensor;
  expAvgW: Tensor;
  expAvgSqW: Tensor;
  steps: number;
}

/** Fresh (zero, kept) moments for a Sign-In pair; dispose them with disposeSignInAdamWState. */
export function signinAdamWState(entry: SignInParam): SignInAdamWState {
  return noGrad(() => ({
    expAvgM: keep(zerosLike(entry.m)),
    expAvgSqM: keep(zerosLike(entry.m)),
    expAvgW: keep(zerosLike(entry.w)),
    expAvgSqW: keep(zerosLike(entry.w)),
    steps: 0,
  }));
}

export function disposeSignInAdamWState(s: SignInAdamWState): void {
  for (const t of [s.expAvgM, s.expAvgSqM, s.expAvgW, s.expAvgSqW]) t.dispose();
}

/**
 * One AdamW step of a Sign-In pair (see the file comment). Returns false, changing nothing, when
 * θ has no gradient.
 */
export function signinAdamWStep(entry: SignInParam, state: SignInAdamWState, h: AdamWHyper): boolean {
  const g = entry.theta.grad;
  if (!g) return false;
  const step = state.steps + 1;
  noGrad(() => tidy(() => {
    const gm = g.mul(entry.mask);
    const gradM = gm.mul(entry.w);
    const gradW = gm.mul(entry.m);
    adamwUpdate(entry.m, gradM, state.expAvgM, state.expAvgSqM, step, h);
    adamwUpdate(entry.w, gradW, state.expAvgW, state.expAvgSqW, step, h);
    entry.w.mul_(entry.mask);
    entry.theta.copy_(entry.m.mul(entry.w));
  }));
  state.steps = step;
  return true;
}
