/**
 * Sparse-masked layers (architecture.md decision 2). Each owns a persistent float buffer
 * `weight_mask` shaped like its weight (ones at construction) and keeps one invariant: the
 * weight's masked entries are exactly zero. setMask(), resetParameters() and loadStateDict()
 * re-establish it; between them the fused optimizer keeps masked entries at zero, so forward
 * uses the weight as is, with no per-step multiply.
 *
 * The weight is parametrized 'dense' (θ is the parameter itself) or, once the Sign-In code
 * switches a layer through setParametrization(), 'signin' (θ = mask ⊙ m ⊙ w with buffers
 * `weight_m` and `weight_w`, θ kept in `weight`).
 *
 * Sign-In invariant (src/signin/apply.ts drives it): θ stays the `weight` parameter, the autograd
 * leaf that forward uses, so forward costs nothing extra; the fused Sign-In step reads θ's gradient
 * and writes m, w and θ. Between steps `weight` equals m ⊙ w exactly (elementwise float product)
 * and w is exactly 0 outside the mask, so θ = mask ⊙ m ⊙ w. Switching to 'signin' splits the
 * masked θ (signinSplit: m² − w² = β, m·w = θ) and then writes θ = m·w, which moves θ by at most
 * a rounding step. Switching back to 'dense' writes θ = mask ⊙ m ⊙ w and frees m and w. After
 * loadStateDict, θ is recomputed from the loaded m, w and mask (w is zeroed outside the mask).
 */
import { InvalidArgumentError, ToolkitError } from '../errors';
import { noGrad } from '../tensor/autograd';
import { onesLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import { oneOf } from '../validate';
import { Conv2d, type Conv2dLayerOptions } from './conv';
import { invalidTensorArg, tensorArg, type IntOrPair } from './functional';
import { Linear, type LinearOptions } from './linear';
import type { Module } from './module';

export type Parametrization = 'dense' | 'signin';
export const PARAMETRIZATIONS: readonly Parametrization[] = ['dense', 'signin'];

/** The buffer name of a masked layer's mask (`<param>_mask`). */
export const MASK_BUFFER = 'weight_mask';

function isBinary(t: Tensor): boolean {
  return tidy(() => t.eq(0).logicalOr(t.eq(1)).all().item() === 1);
}

function checkMask(mask: unknown, weight: Tensor): Tensor {
  const m = tensorArg('mask', mask);
  if (m.shape.join(',') !== weight.shape.join(',')) {
    throw invalidTensorArg('mask', `a Tensor of the weight's shape [${weight.shape.join(', ')}]`, m);
  }
  if (m.dtype !== 'bool' && !isBinary(m)) {
    throw invalidTensorArg('mask', 'a Tensor holding only 0 and 1', 'a Tensor with other values');
  }
  return m;
}

/** Zeroes the weight where the mask is 0 (masked_fill gives +0, never -0). */
function zeroMasked(weight: Tensor, mask: Tensor): void {
  noGrad(() => tidy(() => {
    weight.maskedFill_(mask.eq(0), 0);
  }));
}

function densityOf(mask: Tensor): number {
  const n = mask.numel;
  return n === 0 ? 1 : tidy(() => mask.sum().item()) / n;
}

function checkLoadedMask(layer: Module, mask: Tensor): void {
  if (!isBinary(mask)) {
    throw new ToolkitError('ERR_STATE_DICT', `${MASK_BUFFER} of ${layer.constructor.name} holds values other than 0 and 1 after loading a state dict`);
  }
}

/** Buffer names of the Sign-In factors (`<param>_m`, `<param>_w`); registered (undefined) while 'dense'. */
export const SIGNIN_M_BUFFER = 'weight_m';
export const SIGNIN_W_BUFFER = 'weight_w';

/** A layer's Sign-In factors (live buffers) and the β of its last split. */
export interface SignInFactors {
  m: Tensor;
  w: Tensor;
  beta: number;
}

export interface ParametrizationOptions {
  /** Inner scaling of the Sign-In split, m² − w² = β (> 0); default 1. Ignored for 'dense'. */
  beta?: number;
}

/**
 * The Sign-In split of θ (new tensors, θ's dtype): m = sqrt((β + sqrt(β² + 4θ²)) / 2) and
 * w = θ / m, so that m² − w² = β and m·w = θ. θ = 0 gives m = √β, w = 0.
 */
export function signinSplit(theta: Tensor, beta = 1): { m: Tensor; w: Tensor } {
  if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta)) throw new InvalidArgumentError('beta', 'finite number > 0', beta);
  return noGrad(() => tidy(() => {
    const t = theta.detach();
    const m = t.square().mul(4).add(beta * beta).sqrt().add(beta).mul(0.5).sqrt();
    return { m, w: t.div(m) };
  }));
}

