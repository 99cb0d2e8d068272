/**
 * The one way every method in src/sparsify changes a mask (docs/sparsify.md, "At each mask
 * change"). For each layer it writes the new 0/1 mask and restores the invariants the fused SGD
 * relies on, so that the next step starts from a state a fresh prune would have produced:
 *
 * - dense layer: θ = 0 outside the new mask (dropped weights are zeroed) and at every grown entry
 *   (a regrown or re-densified weight starts from θ = 0); the gradient (when present) is zeroed
 *   outside the new mask; the momentum buffer is zeroed at every changed entry.
 * - Sign-In layer: changed entries get the split of θ = 0 with the layer's β, m = √β and w = 0,
 *   so θ = m·w = 0 there; kept entries keep their m and w (their learned split); both momentum
 *   buffers are zeroed at every changed entry.
 *
 * Entries whose mask does not change are not touched, so a layer without changes keeps θ, m, w
 * and momentum bit for bit.
 */
import { InvalidArgumentError, UnknownNameError } from '../errors';
import { signinFactors } from '../signin/parametrization';
import { invalidTensorArg } from '../nn/functional';
import { maskedLayers, type MaskedLayer } from '../nn/masked';
import { moduleArg, type Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import { Tensor } from '../tensor/tensor';

/**
 * The optimizer state a mask change must clean (structurally the toolkit's SGD): the momentum
 * buffer of a dense parameter and the buffers of a Sign-In pair.
 */
export interface MomentumOwner {
  momentumBuffer?(param: Tensor): Tensor | undefined;
  entryBuffers?(theta: Tensor): Readonly<Record<string, Tensor>> | undefined;
}

/** What changed in one layer. */
export interface LayerMaskChange {
  /** Entries that went from 0 to 1. */
  grown: number;
  /** Entries that went from 1 to 0. */
  dropped: number;
  /** Entries kept after the change. */
  kept: number;
  numel: number;
}

export interface MaskChange {
  /** By dotted module name of the masked layer. */
  perLayer: Record<string, LayerMaskChange>;
  grown: number;
  dropped: number;
}

/** The masked layers of a model by dotted module name. */
export function layersByName(model: Module): Map<string, MaskedLayer> {
  return new Map(maskedLayers(model));
}

function checkNewMask(name: string, layer: MaskedLayer, mask: unknown): Tensor {
  const expected = `a 0/1 Tensor of the weight's shape [${layer.weight.shape.join(', ')}]`;
  if (!(mask instanceof Tensor) || mask.isDisposed || mask.shape.join(',') !== layer.weight.shape.join(',')) {
    if (mask instanceof Tensor && !mask.isDisposed) throw invalidTensorArg(`masks['${name}']`, expected, mask);
    throw new InvalidArgumentError(`masks['${name}']`, expected, mask);
  }
  if (!tidy(() => mask.eq(0).logicalOr(mask.eq(1)).all().item() === 1)) {
    throw invalidTensorArg(`masks['${name}']`, expected, 'a Tensor with other values');
  }
  return mask;
}

/**
 * Writes new masks into the named layers (layers not in `masks` are left alone) and restores the
 * invariants above. Masks are validated (names and shapes) before any layer is written.
 */
export function changeMasks(model: Module, masks: ReadonlyMap<string, Tensor>, optimizer?: MomentumOwner): MaskChange {
  const byName = layersByName(model);
  if (!(masks instanceof Map)) throw new InvalidArgumentError('masks', 'Map from masked-layer name to mask Tensor', masks);
  const work: [string, MaskedLayer, Tensor][] = [];
  for (const [name, mask] of masks) {
    const layer = byName.get(name);
    if (!layer) throw new UnknownNameError('masked layer', name, [...byName.keys()]);
    work.push([name, layer, checkNewMask(name, layer, mask)]);
  }
  const out: MaskChange = { perLayer: {}, grown: 0, dropped: 0 };
  for (const [name, layer, mask] of work) {
    const counts = noGrad(() => tidy(() => {
      const before = layer.mask.ne(0);
      const after = mask.ne(0);
      const grown = after.logicalAnd(before.logicalNot());
      const dropped = before.logicalAnd(after.logicalNot());
      const changed = grown.logicalOr(dropped);
      const g = grown.sum().item();
      const d = dropped.sum().item();
      const kept = after.sum().item();
      layer.setMask(mask);
      const s = signinFactors(layer);
      if (s) {
        s.m.maskedFill_(changed, Math.sqrt(s.beta));
        s.w.maskedFill_(changed, 0);
        layer.weight.copy_(s.m.mul(s.w));
        const bufs = optimizer?.entryBuffers?.(layer.weight);
        bufs?.m?.maskedFill_(changed, 0);
        bufs?.w?.maskedFill_(changed, 0);
      } else {
        layer.weight.maskedFill_(changed, 0);
        optimizer?.momentumBuffer?.(layer.weight)?.maskedFill_(changed, 0);
      }
      const grad = layer.weight.grad;
      if (grad) grad.maskedFill_(after.logicalNot(), 0);
      return { grown: g, dropped: d, kept };
    }));
    out.perLayer[name] = { ...counts, numel: layer.weight.numel };
    out.grown += counts.grown;
    out.dropped += counts.dropped;
  }
  return out;
}

/**
 * Zeroes the momentum of every parameter of the model (a Sign-In θ: the buffers of m and w), as
 * IST-DASLab/ACDC's SGD.reset_momentum_buffer does after a decompression: BatchNorm and biases
 * included, not only the masked layers.
 */
export function zeroAllMomentum(model: Module, optimizer: MomentumOwner | undefined): void {
  const params = moduleArg('model', model).parameters();
  if (optimizer === undefined) return;
  if (typeof optimizer !== 'object' || optimizer === null) throw new InvalidArgumentError('optimizer', 'optimizer (an object with momentumBuffer or entryBuffers)', optimizer);
  noGrad(() => {
    for (const p of params) {
      const bufs = optimizer.entryBuffers?.(p);
      if (bufs) for (const b of Object.values(bufs)) b.zero_();
      else optimizer.momentumBuffer?.(p)?.zero_();
    }
  });
}
