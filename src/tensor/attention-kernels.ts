/**
 * The fused attention operators, which differ between libtorch versions and so are not in the
 * generated op table (scripts/gen-aten.ts reads the installed registry only): libtorch ≥ 2.0 has
 * `aten::scaled_dot_product_attention`, 1.13 its differentiable precursor
 * `aten::_scaled_dot_product_attention`. Which one exists is asked of the dispatcher once.
 */
import { call, schema } from './dispatch';
import type { Tensor } from './tensor';

export type FusedAttentionKernel = 'sdpa' | 'sdpa_1_13';

let available: FusedAttentionKernel | null | undefined;

function has(op: string): boolean {
  try {
    schema(op);
    return true;
  } catch {
    return false;
  }
}

/** The fused kernel this libtorch has, or null when it has none. */
export function fusedAttentionKernel(): FusedAttentionKernel | null {
  if (available === undefined) {
    available = has('aten::scaled_dot_product_attention') ? 'sdpa' : has('aten::_scaled_dot_product_attention') ? 'sdpa_1_13' : null;
  }
  return available;
}

/** softmax(q kᵀ/√d) v through a fused kernel, no mask, not causal; dropout p on the weights. */
export function fusedAttention(kernel: FusedAttentionKernel, q: Tensor, k: Tensor, v: Tensor, p: number): Tensor {
  if (kernel === 'sdpa') return call('aten::scaled_dot_product_attention', [q, k, v, undefined, p, false]);
  return call<Tensor[]>('aten::_scaled_dot_product_attention', [q, k, v, undefined, p, false, false])[0];
}
