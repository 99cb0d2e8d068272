/**
 * Tensor: the JS handle users hold. Methods mirror torch.Tensor (camelCase); every method returns
 * a new Tensor owned by the current tidy() scope, except the in-place ones (suffix `_`), which
 * return `this`.
 */
import { InvalidArgumentError, TensorDisposedError, fromNative } from '../errors';
import { native, type NativeTensor } from '../native';
import { isInt } from '../validate';
import { call, callInPlace } from './dispatch';
import { track } from './engine';
import type { Generator } from './runtime';

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

type Operand = Tensor | number;

function checkDim(name: string, dim: unknown): void {
  if (!isInt(dim)) throw new InvalidArgumentError(name, 'integer', dim);
}

/** The native handle of a Tensor argument, or an error naming the argument. */
export function tensorHandle(name: string, v: unknown): NativeTensor {
  if (!(v instanceof Tensor)) throw new InvalidArgumentError(name, 'Tensor', v);
  return v.handle;
}

const DEVICE_PATTERN = /^(cpu|cuda(:\d+)?)$/;

const disposeSymbol: symbol = (Symbol as unknown as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

export class Tensor {
  private h: NativeTensor | undefined;
  private cachedShape: number[] | undefined;
  /** Set by keep(): the tensor survives the tidy() scope that created it. */
  kept = false;

  /** Wraps a native handle (internal: use the factories in src/tensor/creation.ts). */
  constructor(handle: NativeTensor) {
    this.h = handle;
    track(this);
  }

  get handle(): NativeTensor {
    if (!this.h) throw new TensorDisposedError();
    return this.h;
  }

  get isDisposed(): boolean {
    return this.h === undefined;
  }

  /** Releases the native tensor now. Idempotent. Autograd still holds what backward needs. */
  dispose(): void {
    if (this.h) {
      this.h.dispose();
      this.h = undefined;
    }
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  private guard<T>(fn: (h: NativeTensor) => T): T {
    try {
      return fn(this.handle);
    } catch (e) {
      throw fromNative(e);
    }
  }

  get shape(): number[] {
    this.cachedShape ??= this.guard((h) => h.shape());
    return this.cachedShape.slice();
  }

  get ndim(): number {
    return this.shape.length;
  }

  get dtype(): DType {
    return this.guard((h) => h.dtype()) as DType;
  }

  get device(): string {
    return this.guard((h) => h.device());
  }

  get numel(): number {
    return this.guard((h) => h.numel());
  }

  size(dim: number): number {
    const s = this.shape;
    checkDim('dim', dim);
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new InvalidArgumentError('dim', `integer in [${-s.length}, ${s.length - 1}]`, dim);
    return s[d];
  }

  get requiresGrad(): boolean {
    return this.guard((h) => h.requiresGrad());
  }

  /** Sets requires_grad in place (leaf tensors only, as in PyTorch); returns this. */
  requiresGrad_(value = true): this {
    this.guard((h) => h.setRequiresGrad(value));
    return this;
  }

  get isLeaf(): boolean {
    return this.guard((h) => h.isLeaf());
  }

  /** The accumulated gradient as a new handle (dispose it or let tidy do it), or undefined. */
  get grad(): Tensor | undefined {
    const g = this.guard((h) => h.grad());
    return g ? new Tensor(g) : undefined;
  }

  /** Sets the gradient: a Tensor of this tensor's shape, dtype and device, or undefined. */
  set grad(g: Tensor | undefined) {
    const gh = g === undefined || g === null ? undefined : tensorHandle('grad', g);
    this.guard((h) => h.setGrad(gh));
  }

  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    const gh = gradient === undefined ? undefined : tensorHandle('gradient', gradient);
    const o = options ?? {};
    try {
      native().backward([this.handle], gh ? [gh] : undefined, o.retainGraph, o.createGraph);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** A copy of the values in a TypedArray (int64 as BigInt64Array, bool as Uint8Array). */
  data(): TypedArray {
    return this.guard((h) => h.toTypedArray());
  }

  /** The values as a flat array of numbers. */
  toArray(): number[] {
    return Array.from(this.data() as ArrayLike<number | bigint>, Number);
  }

  item(): number {
    return Number(this.guard((h) => h.item()));
  }

  /** True when both tensors share storage. */
  isAliasOf(other: Tensor): boolean {
    const oh = tensorHandle('other', other);
    return this.guard((h) => h.sameStorage(oh));
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // Arithmetic (broadcasting, tensor or number operands)
  add(other: Operand, alpha = 1): Tensor {
    return typeof other === 'number' ? call('aten::add.Scalar', [this, other, alpha]) : call('aten::add.Tensor', [this, other, alpha]);
  }
  sub(other: Operand, alpha = 1): Tensor {
    return typeof other === 'number' ? call('aten::sub.Scalar', [this, other, alpha]) : call('aten::sub.Tensor', [this, other, alpha]);
  }
  mul(other: Operand): Tensor {
    return typeof other === 'number' ? call('aten::mul.Scalar', [this, other]) : call('aten::mul.Tensor', [this, other]);
  }
  div(other: Operand): Tensor {
    return typeof other === 'number' ? call('aten::div.Scalar', [this, other]) : call('aten::div.Tensor', [this, other]);
  }
  pow(exponent: Operand): Tensor {
    return typeof exponent === 'number' ? call('aten::pow.Tensor_Scalar', [this, exponent]) : call('aten::pow.Tensor_Tensor', [this, exponent]);
  }
  maximum(other: Tensor): Tensor { return call('aten::maximum', [this, other]); }
  minimum(other: Tensor): Tensor { return call('aten::minimum', [this, other]); }
  neg(): Tensor { return call('aten::neg', [this]); }
  abs(): Tensor { return call('aten::abs', [this]); }
  sign(): Tensor { return call('aten::sign', [this]); }
  sqrt(): Tensor { return call('aten::sqrt', [this]); }
  rsqrt(): Tensor { return call('aten::rsqrt', [this]); }
  square(): Tensor { return call('aten::square', [this]); }
  reciprocal(): Tensor { return call('aten::reciprocal', [this]); }
  exp(): Tensor { return call('aten::exp', [this]); }
  log(): Tensor { return call('aten::log', [this]); }
  sigmoid(): Tensor { return call('aten::sigmoid', [this]); }
  tanh(): Tensor { return call('aten::tanh', [this]); }
  relu(): Tensor { return call('aten::relu', [this]); }
  clamp(min?: number, max?: number): Tensor { return call('aten::clamp', [this, min, max]); }
  matmul(other: Tensor): Tensor { return call('aten::matmul', [this, other]); }
  mm(other: Tensor): Tensor { return call('aten::mm', [this, other]); }
  /** The transpose of a 2-D tensor. */
  t(): Tensor { return call('aten::t', [this]); }

  // Comparisons and logic (bool results)
  eq(other: Operand): Tensor { return call(typeof other === 'number' ? 'aten::eq.Scalar' : 'aten::eq.Tensor', [this, other]); }
  ne(other: Operand): Tensor { return call(typeof other === 'number' ? 'aten::ne.Scalar' : 'aten::ne.Tensor', [this, other]); }
  lt(other: Operand): Tensor { return call(typeof other === 'number' ? 'aten::lt.Scalar' : 'aten::lt.Tensor', [this, other]); }
  le(other: Operand): Tensor { return call(typeof other === 'number' ? 'aten::le.Scalar' : 'aten::le.Tensor', [this, other]); }
  gt(other: Operand): Tensor { return call(typeof other === 'number' ? 'aten::gt.Scalar' : 'aten::gt.Tensor', [this, other]); }
  ge(other: Operand): Tensor { return call(typeof other === 'number' ? 'aten::ge.Scalar' : 'aten::ge.Tensor', [this, other]); }
  logicalAnd(other: Tensor): Tensor { return call('aten::logical_and', [this, other]); }
  logicalOr(other: Tensor): Tensor { return call('aten::logical_or', [this, other]); }
  logicalNot(): Tensor { return call('aten::logical_not', [this]); }
  /** Elementwise: `value` where mask is true, else this. */
  maskedFill(mask: Tensor, value: number): Tensor { return call('aten::masked_fill.Scalar', [this, mask, value]); }
  isfinite(): Tensor { return call('aten::isfinite', [this]); }

  // Reductions. dim may be a number or a list; keepdim defaults to false.
  sum(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? call('aten::sum', [this]) : call('aten::sum.dim_IntList', [this, [dim].flat(), keepdim]);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? call('aten::mean', [this]) : call('aten::mean.dim', [this, [dim].flat(), keepdim]);
  }
  /** Unbiased (Bessel-corrected) variance, as torch.var's default. */
  var(dim?: number | number[], keepdim = false, unbiased = true): Tensor {
    return dim === undefined ? call('aten::var', [this, unbiased]) : call('aten::var.dim', [this, [dim].flat(), unbiased, keepdim]);
  }
  std(dim?: number | number[], keepdim = false, unbiased = true): Tensor {
    return dim === undefined ? call('aten::std', [this, unbiased]) : call('aten::std.dim', [this, [dim].flat(), unbiased, keepdim]);
  }
  prod(): Tensor { return call('aten::prod', [this]); }
  /** The maximum over all elements. */
  max(): Tensor { return call('aten::max', [this]); }
  min(): Tensor { return call('aten::min', [this]); }
  maxDim(dim: number, keepdim = false): ValuesIndices {
    const [values, indices] = call<Tensor[]>('aten::max.dim', [this, dim, keepdim]);
    return { values, indices };
  }
  minDim(dim: number, keepdim = false): ValuesIndices {
    const [values, indices] = call<Tensor[]>('aten::min.dim', [this, dim, keepdim]);
    return { values, indices };
  }
  argmax(dim?: number, keepdim = false): Tensor { return call('aten::argmax', [this, dim, keepdim]); }
  argmin(dim?: number, keepdim = false): Tensor { return call('aten::argmin', [this, dim, keepdim]); }
  /** The p-norm over all elements or over dims. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? call('aten::norm.Scalar', [this, p]) : call('aten::norm.ScalarOpt_dim', [this, p, [dim].flat(), keepdim]);
  }
  topk(k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
    const [values, indices] = call<Tensor[]>('aten::topk', [this, k, dim, largest, sorted]);
    return { values, indices };
  }
  /** The k-th smallest element (1-based k, as torch.kthvalue). */
  kthvalue(k: number, dim = -1, keepdim = false): ValuesIndices {
    const [values, indices] = call<Tensor[]>('aten::kthvalue', [this, k, dim, keepdim]);
    return { values, indices };
  }
  sort(dim = -1, descending = false): ValuesIndices {
    const [values, indices] = call<Tensor[]>('aten::sort.stable', [this], { stable: true, dim, descending });
    return { values, indices };
  }
  cumsum(dim: number): Tensor { return call('aten::cumsum', [this, dim]); }
  countNonzero(dim?: number): Tensor { return call('aten::count_nonzero', [this, dim]); }
  all(): Tensor { return call('aten::all', [this]); }
  any(): Tensor { return call('aten::any', [this]); }

  // Shape
  reshape(shape: number[]): Tensor { return call('aten::reshape', [this, shape]); }
  view(shape: number[]): Tensor { return call('aten::view', [this, shape]); }
  flatten(startDim = 0, endDim = -1): Tensor { return call('aten::flatten.using_ints', [this, startDim, endDim]); }
  permute(dims: number[]): Tensor { return call('aten::permute', [this, dims]); }
  transpose(dim0: number, dim1: number): Tensor { return call('aten::transpose.int', [this, dim0, dim1]); }
  squeeze(dim?: number): Tensor { return dim === undefined ? call('aten::squeeze', [this]) : call('aten::squeeze.dim', [this, dim]); }
  unsqueeze(dim: number): Tensor { return call('aten::unsqueeze', [this, dim]); }
  expand(shape: number[]): Tensor { return call('aten::expand', [this, shape]); }
  expandAs(other: Tensor): Tensor { return call('aten::expand_as', [this, other]); }
  repeat(repeats: number[]): Tensor { return call('aten::repeat', [this, repeats]); }
  flip(dims: number[]): Tensor { return call('aten::flip', [this, dims]); }
  contiguous(): Tensor { return call('aten::contiguous', [this]); }
  clone(): Tensor { return call('aten::clone', [this]); }
  /** Elements start..end (exclusive) with step along dim; a view. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return call('aten::slice.Tensor', [this, dim, start, end, step]); }
  narrow(dim: number, start: number, length: number): Tensor { return call('aten::narrow', [this, dim, start, length]); }
  select(dim: number, index: number): Tensor { return call('aten::select.int', [this, dim, index]); }
  indexSelect(dim: number, index: Tensor): Tensor { return call('aten::index_select', [this, dim, index]); }
  /** Advanced indexing: one index tensor (or undefined for ':') per leading dim. */
  index(indices: (Tensor | undefined)[]): Tensor { return call('aten::index.Tensor', [this, indices]); }
  gather(dim: number, index: Tensor): Tensor { return call('aten::gather', [this, dim, index]); }
  chunk(chunks: number, dim = 0): Tensor[] { return call<Tensor[]>('aten::chunk', [this, chunks, dim]); }
  split(size: number, dim = 0): Tensor[] { return call<Tensor[]>('aten::split.Tensor', [this, size, dim]); }

  // Conversion
  /** Converts dtype and/or device (a copy when either changes). */
  to(target: DType | Device | { dtype?: DType; device?: string }): Tensor {
    const opts = typeof target === 'string' ? ((DTYPES as readonly string[]).includes(target) ? { dtype: target as DType } : { device: target }) : target;
    if (typeof opts !== 'object' || opts === null) {
      throw new InvalidArgumentError('target', `a dtype (${DTYPES.join(', ')}), a device ('cpu', 'cuda', 'cuda:N') or { dtype, device }`, target);
    }
    if (opts.dtype !== undefined && !(DTYPES as readonly unknown[]).includes(opts.dtype)) {
      throw new InvalidArgumentError('dtype', `one of ${DTYPES.join(', ')}`, opts.dtype);
    }
    if (opts.device !== undefined && (typeof opts.device !== 'string' || !DEVICE_PATTERN.test(opts.device))) {
      throw new InvalidArgumentError(typeof target === 'string' ? 'target' : 'device',
        typeof target === 'string' ? `a dtype (${DTYPES.join(', ')}) or a device ('cpu', 'cuda', 'cuda:N')` : "a device ('cpu', 'cuda', 'cuda:N')", opts.device);
    }
    return call('aten::to.dtype_layout', [this], { dtype: opts.dtype, device: opts.device });
  }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }
  bool(): Tensor { return this.to('bool'); }
  cpu(): Tensor { return this.to('cpu'); }
  /** A tensor that shares storage but is cut from the autograd graph. */
  detach(): Tensor { return call('aten::detach', [this]); }

  // In place (return this)
  add_(other: Operand, alpha = 1): this {
    if (typeof other === 'number') callInPlace('aten::add_.Scalar', [this, other, alpha]);
    else callInPlace('aten::add_.Tensor', [this, other, alpha]);
    return this;
  }
  sub_(other: Operand, alpha = 1): this {
    if (typeof other === 'number') callInPlace('aten::sub_.Scalar', [this, other, alpha]);
    else callInPlace('aten::sub_.Tensor', [this, other, alpha]);
    return this;
  }
  mul_(other: Operand): this {
    callInPlace(typeof other === 'number' ? 'aten::mul_.Scalar' : 'aten::mul_.Tensor', [this, other]);
    return this;
  }
  div_(other: Operand): this {
    callInPlace(typeof other === 'number' ? 'aten::div_.Scalar' : 'aten::div_.Tensor', [this, other]);
    return this;
  }
  clamp_(min?: number, max?: number): this { callInPlace('aten::clamp_', [this, min, max]); return this; }
  copy_(src: Tensor): this { callInPlace('aten::copy_', [this, src]); return this; }
  zero_(): this { callInPlace('aten::zero_', [this]); return this; }
  fill_(value: number): this { callInPlace('aten::fill_.Scalar', [this, value]); return this; }
  maskedFill_(mask: Tensor, value: number): this { callInPlace('aten::masked_fill_.Scalar', [this, mask, value]); return this; }
  uniform_(from = 0, to = 1, generator?: Generator): this { callInPlace('aten::uniform_', [this, from, to, generator]); return this; }
  normal_(mean = 0, std = 1, generator?: Generator): this { callInPlace('aten::normal_', [this, mean, std, generator]); return this; }
}
