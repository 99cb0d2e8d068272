/**
 * Applying Sign-In to a model (signin-method.md): every selected masked conv/linear weight becomes
 * θ = M ⊙ m ⊙ w. θ stays the layer's `weight` parameter (the autograd leaf forward uses, so
 * forward costs nothing extra) and m, w are the persistent buffers `weight_m`, `weight_w`
 * (docs/architecture.md, "As built"). The fused Sign-In step, Sign-In's update kind of the SGD
 * (./update-kind.ts), reads θ's gradient, updates m and w and writes θ = m·w;
 * `signinParameters(model)` lists the {theta, m, w, mask} entries it needs.
 *
 * Invariant while a layer is 'signin': weight == m ⊙ w exactly and w == 0 outside the mask.
 * applySignIn splits the masked θ (m = sqrt((β + sqrt(β² + 4θ²))/2), w = θ/m, so m² − w² = β),
 * then writes θ = m·w: θ moves by at most a float rounding step, so the network function is kept
 * to float rounding. mergeSignIn writes θ = mask ⊙ m ⊙ w (bit-identical to the current θ) and
 * returns the layers to 'dense' for inference and export: the state dict then holds only
 * `weight` and `weight_mask`, as a dense masked model. A Sign-In state dict holds `weight`,
 * `weight_mask`, `weight_m` and `weight_w`; after loadStateDict the layer recomputes θ from the
 * loaded m, w and mask (w is zeroed outside the mask), so m and w are the source of truth.
 * To load a Sign-In checkpoint, applySignIn first (the keys must exist); to load a dense one into
 * a Sign-In model, mergeSignIn, load, then applySignIn again.
 */
