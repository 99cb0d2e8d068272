/**
 * The Sign-In parametrization of a masked layer's weight: θ = mask ⊙ m ⊙ w, attached to the layer
 * as its WeightParametrization (src/nn/masked.ts), with the factors in the layer's persistent
 * buffers `weight_m` and `weight_w`.
 *
 * Invariant while attached: θ (the layer's `weight`, the autograd leaf forward uses) equals m ⊙ w
 * exactly (elementwise float product) and w is exactly 0 outside the mask, so θ = mask ⊙ m ⊙ w.
 * Attaching splits the masked θ with the fused reset kernel (m² − w² = β, then θ = m·w, which
 * moves θ by at most a rounding step); detaching writes θ = mask ⊙ m ⊙ w and frees m and w; after
 * a state-dict load θ is recomputed from the loaded m, w and mask (w zeroed outside the mask).
 * The split formula itself is only in the native kernels (native/signin/).
 */
import { InvalidArgumentError } from '../errors';
import { isMaskedLayer, type MaskedLayer, type WeightParametrization } from '../nn/masked';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { signinReset, signinSplitFused } from './kernels';

/** Buffer names of the Sign-In factors (`<param>_m`, `<param>_w`). */
export const SIGNIN_M_BUFFER = 'weight_m';
export const SIGNIN_W_BUFFER = 'weight_w';

/** A layer's Sign-In factors (live buffers) and the β of its last split. */
export interface SignInFactors {
  m: Tensor;
  w: Tensor;
  beta: number;
}

/**
 * The Sign-In split of θ into new tensors (θ's dtype, float32 or float64): m = sqrt((β + sqrt(β² +
 * 4θ²)) / 2) and w = θ / m, so that m² − w² = β and m·w = θ. θ = 0 gives m = √β, w = 0.
 */
export function signinSplit(theta: Tensor, beta = 1): { m: Tensor; w: Tensor } {
  return signinSplitFused({ theta, beta });
}

/**
 * The θ of each attached Sign-In layer, by tensor: an optimizer must not update one as a plain
 * parameter (m and w would fall behind, and the next load or reset would undo the update).
 * Weak, so a model that is dropped is not kept alive; entries are made whenever the invariant is
 * re-established (attach, setMask, a load, Module.to, which replaces θ).
 */
const thetas = new WeakMap<Tensor, SignInParametrization>();

class SignInParametrization implements WeightParametrization {
  readonly name = 'signin';

  constructor(readonly layer: MaskedLayer, public beta: number) {}

  get factors(): SignInFactors {
    return { m: this.layer.getBuffer(SIGNIN_M_BUFFER)!, w: this.layer.getBuffer(SIGNIN_W_BUFFER)!, beta: this.beta };
  }

  /** Splits the masked θ into the existing m and w in place (optimizers holding them stay valid) and writes θ = m·w. */
  split(beta: number): void {
    const { m, w } = this.factors;
    signinReset({ theta: this.layer.weight, m, w, mask: this.layer.mask, beta });
    this.beta = beta;
  }

  enforce(): void {
    const { m, w } = this.factors;
    noGrad(() => tidy(() => {
      w.maskedFill_(this.layer.mask.eq(0), 0);
      this.layer.weight.copy_(m.mul(w));
    }));
    thetas.set(this.layer.weight, this);
  }

  afterReset(): void {
    this.split(this.beta);
  }
}

function signinOf(layer: MaskedLayer): SignInParametrization | undefined {
  const p = layer.weightParametrization;
  return p instanceof SignInParametrization ? p : undefined;
}

/** Whether `t` is the θ of a layer in the Sign-In parametrization now. */
export function isSignInTheta(t: Tensor): boolean {
  const p = thetas.get(t);
  return p !== undefined && signinOf(p.layer) === p && p.layer.weight === t;
}

/** A layer's Sign-In factors while it is parametrized 'signin', else undefined. */
export function signinFactors(layer: MaskedLayer): SignInFactors | undefined {
  if (!isMaskedLayer(layer)) throw new InvalidArgumentError('layer', 'a masked layer (MaskedConv2d, MaskedLinear)', layer);
  return signinOf(layer)?.factors;
}

/** Puts a layer in Sign-In (β already checked); re-splits with β when it is already. */
export function attachSignIn(layer: MaskedLayer, beta: number): void {
  const current = signinOf(layer);
  if (current) {
    current.split(beta);
    return;
  }
  layer.setParametrizationBuffer(SIGNIN_M_BUFFER, zerosLike(layer.weight));
  layer.setParametrizationBuffer(SIGNIN_W_BUFFER, zerosLike(layer.weight));
  const p = new SignInParametrization(layer, beta);
  p.split(beta);
  layer.setWeightParametrization(p);
}

/** Writes θ = mask ⊙ m ⊙ w (bit-identical to θ under the invariant), frees m and w and returns the layer to 'dense'. */
export function detachSignIn(layer: MaskedLayer): void {
  const p = signinOf(layer);
  if (!p) return;
  const { m, w } = p.factors;
  noGrad(() => tidy(() => {
    layer.weight.copy_(m.mul(w).mul(layer.mask));
  }));
  layer.setParametrizationBuffer(SIGNIN_M_BUFFER, undefined);
  layer.setParametrizationBuffer(SIGNIN_W_BUFFER, undefined);
  layer.setWeightParametrization(undefined);
}

/** Records the β of a split done in place by the fused reset (the factors already hold it). */
export function noteSignInBeta(layer: MaskedLayer, beta: number): void {
  const p = signinOf(layer);
  if (p) p.beta = beta;
}
