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
import { InvalidArgumentError, ToolkitError, type Issue } from '../errors';
import { noGrad } from '../tensor/autograd';
import { onesLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import { oneOf } from '../validate';
import { Conv2d } from './conv';
import { invalidTensorArg, tensorArg } from './functional';
import { Linear } from './linear';
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

function checkBeta(opts: ParametrizationOptions | undefined): number {
  const beta = opts?.beta ?? 1;
  if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta)) throw new InvalidArgumentError('beta', 'finite number > 0', beta);
  return beta;
}

/**
 * The mask and parametrization of one masked layer: the single implementation behind MaskedConv2d
 * and MaskedLinear. A helper the layer owns, rather than a mixin, lets each class keep its own
 * base (instanceof Conv2d / Linear) and its protected overrides, which a mixin's exported class
 * expression cannot declare (TS4094). It reaches the layer's buffers through the `register` and
 * `set` callbacks because Module keeps those methods protected.
 */
class MaskedWeight {
  kind: Parametrization = 'dense';
  beta = 1;

  constructor(private readonly layer: Module & { readonly weight: Tensor }, register: SetBuffer, private readonly set: SetBuffer) {
    register(MASK_BUFFER, onesLike(layer.weight));
    register(SIGNIN_M_BUFFER, undefined);
    register(SIGNIN_W_BUFFER, undefined);
  }

  get mask(): Tensor {
    return this.layer.getBuffer(MASK_BUFFER)!;
  }

  get signin(): SignInFactors | undefined {
    if (this.kind !== 'signin') return undefined;
    return { m: this.layer.getBuffer(SIGNIN_M_BUFFER)!, w: this.layer.getBuffer(SIGNIN_W_BUFFER)!, beta: this.beta };
  }

  setMask(mask: Tensor): void {
    const m = checkMask(mask, this.layer.weight);
    noGrad(() => this.mask.copy_(m));
    this.enforce();
  }

  density(): number {
    const n = this.mask.numel;
    return n === 0 ? 1 : tidy(() => this.mask.sum().item()) / n;
  }

  /** After the base class re-initialised the weight: under 'signin' the fresh θ gets a fresh split. */
  afterReset(): void {
    if (this.kind === 'signin') this.split(this.beta);
    else this.enforce();
  }

  /** The mask invariant: θ zero outside the mask; under 'signin' w zero there and θ = m·w. */
  enforce(): void {
    const { weight } = this.layer;
    const s = this.signin;
    if (!s) {
      zeroMasked(weight, this.mask);
      return;
    }
    noGrad(() => tidy(() => {
      s.w.maskedFill_(this.mask.eq(0), 0);
      weight.copy_(s.m.mul(s.w));
    }));
  }

  /**
   * 'signin' from 'dense' splits the masked θ with opts.beta; 'signin' again re-splits; 'dense'
   * merges θ = mask ⊙ m ⊙ w and frees m and w. Either way the invariant holds afterwards.
   */
  setParametrization(kind: Parametrization, opts: ParametrizationOptions): void {
    const next = oneOf('parametrization', kind, PARAMETRIZATIONS);
    if (next === 'signin') {
      const beta = checkBeta(opts);
      this.split(beta);
      this.beta = beta;
    } else if (this.kind === 'signin') {
      const { m, w } = this.signin!;
      noGrad(() => tidy(() => {
        this.layer.weight.copy_(m.mul(w).mul(this.mask));
      }));
      this.set(SIGNIN_M_BUFFER, undefined);
      this.set(SIGNIN_W_BUFFER, undefined);
    }
    this.kind = next;
    this.enforce();
  }

  noteBeta(beta: number): void {
    this.beta = checkBeta({ beta });
  }

  /** A mask about to be loaded must hold only 0 and 1 (checked before the load writes anything). */
  checkLoad(incoming: ReadonlyMap<string, Tensor>): Issue[] {
    const mask = incoming.get(MASK_BUFFER);
    if (!mask || isBinary(mask)) return [];
    return [{ code: 'invalid_value', path: MASK_BUFFER, message: `${MASK_BUFFER} of ${this.layer.constructor.name} holds values other than 0 and 1` }];
  }

  afterLoad(): void {
    if (!isBinary(this.mask)) {
      throw new ToolkitError('ERR_STATE_DICT', `${MASK_BUFFER} of ${this.layer.constructor.name} holds values other than 0 and 1 after loading a state dict`);
    }
    this.enforce();
  }

