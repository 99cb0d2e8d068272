/**
 * Sparse-masked layers (architecture.md decision 2). Each owns a persistent float buffer
 * `weight_mask` shaped like its weight (ones at construction) and keeps one invariant: the
 * weight's masked entries are exactly zero. setMask(), resetParameters() and loadStateDict()
 * re-establish it; between them the fused optimizer keeps masked entries at zero, so forward
 * uses the weight as is, with no per-step multiply.
 *
 * The weight θ is the layer's `weight` parameter ('dense'), or is kept by a parametrization that
 * another module attaches (setWeightParametrization; Sign-In's θ = mask ⊙ m ⊙ w lives in
 * src/signin/parametrization.ts). The layer knows only the interface: the parametrization's
 * buffers (setParametrizationBuffer), and the moments at which it re-establishes θ under the mask.
 */
import type { Issue } from '../errors';
import { noGrad } from '../tensor/autograd';
import { onesLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import { Conv2d } from './conv';
import { invalidTensorArg, tensorArg } from './functional';
import { Linear } from './linear';
import { moduleArg, type Module } from './module';

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

/**
 * A parametrization of a masked layer's weight, attached by the module that owns it. θ stays the
 * layer's `weight` parameter (the autograd leaf forward uses); the parametrization keeps its
 * factors in buffers it registers through the layer and keeps θ in step with them.
 */
export interface WeightParametrization {
  /** What layer.parametrization reports while it is attached (the layer says 'dense' otherwise). */
  readonly name: string;
  /** Re-establishes θ and the factors under the mask (after setMask, a load, attaching). */
  enforce(): void;
  /** θ was re-initialised (resetParameters): derive the factors from it again. */
  afterReset(): void;
}

type SetBuffer = (name: string, t: Tensor | undefined) => void;

/**
 * The mask and parametrization of one masked layer: the single implementation behind MaskedConv2d
 * and MaskedLinear. A helper the layer owns, rather than a mixin, lets each class keep its own
 * base (instanceof Conv2d / Linear) and its protected overrides, which a mixin's exported class
 * expression cannot declare (TS4094). It reaches the layer's buffers through the `register` and
 * `set` callbacks because Module keeps those methods protected.
 */
class MaskedWeight {
  parametrization: WeightParametrization | undefined;
  private readonly slots = new Set<string>();

  constructor(private readonly layer: Module & { readonly weight: Tensor }, private readonly register: SetBuffer, private readonly set: SetBuffer) {
    register(MASK_BUFFER, onesLike(layer.weight));
  }

  get mask(): Tensor {
    return this.layer.getBuffer(MASK_BUFFER)!;
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

  afterReset(): void {
    if (this.parametrization) this.parametrization.afterReset();
    else this.enforce();
  }

  /** The mask invariant: θ zero outside the mask (a parametrization also keeps its factors so). */
  enforce(): void {
    if (this.parametrization) this.parametrization.enforce();
    else zeroMasked(this.layer.weight, this.mask);
  }

  setParametrization(p: WeightParametrization | undefined): void {
    this.parametrization = p;
    this.enforce();
  }

  /** Registers a parametrization's buffer on first use, else replaces it (undefined frees it). */
  buffer(name: string, t: Tensor | undefined): void {
    if (this.slots.has(name)) {
      this.set(name, t);
    } else {
      this.register(name, t);
      this.slots.add(name);
    }
  }

  /** A mask about to be loaded must hold only 0 and 1 (checked before the load writes anything). */
  checkLoad(incoming: ReadonlyMap<string, Tensor>): Issue[] {
    const mask = incoming.get(MASK_BUFFER);
    if (!mask || isBinary(mask)) return [];
    return [{ code: 'invalid_value', path: MASK_BUFFER, message: `${MASK_BUFFER} of ${this.layer.constructor.name} holds values other than 0 and 1` }];
  }

  /** checkLoad refused a non-binary mask before anything was written, so only the invariant is restored. */
  afterLoad(): void {
    this.enforce();
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

  /** 'dense', or the name of the attached weight parametrization ('signin'). */
  get parametrization(): string { return this.masked.parametrization?.name ?? 'dense'; }
  /** The attached weight parametrization, if any. */
  get weightParametrization(): WeightParametrization | undefined { return this.masked.parametrization; }
  /** The live mask buffer (1 = kept, 0 = pruned), shaped and typed like the weight. */
  get mask(): Tensor { return this.masked.mask; }
  /** Copies a 0/1 mask (any numeric or bool dtype) into the mask buffer and zeroes the weight outside it. */
  setMask(mask: Tensor): this { this.masked.setMask(mask); return this; }
  /** The fraction of weights kept. */
  density(): number { return this.masked.density(); }
  override resetParameters(generator?: Generator): void { super.resetParameters(generator); this.masked?.afterReset(); }
  /** Re-establishes the invariant (masked entries of the weight are zero). */
  protected enforceMask(): void { this.masked.enforce(); }
  /** Attaches a weight parametrization (undefined: back to 'dense'); Sign-In: applySignIn / mergeSignIn in src/signin. */
  setWeightParametrization(p: WeightParametrization | undefined): void { this.masked.setParametrization(p); }
  /** A buffer of the attached parametrization: registered on first use, replaced (or freed, undefined) after. */
  setParametrizationBuffer(name: string, t: Tensor | undefined): void { this.masked.buffer(name, t); }
  protected override checkLoad(incoming: ReadonlyMap<string, Tensor>): Issue[] { return this.masked.checkLoad(incoming); }
  protected override afterLoadStateDict(): void { this.masked.afterLoad(); }
  protected override afterTo(): void { this.masked.enforce(); }
  protected override extraRepr(): string { return `${super.extraRepr()}, parametrization=${this.parametrization}`; }
}

export class MaskedLinear extends Linear {
  private readonly masked = new MaskedWeight(this, (n, t) => this.registerBuffer(n, t), (n, t) => this.setBuffer(n, t));

  /** 'dense', or the name of the attached weight parametrization ('signin'). */
  get parametrization(): string { return this.masked.parametrization?.name ?? 'dense'; }
  /** The attached weight parametrization, if any. */
  get weightParametrization(): WeightParametrization | undefined { return this.masked.parametrization; }
  /** The live mask buffer (1 = kept, 0 = pruned), shaped and typed like the weight. */
  get mask(): Tensor { return this.masked.mask; }
  /** Copies a 0/1 mask (any numeric or bool dtype) into the mask buffer and zeroes the weight outside it. */
  setMask(mask: Tensor): this { this.masked.setMask(mask); return this; }
  /** The fraction of weights kept. */
  density(): number { return this.masked.density(); }
  override resetParameters(generator?: Generator): void { super.resetParameters(generator); this.masked?.afterReset(); }
  /** Re-establishes the invariant (masked entries of the weight are zero). */
  protected enforceMask(): void { this.masked.enforce(); }
  /** Attaches a weight parametrization (undefined: back to 'dense'); Sign-In: applySignIn / mergeSignIn in src/signin. */
  setWeightParametrization(p: WeightParametrization | undefined): void { this.masked.setParametrization(p); }
  /** A buffer of the attached parametrization: registered on first use, replaced (or freed, undefined) after. */
  setParametrizationBuffer(name: string, t: Tensor | undefined): void { this.masked.buffer(name, t); }
  protected override checkLoad(incoming: ReadonlyMap<string, Tensor>): Issue[] { return this.masked.checkLoad(incoming); }
  protected override afterLoadStateDict(): void { this.masked.afterLoad(); }
  protected override afterTo(): void { this.masked.enforce(); }
  protected override extraRepr(): string { return `${super.extraRepr()}, parametrization=${this.parametrization}`; }
}

export type MaskedLayer = MaskedConv2d | MaskedLinear;

export function isMaskedLayer(m: unknown): m is MaskedLayer {
  return m instanceof MaskedConv2d || m instanceof MaskedLinear;
}

/** Every masked layer of a model with its dotted name, in registration order. */
export function maskedLayers(model: Module): [string, MaskedLayer][] {
  const out: [string, MaskedLayer][] = [];
  for (const [name, m] of moduleArg('model', model).namedModules()) if (isMaskedLayer(m)) out.push([name, m]);
  return out;
}
