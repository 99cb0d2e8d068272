/**
 * Magnitude and score selection shared by the methods: exact top-k masks over one layer or over
 * all layers at once (src/pruning/threshold.ts's topKMask: ties go to the lower flat index, an
 * earlier layer winning a global tie). Under Sign-In, magnitude is |θ| = |m ⊙ w|: the layer's
 * `weight` holds exactly m·w between steps (src/nn/masked.ts), so |weight| is that product.
 */
import { InvalidArgumentError } from '../errors';
import { isMaskedLayer, type MaskedLayer } from '../nn/masked';
import { keptCount, topKMask } from '../pruning/threshold';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import { cat } from '../tensor/ops';
import { Tensor } from '../tensor/tensor';
import { isInt, list, oneOf } from '../validate';

export const SCOPES = ['global', 'layerwise'] as const;
export type Scope = (typeof SCOPES)[number];

function tensorList(name: string, v: unknown, length?: number): Tensor[] {
  const expected = length === undefined ? 'array of Tensors' : `array of ${length} Tensors`;
  const out = list<Tensor>(name, v, expected, (x) => x instanceof Tensor);
  if (length !== undefined && out.length !== length) throw new InvalidArgumentError(name, expected, v);
  return out;
}

/** |θ| of a masked layer (new tensor, float). */
export function magnitude(layer: MaskedLayer): Tensor {
  if (!isMaskedLayer(layer)) throw new InvalidArgumentError('layer', 'masked layer (MaskedConv2d or MaskedLinear)', layer);
  return noGrad(() => layer.weight.detach().abs());
}

/**
 * One 0/1 mask per layer keeping exactly `counts[l]` entries of layer l: the highest scores among
 * the eligible entries (all when `eligible` is undefined).
 */
export function layerwiseTopK(scores: readonly Tensor[], counts: readonly number[], eligible?: readonly Tensor[]): Tensor[] {
  const s = tensorList('scores', scores);
  const c = list<number>('counts', counts, `array of ${s.length} non-negative integers`, (x) => isInt(x) && x >= 0);
  if (c.length !== s.length) throw new InvalidArgumentError('counts', `array of ${s.length} non-negative integers`, counts);
  const e = eligible === undefined ? undefined : tensorList('eligible', eligible, s.length);
  return s.map((x, l) => topKMask(x, c[l], e?.[l]));
}

/** Masks keeping exactly k entries over all layers together (highest scores among the eligible). */
export function globalTopK(scores: readonly Tensor[], k: number, eligible?: readonly Tensor[]): Tensor[] {
  tensorList('scores', scores);
  if (eligible !== undefined) tensorList('eligible', eligible, scores.length);
  return tidy(() => {
    const flat = cat(scores.map((s) => s.reshape([-1]).to('float64')));
    const elig = eligible ? cat(eligible.map((e) => e.reshape([-1]).ne(0))) : undefined;
    const keep = topKMask(flat, k, elig);
    const out: Tensor[] = [];
    let at = 0;
    for (const s of scores) {
      out.push(keep.narrow(0, at, s.numel).reshape(s.shape).to(s.dtype));
      at += s.numel;
    }
    return out;
  });
}

/**
 * Magnitude masks for a target density (kept fraction), among the eligible entries: global (one
 * threshold over every layer) or layerwise (each layer at the same density). A density asking for
 * more than the eligible entries keeps all of them.
 */
export function magnitudeMasks(layers: readonly MaskedLayer[], density: number, scope: Scope, eligible?: readonly Tensor[]): Tensor[] {
  list<MaskedLayer>('layers', layers, 'array of masked layers (MaskedConv2d or MaskedLinear)', isMaskedLayer);
  if (typeof density !== 'number' || !(density >= 0 && density <= 1)) throw new InvalidArgumentError('density', 'number in [0, 1]', density);
  oneOf('scope', scope, SCOPES);
  if (eligible !== undefined) tensorList('eligible', eligible, layers.length);
  return tidy(() => {
    const scores = layers.map(magnitude);
    const caps = layers.map((l, i) => (eligible ? tidy(() => eligible[i].ne(0).sum().item()) : l.weight.numel));
    if (scope === 'global') {
      const total = layers.reduce((a, l) => a + l.weight.numel, 0);
      const k = Math.min(keptCount(density, total), caps.reduce((a, b) => a + b, 0));
      return globalTopK(scores, k, eligible);
    }
    return layerwiseTopK(scores, layers.map((l, i) => Math.min(keptCount(density, l.weight.numel), caps[i])), eligible);
  });
}