  /**
   * Splits the masked θ into m and w (in place when they exist, so that optimizers holding them
   * stay valid) and writes θ = m·w.
   */
  private split(beta: number): void {
    const { weight } = this.layer;
    zeroMasked(weight, this.mask);
    const current = this.signin;
    const { m, w } = signinSplit(weight, beta);
    if (current) {
      noGrad(() => {
        current.m.copy_(m);
        current.w.copy_(w);
      });
      m.dispose();
      w.dispose();
    } else {
      this.set(SIGNIN_M_BUFFER, m);
      this.set(SIGNIN_W_BUFFER, w);
    }
    noGrad(() => tidy(() => {
      const s = current ?? { m, w };
      weight.copy_(s.m.mul(s.w));
    }));
  }
}

/*
 * The two layers differ only in their base class and delegate everything else to their
 * MaskedWeight. `masked` is still unset while the base constructor runs resetParameters, hence the
 * `?.` there; it is a TS-private property rather than a #private field because reading one of
 * those before its initialiser has run throws.
 */

export class MaskedConv2d extends Conv2d {
  private readonly masked = new MaskedWeight(this, (n, t) => this.registerBuffer(n, t), (n, t) => this.setBuffer(n, t));

  get parametrization(): Parametrization { return this.masked.kind; }
  /** The Sign-In factors (live buffers) while parametrized 'signin', else undefined. */
  get signin(): SignInFactors | undefined { return this.masked.signin; }
  /** The live mask buffer (1 = kept, 0 = pruned), shaped and typed like the weight. */
  get mask(): Tensor { return this.masked.mask; }
  /** Copies a 0/1 mask (any numeric or bool dtype) into the mask buffer and zeroes the weight outside it. */
  setMask(mask: Tensor): this { this.masked.setMask(mask); return this; }
  /** The fraction of weights kept. */
  density(): number { return this.masked.density(); }
  override resetParameters(generator?: Generator): void { super.resetParameters(generator); this.masked?.afterReset(); }
  /** Re-establishes the invariant (masked entries of the weight are zero). */
  protected enforceMask(): void { this.masked.enforce(); }
  /** Switches to 'dense' or 'signin' (split with opts.beta); whole models: applySignIn / mergeSignIn in src/signin. */
  setParametrization(kind: Parametrization, opts: ParametrizationOptions = {}): void { this.masked.setParametrization(kind, opts); }
  /** Records the β of a split done in place (the fused reset); the factors must already hold it. */
  noteSignInBeta(beta: number): void { this.masked.noteBeta(beta); }
  protected override checkLoad(incoming: ReadonlyMap<string, Tensor>): Issue[] { return this.masked.checkLoad(incoming); }
  protected override afterLoadStateDict(): void { this.masked.afterLoad(); }
  protected override extraRepr(): string { return `${super.extraRepr()}, parametrization=${this.masked.kind}`; }
}

export class MaskedLinear extends Linear {
  private readonly masked = new MaskedWeight(this, (n, t) => this.registerBuffer(n, t), (n, t) => this.setBuffer(n, t));

  get parametrization(): Parametrization { return this.masked.kind; }
  /** The Sign-In factors (live buffers) while parametrized 'signin', else undefined. */
  get signin(): SignInFactors | undefined { return this.masked.signin; }
  /** The live mask buffer (1 = kept, 0 = pruned), shaped and typed like the weight. */
  get mask(): Tensor { return this.masked.mask; }
  /** Copies a 0/1 mask (any numeric or bool dtype) into the mask buffer and zeroes the weight outside it. */
  setMask(mask: Tensor): this { this.masked.setMask(mask); return this; }
  /** The fraction of weights kept. */
  density(): number { return this.masked.density(); }
  override resetParameters(generator?: Generator): void { super.resetParameters(generator); this.masked?.afterReset(); }
  /** Re-establishes the invariant (masked entries of the weight are zero). */
  protected enforceMask(): void { this.masked.enforce(); }
  /** Switches to 'dense' or 'signin' (split with opts.beta); whole models: applySignIn / mergeSignIn in src/signin. */
  setParametrization(kind: Parametrization, opts: ParametrizationOptions = {}): void { this.masked.setParametrization(kind, opts); }
  /** Records the β of a split done in place (the fused reset); the factors must already hold it. */
  noteSignInBeta(beta: number): void { this.masked.noteBeta(beta); }
  protected override checkLoad(incoming: ReadonlyMap<string, Tensor>): Issue[] { return this.masked.checkLoad(incoming); }
  protected override afterLoadStateDict(): void { this.masked.afterLoad(); }
  protected override extraRepr(): string { return `${super.extraRepr()}, parametrization=${this.masked.kind}`; }
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