type SetBuffer = (name: string, t: Tensor | undefined) => void;

/**
 * Splits the (already masked) weight into the m and w buffers (in place when they exist, so that
 * optimizers holding them stay valid) and writes θ = m·w.
 */
function splitSignIn(weight: Tensor, beta: number, current: SignInFactors | undefined, set: SetBuffer): void {
  const { m, w } = signinSplit(weight, beta);
  if (current) {
    noGrad(() => {
      current.m.copy_(m);
      current.w.copy_(w);
    });
    m.dispose();
    w.dispose();
  } else {
    set(SIGNIN_M_BUFFER, m);
    set(SIGNIN_W_BUFFER, w);
  }
  noGrad(() => tidy(() => {
    const s = current ?? { m, w };
    weight.copy_(s.m.mul(s.w));
  }));
}

/** Sign-In form of the mask invariant: w = 0 outside the mask, θ = m·w. */
function enforceSignIn(weight: Tensor, mask: Tensor, m: Tensor, w: Tensor): void {
  noGrad(() => tidy(() => {
    w.maskedFill_(mask.eq(0), 0);
    weight.copy_(m.mul(w));
  }));
}

/** Back to 'dense': θ = mask ⊙ m ⊙ w, m and w freed. */
function mergeSignIn(weight: Tensor, mask: Tensor, m: Tensor, w: Tensor, set: SetBuffer): void {
  noGrad(() => tidy(() => {
    weight.copy_(m.mul(w).mul(mask));
  }));
  set(SIGNIN_M_BUFFER, undefined);
  set(SIGNIN_W_BUFFER, undefined);
}

function checkBeta(opts: ParametrizationOptions | undefined): number {
  const beta = opts?.beta ?? 1;
  if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta)) throw new InvalidArgumentError('beta', 'finite number > 0', beta);
  return beta;
}

export class MaskedConv2d extends Conv2d {
  private kind: Parametrization = 'dense';
  private beta = 1;

  constructor(inChannels: number, outChannels: number, kernelSize: IntOrPair, opts: Conv2dLayerOptions = {}) {
    super(inChannels, outChannels, kernelSize, opts);
    this.registerBuffer(MASK_BUFFER, onesLike(this.weight));
    this.registerBuffer(SIGNIN_M_BUFFER, undefined);
    this.registerBuffer(SIGNIN_W_BUFFER, undefined);
  }

  get parametrization(): Parametrization {
    return this.kind;
  }

  /** The Sign-In factors (live buffers) while parametrized 'signin', else undefined. */
  get signin(): SignInFactors | undefined {
    if (this.kind !== 'signin') return undefined;
    return { m: this.getBuffer(SIGNIN_M_BUFFER)!, w: this.getBuffer(SIGNIN_W_BUFFER)!, beta: this.beta };
  }

  /** The live mask buffer (1 = kept, 0 = pruned), shaped and typed like the weight. */
  get mask(): Tensor {
    return this.getBuffer(MASK_BUFFER)!;
  }

  /** Copies a 0/1 mask (any numeric or bool dtype) into the mask buffer and zeroes the weight outside it. */
  setMask(mask: Tensor): this {
    const m = checkMask(mask, this.weight);
    noGrad(() => this.mask.copy_(m));
    this.enforceMask();
    return this;
  }

  /** The fraction of weights kept. */
  density(): number {
    return densityOf(this.mask);
  }

  override resetParameters(generator?: Generator): void {
    super.resetParameters(generator);
    // The base constructor initialises before the mask exists.
    if (!this.getBuffer(MASK_BUFFER)) return;
    if (this.kind === 'signin') {
      // Sign-In: the fresh θ (masked) gets a fresh split. (kind is unset while the base constructor runs.)
      zeroMasked(this.weight, this.mask);
      splitSignIn(this.weight, this.beta, this.signin, (n, t) => this.setBuffer(n, t));
    } else {
      this.enforceMask();
    }
  }

  /** Re-establishes the invariant (masked entries of the weight are zero). */
  protected enforceMask(): void {
    const s = this.signin;
    if (s) enforceSignIn(this.weight, this.mask, s.m, s.w);
    else zeroMasked(this.weight, this.mask);
  }

  /**
   * Switches the parametrization and re-establishes the invariant (use applySignIn / mergeSignIn
   * from src/signin for whole models). 'signin' from 'dense' splits the masked θ with opts.beta;
   * 'signin' again re-splits; 'dense' merges θ = mask ⊙ m ⊙ w and frees m and w.
   */
  setParametrization(kind: Parametrization, opts: ParametrizationOptions = {}): void {
    const next = oneOf('parametrization', kind, PARAMETRIZATIONS);
    const set: SetBuffer = (n, t) => this.setBuffer(n, t);
    if (next === 'signin') {
      const beta = checkBeta(opts);
      zeroMasked(this.weight, this.mask);
      splitSignIn(this.weight, beta, this.signin, set);
      this.beta = beta;
    } else if (this.kind === 'signin') {
      const s = this.signin!;
      mergeSignIn(this.weight, this.mask, s.m, s.w, set);
    }
    this.kind = next;
    this.enforceMask();
  }

