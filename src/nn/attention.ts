/**
 * Multi-head self-attention with timm's layout and names (`qkv`, `proj`), its linears masked so
 * that pruning and Sign-In reach them like any other layer.
 *
 * Which attention kernel: libtorch ≥ 2.0 has `scaled_dot_product_attention` (flash /
 * memory-efficient kernels on CUDA, differentiable); libtorch 1.13 has its precursor
 * `_scaled_dot_product_attention`, a differentiable composite (softmax(q kᵀ/√d) v) that on
 * the CPU runs the same ops as the plain path. `_native_multi_head_attention` (1.13's
 * "fast path") is not used: it has no autograd formula, so it could only serve inference. The
 * first op the dispatcher knows is used (src/tensor/attention-kernels.ts); the plain composition
 * is the fallback.
 */
import { InvalidArgumentError } from '../errors';
import { fusedAttention, fusedAttentionKernel } from '../tensor/attention-kernels';
import type { Tensor } from '../tensor/tensor';
import { bool, int, keysOf, num, oneOf, options } from '../validate';
import { dropout, invalidTensorArg, softmax, tensorArg } from './functional';
import { MaskedLinear } from './masked';
import { Module } from './module';

export type AttentionKernel = 'sdpa' | 'sdpa_1_13' | 'plain';
const KERNELS: readonly (AttentionKernel | 'auto')[] = ['auto', 'sdpa', 'sdpa_1_13', 'plain'];

/** The kernel 'auto' uses with this libtorch: 'sdpa' (≥ 2.0), 'sdpa_1_13' (1.13) or 'plain'. */
export function attentionKernel(): AttentionKernel {
  return fusedAttentionKernel() ?? 'plain';
}

export interface AttentionOptions {
  /** Dropout on the attention weights (only while training); default 0. */
  dropoutP?: number;
  training?: boolean;
  /** Default 'auto' (attentionKernel()). */
  kernel?: AttentionKernel | 'auto';
}

/** softmax(q kᵀ / √d) v over q, k, v [..., L, d] (no mask). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  for (const [name, t] of [['query', q], ['key', k], ['value', v]] as const) {
    if (tensorArg(name, t).ndim < 2) throw invalidTensorArg(name, 'a Tensor [..., L, d]', t);
  }
  const o = options<AttentionOptions>('options', opts, keysOf<AttentionOptions>({ dropoutP: true, training: true, kernel: true }));
  const training = bool('training', o.training ?? true);
  const p = training ? num('dropoutP', o.dropoutP ?? 0, 0, 1) : 0;
  const wanted = oneOf('kernel', o.kernel ?? 'auto', KERNELS);
  const kernel = wanted === 'auto' ? attentionKernel() : wanted;
  if (kernel !== 'plain') return fusedAttention(kernel, q, k, v, p);
  const d = q.shape[q.ndim - 1];
  const weights = softmax(q.mul(1 / Math.sqrt(d)).matmul(k.transpose(-2, -1)), -1);
  return dropout(weights, p, p > 0).matmul(v);
}

export interface MultiHeadAttentionOptions {
  numHeads?: number;
  /** Bias on the qkv projection; default true (timm's ViT/DeiT). */
  qkvBias?: boolean;
  attnDrop?: number;
  projDrop?: number;
  kernel?: AttentionKernel | 'auto';
}

/** timm's `Attention`: x [B, N, C] → qkv → heads → attention → proj. */
export class MultiHeadAttention extends Module {
  readonly dim: number;
  readonly numHeads: number;
  readonly attnDrop: number;
  readonly projDrop: number;
  readonly kernel: AttentionKernel | 'auto';
  readonly qkv: MaskedLinear;
  readonly proj: MaskedLinear;

  constructor(dim: number, opts: MultiHeadAttentionOptions = {}) {
    super();
    const o = options<MultiHeadAttentionOptions>('options', opts, keysOf<MultiHeadAttentionOptions>({
      numHeads: true, qkvBias: true, attnDrop: true, projDrop: true, kernel: true,
    }));
    this.dim = int('dim', dim, 1);
    this.numHeads = int('numHeads', o.numHeads ?? 8, 1);
    if (dim % this.numHeads !== 0) throw new InvalidArgumentError('numHeads', `a divisor of dim (${dim})`, this.numHeads);
    this.attnDrop = num('attnDrop', o.attnDrop ?? 0, 0, 1);
    this.projDrop = num('projDrop', o.projDrop ?? 0, 0, 1);
    this.kernel = oneOf('kernel', o.kernel ?? 'auto', KERNELS);
    this.qkv = this.registerModule('qkv', new MaskedLinear(dim, dim * 3, { bias: bool('qkvBias', o.qkvBias ?? true) }));
    this.proj = this.registerModule('proj', new MaskedLinear(dim, dim));
  }

  forward(x: Tensor): Tensor {
    tensorArg('input', x);
    if (x.ndim !== 3 || x.shape[2] !== this.dim) throw invalidTensorArg('input', `a Tensor [B, N, ${this.dim}]`, x);
    const [b, n, c] = x.shape;
    const h = this.numHeads;
    const qkv = this.qkv.forward(x).reshape([b, n, 3, h, c / h]).permute([2, 0, 3, 1, 4]);
    const out = scaledDotProductAttention(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2), {
      dropoutP: this.attnDrop, training: this.training, kernel: this.kernel,
    });
    const y = this.proj.forward(out.transpose(1, 2).reshape([b, n, c]));
    return dropout(y, this.projDrop, this.training && this.projDrop > 0);
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}, numHeads=${this.numHeads}`;
  }
}