import { InvalidArgumentError, UnknownNameError } from '../errors';
import { maskedLayers, type MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import { options } from '../validate';
import { checkBeta, signinReset } from './kernels';
import { attachSignIn, detachSignIn, noteSignInBeta, signinFactors } from './parametrization';
// Sign-In layers exist only after applySignIn, so loading this file registers Sign-In with both
// optimizers: with the SGD through ./update-kind (re-exported below), with AdamW here.
import './adamw-kind';

export { signinParameters, type SignInParam } from './update-kind';

/** Which masked layers to act on: dotted module names, or a predicate over (name, layer). */
export type LayerSelector = readonly string[] | ((name: string, layer: MaskedLayer) => boolean);

/** β for every layer, or per layer by dotted module name. */
export type BetaOption = number | ((name: string, layer: MaskedLayer) => number);

export interface ApplySignInOptions {
  /** Inner scaling m² − w² = β (> 0); default 1 (uniform over layers, as in the paper). */
  beta?: BetaOption;
  /** Layers to reparameterize; default all masked conv/linear layers (first conv and classifier included). */
  layers?: LayerSelector;
}

/**
 * What the reset needs from an optimizer: the momentum buffers of a Sign-In entry's factors m
 * and w (absent where the optimizer uses no momentum), as SGD.entryBuffers gives them (AdamW's
 * gives the first moments).
 */
export interface SignInOptimizer {
  entryBuffers(theta: Tensor): Readonly<Record<string, Tensor>> | undefined;
}

/** An optimizer argument a reset can ask for buffers (SGD, AdamW, or anything with entryBuffers). */
export function signinOptimizer(name: string, v: unknown): SignInOptimizer | undefined {
  if (v !== undefined && (typeof v !== 'object' || v === null || typeof (v as SignInOptimizer).entryBuffers !== 'function')) {
    throw new InvalidArgumentError(name, 'the optimizer training the Sign-In factors (SGD, AdamW: an object with entryBuffers(theta))', v);
  }
  return v as SignInOptimizer | undefined;
}

function betaOf(beta: BetaOption, name: string, layer: MaskedLayer): number {
  return checkBeta(typeof beta === 'function' ? `beta('${name}')` : 'beta', typeof beta === 'function' ? beta(name, layer) : beta);
}

/** The masked layers a selector picks (all when undefined); unknown names throw, listing the valid ones. */
export function selectLayers(model: Module, layers?: LayerSelector): [string, MaskedLayer][] {
  const all = maskedLayers(model);
  if (layers === undefined) return all;
  if (typeof layers === 'function') return all.filter(([n, l]) => layers(n, l));
  if (!Array.isArray(layers) || !layers.every((n) => typeof n === 'string')) {
    throw new InvalidArgumentError('layers', 'array of layer names or a predicate', layers);
  }
  const byName = new Map(all);
  for (const n of layers) if (!byName.has(n)) throw new UnknownNameError('masked layer', n, all.map(([name]) => name));
  const wanted = new Set(layers);
  return all.filter(([n]) => wanted.has(n));
}

/**
 * Switches the selected masked layers to the Sign-In parametrization θ = mask ⊙ m ⊙ w (splitting
 * the masked θ with m² − w² = β, so the function the model computes is unchanged). Layers already
 * in Sign-In are left as they are. Create the optimizer after this call (and after model.to()):
 * it must hold the new m and w.
 *
 * @param model a model with masked layers, usually pruned (pruneModel) first.
 * @param opts `beta` (default 1) and `layers` (default every masked conv/linear layer).
 * @returns the dotted names of the selected layers.
 * @throws UnknownNameError for a layer name that is not a masked layer; InvalidArgumentError for a bad β.
 * @example
 * applySignIn(model, { beta: 1 });
 * const opt = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
 */
export function applySignIn(model: Module, opts: ApplySignInOptions = {}): string[] {
  const o = options<ApplySignInOptions>('options', opts, ['beta', 'layers']);
  const beta = o.beta ?? 1;
  if (typeof beta !== 'number' && typeof beta !== 'function') throw new InvalidArgumentError('beta', 'number or function', beta);
  // Sign-In reparameterizes masked layers only: a model of plain Linear/Conv2d would be left as it
  // was, and trained as plain without a word.
  if (maskedLayers(model).length === 0) {
    throw new InvalidArgumentError('model', 'a model with masked layers (MaskedConv2d / MaskedLinear: Sign-In reparameterizes those)', model);
  }
  const chosen = selectLayers(model, o.layers);
  // Validate every β before touching any layer.
  const betas = chosen.map(([n, l]) => betaOf(beta, n, l));
  chosen.forEach(([, layer], i) => {
    if (layer.parametrization !== 'signin') attachSignIn(layer, betas[i]);
  });
  return chosen.map(([n]) => n);
}

/**
 * Folds m ⊙ w ⊙ mask back into θ and returns every Sign-In layer to 'dense' (m and w are freed).
 * The network function is unchanged (bit-identical). Returns the names of the merged layers.
 */
export function mergeSignIn(model: Module): string[] {
  const merged = signinLayers(model);
  for (const [, layer] of merged) detachSignIn(layer);
  return merged.map(([n]) => n);
}

/** The masked layers currently in the Sign-In parametrization, by dotted module name. */
export function signinLayers(model: Module): [string, MaskedLayer][] {
  return maskedLayers(model).filter(([, l]) => l.parametrization === 'signin');
}

/** True when some layer of the model is in the Sign-In parametrization. */
export function hasSignIn(model: Module): boolean {
  return signinLayers(model).length > 0;
}

export interface ResetSignInOptions {
  /** The β to restore; default: each layer's own β (the one applySignIn used). */
  beta?: BetaOption;
  /** Zero the momentum buffers of m and w (needs `optimizer`); default false (keep). */
  zeroMomentum?: boolean;
  /** The optimizer training the factors: its buffers are zeroed (zeroMomentum) or masked. */
  optimizer?: SignInOptimizer;
}

/**
 * The Sign-In reset: re-splits every Sign-In layer's m and w in place with m² − w² = β and writes
 * θ = m·w, so that the layer invariant holds exactly (one fused kernel per tensor; θ moves by at
 * most a rounding step, the function is kept to float rounding). Returns the number of layers
 * reset.
 */
export function resetSignIn(model: Module, opts: ResetSignInOptions = {}): number {
  const o = options<ResetSignInOptions>('options', opts, ['beta', 'zeroMomentum', 'optimizer']);
  const zeroMomentum = o.zeroMomentum ?? false;
  if (typeof zeroMomentum !== 'boolean') throw new InvalidArgumentError('zeroMomentum', 'boolean', zeroMomentum);
  const optimizer = signinOptimizer('optimizer', o.optimizer);
  if (zeroMomentum && !optimizer) {
    throw new InvalidArgumentError('optimizer', 'the optimizer that trains the Sign-In factors (zeroMomentum needs its buffers)', o.optimizer);
  }
  const layers = signinLayers(model);
  const betas = layers.map(([n, l]) => (o.beta === undefined ? signinFactors(l)!.beta : betaOf(o.beta, n, l)));
  layers.forEach(([, layer], i) => {
    const s = signinFactors(layer)!;
    const bufs = optimizer?.entryBuffers(layer.weight);
    signinReset({
      theta: layer.weight, m: s.m, w: s.w, mask: layer.mask, beta: betas[i], zeroMomentum, bufM: bufs?.m, bufW: bufs?.w,
    });
    noteSignInBeta(layer, betas[i]);
  });
  return layers.length;
}
