/**
 * Thresholding: turning scores into masks with an exact number of kept weights.
 *
 * `topKMask` keeps exactly k entries: the k largest scores, ties broken deterministically by
 * position (the lower flat index wins; in global ranking, layers are concatenated in model
 * order, so an earlier layer wins a tie). Scores that are NaN count as -Infinity. Entries that are
 * not eligible (already pruned) are never kept. This is the same selection as a stable
 * descending sort, done in O(n) with kthvalue + cumsum.
 *
 * `apportion` turns real per-layer quotas into integer counts that sum to an exact total
 * (largest remainders), so a layerwise prune also hits the global target to within one weight.
 */
import { InvalidArgumentError } from '../errors';
import { tensorArg } from '../nn/functional';
import * as aten from '../tensor/aten';
import { num } from '../validate';
import { onesLike, zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';

/**
 * Integer counts c_l with Σ c_l = total, 0 ≤ c_l ≤ caps[l], each as close to quotas[l] as the caps
 * allow: floors first, then one more for the largest fractional parts (ties: lower index first);
 * any shortfall left by the caps goes to layers with room, largest quota first.
 */
export function apportion(quotas: readonly number[], caps: readonly number[], total: number): number[] {
  if (quotas.length !== caps.length) throw new InvalidArgumentError('caps', `array of length ${quotas.length}`, caps);
  if (!Number.isInteger(total) || total < 0) throw new InvalidArgumentError('total', 'non-negative integer', total);
  const capSum = caps.reduce((a, b) => a + b, 0);
  if (total > capSum) throw new InvalidArgumentError('total', `integer <= ${capSum} (the sum of the caps)`, total);
  const q = quotas.map((v, l) => Math.min(Math.max(v, 0), caps[l]));
  const counts = q.map((v) => Math.floor(v + 1e-9));
  const frac = q.map((v, l) => v - counts[l]);
  let rest = total - counts.reduce((a, b) => a + b, 0);
  const byFracDesc = q.map((_, l) => l).sort((a, b) => frac[b] - frac[a] || a - b);
  const byQuotaDesc = q.map((_, l) => l).sort((a, b) => q[b] - q[a] || a - b);
  // One more for the largest fractional parts.
  for (const l of byFracDesc) {
    if (rest <= 0) break;
    if (frac[l] > 0 && counts[l] < caps[l]) { counts[l]++; rest--; }
  }
  // A shortfall the caps caused: layers with room, largest quota first.
  for (const l of byQuotaDesc) {
    if (rest <= 0) break;
    const add = Math.min(rest, caps[l] - counts[l]);
    counts[l] += add;
    rest -= add;
  }
  // Quotas summing above the total (float noise): take back from the smallest fractional parts.
  for (const l of byFracDesc.slice().reverse()) {
    if (rest >= 0) break;
    const take = Math.min(-rest, counts[l]);
    counts[l] -= take;
    rest += take;
  }
  return counts;
}

/** The kept-weight count for a density of n weights (round half up): exact to within one weight. */
export function keptCount(density: number, n: number): number {
  num('density', density);
  num('n', n, 0);
  return Math.min(n, Math.max(0, Math.round(density * n)));
}

/**
 * A 0/1 mask (dtype of `like`, default the scores' float dtype) keeping exactly k entries of a flat
 * score vector: the k largest eligible scores, ties to the lower index.
 *
 * @param scores 1-D scores (any float dtype)
 * @param k how many to keep; must be <= the number of eligible entries
 * @param eligible optional 1-D 0/1 (or bool) tensor; 0 entries are never kept
 */
export function topKMask(scores: Tensor, k: number, eligible?: Tensor): Tensor {
  const n = tensorArg('scores', scores).numel;
  if (eligible !== undefined) tensorArg('eligible', eligible);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new InvalidArgumentError('k', `integer in [0, ${n}]`, k);
  return tidy(() => {
    const flat = scores.reshape([-1]);
    const isNan = aten.isnan(flat);
    let s = isNan.any().item() ? flat.maskedFill(isNan, -Infinity) : flat;
    let elig: Tensor | undefined;
    if (eligible) {
      elig = eligible.reshape([-1]).ne(0);
      const m = elig.sum().item();
      if (k > m) throw new InvalidArgumentError('k', `integer in [0, ${m}] (the eligible entries)`, k);
    }
    if (k === 0) return zerosLike(flat).reshape(scores.shape);
    if (elig) {
      // Ineligible entries sort after every eligible one, -Infinity included: rank eligible first.
      const idx = aten.nonzero(elig).reshape([-1]);
      const sub = s.indexSelect(0, idx);
      const subKeep = selectTop(sub, k);
      const out = zerosLike(flat);
      return aten.index_put(out, [idx], subKeep, false).reshape(scores.shape);
    }
    s = selectTop(s, k);
    return s.reshape(scores.shape);
  });
}

/** 0/1 float vector (scores' dtype) keeping the k largest entries of s, ties to the lower index. */
function selectTop(s: Tensor, k: number): Tensor {
  const n = s.numel;
  if (k === n) return onesLike(s);
  // The k-th largest = the (n-k+1)-th smallest.
  const tau = s.kthvalue(n - k + 1).values;
  const gt = s.gt(tau);
  const eq = s.eq(tau);
  const need = k - gt.sum().item();
  const eqRank = eq.to('int64').cumsum(0);
  const keep = gt.logicalOr(eq.logicalAnd(eqRank.le(need)));
  return keep.to(s.dtype === 'float64' || s.dtype === 'float32' ? s.dtype : 'float32');
}
