/**
 * "Signs are sufficient" (signin-method.md): a start built from another run's mask and the signs
 * (or the magnitudes) of its weights, with the other half taken from the model's own fresh
 * initialization. 'signs': θ = sign(θ_src) · |θ_init|; 'magnitudes': θ = |θ_src| · sign(θ_init);
 * 'both' copies θ_src (the learned ticket, a control); 'mask' keeps θ_init whole (the paper's
 * "random init + learned mask" control). The mask is the source's `weight_mask` in every kind.
 * A source entry with θ_src = 0 inside its mask gives θ = 0 under 'signs' and 'both'.
 *
 * Call it on the freshly initialized model. A Sign-In layer is re-split in place with its β, so
 * the call may come before or after applySignIn (and then before the optimizer is created).
 */
import { InvalidArgumentError } from '../errors';
import { signinFactors, attachSignIn } from '../signin/parametrization';
import { MASK_BUFFER, maskedLayers } from '../nn/masked';
import type { Module, StateDict } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { oneOf } from '../validate';
import { TRANSFER_KINDS, type TransferKind } from './transfer-kinds';

export { TRANSFER_KINDS, type TransferKind } from './transfer-kinds';

function sourceTensor(source: StateDict, key: string, like: Tensor): Tensor {
  const t = source.get(key);
  if (!t) throw new InvalidArgumentError(`source['${key}']`, 'a Tensor (the source state dict lacks this masked layer)', t);
  if (t.shape.join(',') !== like.shape.join(',')) {
    throw new InvalidArgumentError(`source['${key}']`, `a Tensor of shape [${like.shape.join(', ')}]`, `a Tensor of shape [${t.shape.join(', ')}]`);
  }
  return t;
}

/** Writes the transferred start into every masked layer of `model`; returns the number of layers. */
export function signTransfer(model: Module, source: StateDict, kind: TransferKind = 'signs'): number {
  if (!(source instanceof Map)) throw new InvalidArgumentError('source', 'a state dict (Map of name to Tensor)', source);
  oneOf('kind', kind, TRANSFER_KINDS);
  const layers = maskedLayers(model);
  const planned = layers.map(([name, l]) => {
    const p = name ? `${name}.` : '';
    return { l, theta: sourceTensor(source, `${p}weight`, l.weight), mask: sourceTensor(source, `${p}${MASK_BUFFER}`, l.mask) };
  });
  for (const { l, theta, mask } of planned) {
    noGrad(() => tidy(() => {
      // A checkpoint's tensors are on the CPU; the model may already be on its device.
      const src = theta.to({ dtype: l.weight.dtype, device: l.weight.device });
      const m = mask.to({ dtype: l.mask.dtype, device: l.mask.device });
      const init = l.weight.detach().clone();
      const next = kind === 'signs' ? src.sign().mul(init.abs()) : kind === 'magnitudes' ? src.abs().mul(init.sign()) : kind === 'both' ? src : init;
      l.setMask(m);
      l.weight.copy_(next);
      const s = signinFactors(l);
      if (s) attachSignIn(l, s.beta);
      else l.setMask(m);
    }));
  }
  return planned.length;
}