  /** Records the β of a split done in place (the fused reset); the factors must already hold it. */
  noteSignInBeta(beta: number): void {
    this.beta = checkBeta({ beta });
  }

  protected override afterLoadStateDict(): void {
    checkLoadedMask(this, this.mask);
    this.enforceMask();
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, parametrization=${this.kind}`;
  }
}

export class MaskedLinear extends Linear {
  private kind: Parametrization = 'dense';
  private beta = 1;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super(inFeatures, outFeatures, opts);
    this.registerBuffer(MASK_BUFFER, onesLike(this.weight));
    this.registerBuffer(SIGNIN_M_BUFFER, undefined);
    this.registerBuffer(SIGNIN_W_BUFFER, undefined);
  }

  get parametrization(): Parametrization {
    return this.kind;
  }

  /** The Sign-In factors (live buffers) while parametrized 'signin', else undefined. */
  get signin(): SignInFactors | undefined {
    if (this.kind !== 'signin') return undefined;
    return { m: this.getBuffer(SIGNIN_M_BUFFER)!, w: this.getBuffer(SIGNIN_W_BUFFER)!, beta: this.beta };
  }

  /** The live mask buffer (1 = kept, 0 = pruned), shaped and typed like the weight. */
  get mask(): Tensor {
    return this.getBuffer(MASK_BUFFER)!;
  }

  /** Copies a 0/1 mask (any numeric or bool dtype) into the mask buffer and zeroes the weight outside it. */
  setMask(mask: Tensor): this {
    const m = checkMask(mask, this.weight);
    noGrad(() => this.mask.copy_(m));
    this.enforceMask();
    return this;
  }

  /** The fraction of weights kept. */
  density(): number {
    return densityOf(this.mask);
  }

  override resetParameters(generator?: Generator): void {
    super.resetParameters(generator);
    if (!this.getBuffer(MASK_BUFFER)) return;
    if (this.kind === 'signin') {
      // Sign-In: the fresh θ (masked) gets a fresh split. (kind is unset while the base constructor runs.)
      zeroMasked(this.weight, this.mask);
      splitSignIn(this.weight, this.beta, this.signin, (n, t) => this.setBuffer(n, t));
    } else {
      this.enforceMask();
    }
  }

  /** Re-establishes the invariant (masked entries of the weight are zero). */
  protected enforceMask(): void {
    const s = this.signin;
    if (s) enforceSignIn(this.weight, this.mask, s.m, s.w);
    else zeroMasked(this.weight, this.mask);
  }

  /**
   * Switches the parametrization and re-establishes the invariant (use applySignIn / mergeSignIn
   * from src/signin for whole models). 'signin' from 'dense' splits the masked θ with opts.beta;
   * 'signin' again re-splits; 'dense' merges θ = mask ⊙ m ⊙ w and frees m and w.
   */
  setParametrization(kind: Parametrization, opts: ParametrizationOptions = {}): void {
    const next = oneOf('parametrization', kind, PARAMETRIZATIONS);
    const set: SetBuffer = (n, t) => this.setBuffer(n, t);
    if (next === 'signin') {
      const beta = checkBeta(opts);
      zeroMasked(this.weight, this.mask);
      splitSignIn(this.weight, beta, this.signin, set);
      this.beta = beta;
    } else if (this.kind === 'signin') {
      const s = this.signin!;
      mergeSignIn(this.weight, this.mask, s.m, s.w, set);
    }
    this.kind = next;
    this.enforceMask();
  }

  /** Records the β of a split done in place (the fused reset); the factors must already hold it. */
  noteSignInBeta(beta: number): void {
    this.beta = checkBeta({ beta });
  }

  protected override afterLoadStateDict(): void {
    checkLoadedMask(this, this.mask);
    this.enforceMask();
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, parametrization=${this.kind}`;
  }
}

export type MaskedLayer = MaskedConv2d | MaskedLinear;

export function isMaskedLayer(m: unknown): m is MaskedLayer {
  return m instanceof MaskedConv2d || m instanceof MaskedLinear;
}

/** Every masked layer of a model with its dotted name, in registration order. */
export function maskedLayers(model: Module): [string, MaskedLayer][] {
  const out: [string, MaskedLayer][] = [];
  for (const [name, m] of model.namedModules()) if (isMaskedLayer(m)) out.push([name, m]);
  return out;
}
