/**
 * Tensor: the JS handle users hold. Methods mirror torch.Tensor (camelCase); every method returns
 * a new Tensor owned by the current tidy() scope, except the in-place ones (suffix `_`), which
 * return `this`.
 */
import { InvalidArgumentError, TensorDisposedError, ToolkitError, describeAs } from '../errors';
import { native, type NativeTensor } from '../native';
import { bool, intList, isInt, keysOf, knownKeys, options as optionsOf } from '../validate';
import * as aten from './aten';
import { dimIn, dimsIn, distinctDims, intIn } from './dim-args';
import { BINARY_ADD, BINARY_DIV, BINARY_MUL, BINARY_SUB, IN_PLACE, binaryCall, setTensorFactory } from './dispatch';
import { track } from './engine';
import { HandleOwner } from './handle-owner';
import { elementSize } from './size-limit';
import type { Generator } from './runtime';
import { watchSlot } from './slots';

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

/** unique()'s result when the inverse or the counts are asked for; the other is absent. */
export interface UniqueResult {
  values: Tensor;
  inverse?: Tensor;
  counts?: Tensor;
}

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

export const BACKWARD_OPTIONS = keysOf<BackwardOptions>({ retainGraph: true, createGraph: true });

type Operand = Tensor | number;

function checkDim(name: string, dim: unknown): void {
  if (!isInt(dim)) throw new InvalidArgumentError(name, 'integer', dim);
}

// The size along a dim of a tensor that has one (narrow, select and the k of topk are bounded by it).
function sizeAlong(t: Tensor, dim: number): number {
  return t.ndim === 0 ? 1 : t.shape[dim < 0 ? dim + t.ndim : dim];
}

// A method that takes no argument, called with one (x.max(1) as in PyTorch), would otherwise ignore it and reduce everything.
function noArgs(method: string, given: unknown[], instead: string): void {
  if (given.length > 0) throw new InvalidArgumentError(`${method}(dim)`, `no dim (${method}() reduces over all elements; ${instead})`, given[0]);
}

function notScalar(method: string, t: Tensor): void {
  if (t.ndim === 0) throw new InvalidArgumentError('self', `a Tensor of at least 1 dim (${method}() cannot be applied to a 0-d tensor)`, t);
}

function ndimIn(name: string, t: unknown, allowed: number[]): Tensor {
  const x = tensorArg(name, t);
  if (!allowed.includes(x.ndim)) throw new InvalidArgumentError(name, `a ${allowed.join('-D or ')}-D Tensor`, x);
  return x;
}

function diagonalArg(diagonal: unknown): number {
  if (!isInt(diagonal)) throw new InvalidArgumentError('diagonal', 'integer', diagonal);
  return diagonal;
}

// scatter's index must be int64 (libtorch's "Expected dtype int64 for index" names no argument).
function int64Index(index: unknown): Tensor {
  const i = tensorArg('index', index);
  if (i.dtype !== 'int64') throw new InvalidArgumentError('index', 'an int64 Tensor', i);
  return i;
}

function ndimAtLeast2(t: Tensor): Tensor {
  if (t.ndim < 2) throw new InvalidArgumentError('self', 'a Tensor with at least 2 dimensions', t);
  return t;
}

function tensorArg(name: string, v: unknown): Tensor {
  tensorHandle(name, v);
  return v as Tensor;
}

// libtorch 1.13's masked_fill ignores a float or int64 mask without a word (a float 0/1 mask
// leaves every element as it was); later versions refuse it, and so does this.
function boolMask(mask: unknown): Tensor {
  tensorHandle('mask', mask);
  const m = mask as Tensor;
  if (m.dtype !== 'bool') {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected a bool Tensor for mask but received a ${m.dtype} Tensor (a 0/1 mask becomes one with mask.ne(0))`);
  }
  return m;
}

// aten::index with no index tensor trips an internal assert of libtorch 1.13 ("report a bug to PyTorch").
function indexList(indices: unknown): (Tensor | undefined)[] {
  if (!Array.isArray(indices) || !indices.some((t) => t instanceof Tensor)) {
    throw new InvalidArgumentError('indices', "an array with at least one index Tensor (undefined for ':')", indices);
  }
  return indices;
}

/** The native handle of a Tensor argument, or an error naming the argument. */
export function tensorHandle(name: string, v: unknown): NativeTensor {
  if (!(v instanceof Tensor)) throw new InvalidArgumentError(name, 'Tensor', v);
  return v.handle;
}

export const DEVICE_PATTERN = /^(cpu|cuda(:\d+)?)$/;

/**
 * Refuses a CUDA device this process does not see, as PyTorch's "Torch not compiled with CUDA
 * enabled" does: libtorch's own refusal ("Could not run 'aten::empty.memory_format' with arguments
 * from the 'CUDA' backend ...") names neither the device nor the argument.
 */
export function checkDeviceVisible(name: string, device: string): void {
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) return;
  const count = native().cudaDeviceCount();
  if (Number(m[1] ?? 0) < count) return;
  const have = count === 0 ? "'cpu' (no CUDA device is visible to this process)" : `'cpu', 'cuda' or 'cuda:0' to 'cuda:${count - 1}'`;
  throw new InvalidArgumentError(name, `a device this process has: ${have}`, device);
}

// A dim or a list of dims, checked with an index loop (flat() would walk every hole of a sparse array).
const disposeSymbol: symbol = (Symbol as unknown as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

// The slot that the next Tensor takes instead of a handle (see fromSlot): handed over in a
// variable, so that the public constructor cannot be given someone else's slot.
let adopting = -1;

const NO_ALIAS = -1;
const USED_ONCE = -2;

/** An operand that binaryCall takes as it is: a number, or a Tensor. */
function direct(v: unknown): v is number | Tensor {
  return typeof v === 'number' || v instanceof Tensor;
}

export class Tensor extends HandleOwner {
  private h: NativeTensor | undefined;
  /**
   * @internal The addon's slot that holds this tensor, for a result of add, sub, mul or div
   * (native/slots.h); -1 once it has a handle or is disposed.
   */
  slot = -1;
  /** @internal Whether slots.ts's FinalizationRegistry watches this tensor (its slot is parked on release). */
  watched = false;
  // The alias slot of the handle (native/slots.h) once it is an operand of binaryCall a second
  // time; USED_ONCE after the first (most results are an operand once: no alias for them).
  private alias = NO_ALIAS;
  private cachedShape: number[] | undefined;
  /** Set by keep(): the tensor survives the tidy() scope that created it. */
  kept = false;
  /** @internal Why a tensor released on purpose by the library is gone, for the error its later use gets (disposeAs). */
  disposedBy: string | undefined;

  /** Wraps a native handle (internal: use the factories in src/tensor/creation.ts). */
  constructor(handle: NativeTensor) {
    super();
    if (adopting >= 0) {
      this.slot = adopting;
      adopting = -1;
    } else {
      if (!(handle instanceof native().NativeTensor)) {
        throw new InvalidArgumentError('handle', 'a native tensor handle (make Tensors with tensor(), zeros(), fromTypedArray(), ...)', handle);
      }
      this.h = handle;
    }
    if (!track(this)) this.unscoped();
  }

  /** The native handle; a tensor held in a slot moves into one the first time it is asked for. */
  override get handle(): NativeTensor {
    if (this.h) return this.h;
    if (this.slot < 0) throw new TensorDisposedError(this.disposedBy);
    this.h = native().slotToHandle(this.slot, this.watched);
    this.slot = -1;
    return this.h;
  }

  /** @internal binaryCall's number for this tensor: its slot or its handle's alias slot; -1: pass the handle. */
  operandSlot(): number {
    if (this.slot >= 0) return this.slot;
    const a = this.alias;
    if (a >= 0 || this.h === undefined) return a;
    if (a === NO_ALIAS) {
      this.alias = USED_ONCE;
      return -1;
    }
    this.alias = native().slotAlias(this.h);
    return this.alias;
  }

  get isDisposed(): boolean {
    return this.h === undefined && this.slot < 0;
  }

  /** Releases the native tensor now. Idempotent. Autograd still holds what backward needs. */
  dispose(): void {
    if (this.h) {
      this.h.dispose();
      this.h = undefined;
      this.alias = NO_ALIAS;
    } else if (this.slot >= 0) {
      const slot = this.slot;
      this.slot = -1;
      native().slotRelease(slot, this.watched);
    }
  }

  /** @internal Releases the native tensor now, with the reason a later use of it is told. */
  disposeAs(reason: string): void {
    this.disposedBy = reason;
    this.dispose();
  }

  /** @internal Called by tidy() and keep() when no scope will free this tensor: the GC may have to. */
  unscoped(): void {
    if (this.slot >= 0 && !this.watched) watchSlot(this);
  }

  [describeAs](): string {
    return this.isDisposed ? 'a disposed Tensor' : `a Tensor of dtype ${this.dtype} and shape [${this.shape.join(', ')}] on ${this.device}`;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  get shape(): number[] {
    this.cachedShape ??= this.handle.shape();
    return this.cachedShape.slice();
  }

  get ndim(): number {
    return this.shape.length;
  }

  get dtype(): DType {
    return this.handle.dtype() as DType;
  }

  get device(): string {
    return this.handle.device();
  }

  get numel(): number {
    return this.handle.numel();
  }

  /** Bytes per element (PyTorch's element_size()). */
  elementSize(): number {
    return elementSize(this.dtype);
  }

  /** Bytes of the elements this tensor spans (PyTorch's nbytes): numel × element size. */
  get nbytes(): number {
    return this.numel * this.elementSize();
  }

  size(dim: number): number {
    const s = this.shape;
    checkDim('dim', dim);
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new InvalidArgumentError('dim', `integer in [${-s.length}, ${s.length - 1}]`, dim);
    return s[d];
  }

  get requiresGrad(): boolean {
    return this.handle.requiresGrad();
  }

  /** Sets requires_grad in place (leaf tensors only, as in PyTorch); returns this. */
  requiresGrad_(value = true): this {
    this.handle.setRequiresGrad(value);
    return this;
  }

  get isLeaf(): boolean {
    return this.handle.isLeaf();
  }

  /** The accumulated gradient as a new handle (dispose it or let tidy do it), or undefined. */
  get grad(): Tensor | undefined {
    const g = this.handle.grad();
    return g ? new Tensor(g) : undefined;
  }

  /** Sets the gradient: a Tensor of this tensor's shape, dtype and device, or undefined. */
  set grad(g: Tensor | undefined) {
    const gh = g === undefined || g === null ? undefined : tensorHandle('grad', g);
    this.handle.setGrad(gh);
  }

  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    const gh = gradient === undefined ? undefined : tensorHandle('gradient', gradient);
    const o = optionsOf<BackwardOptions>('options', options, BACKWARD_OPTIONS);
    native().backward([this.handle], gh ? [gh] : undefined, o.retainGraph, o.createGraph);
  }

  /** A copy of the values in a TypedArray (int64 as BigInt64Array, bool as Uint8Array). */
  data(): TypedArray {
    return this.handle.toTypedArray();
  }

  /** The values as a flat array of numbers. */
  toArray(): number[] {
    return Array.from(this.data() as ArrayLike<number | bigint>, Number);
  }

  item(): number {
    return Number(this.handle.item());
  }

  /** True when both tensors share storage. */
  isAliasOf(other: Tensor): boolean {
    const oh = tensorHandle('other', other);
    return this.handle.sameStorage(oh);
  }

  override toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // Arithmetic (broadcasting, tensor or number operands). add, sub, mul and div call binaryCall
  // directly when the operands fit it (the generated aten.* would too, through a rest array and
  // unboxable()); anything else takes aten.*, whose errors name the argument.
  add(other: Operand, alpha = 1): Tensor {
    return direct(other) && typeof alpha === 'number' ? binaryCall(BINARY_ADD, this, other, alpha) as Tensor : aten.add(this, other, alpha);
  }
  sub(other: Operand, alpha = 1): Tensor {
    return direct(other) && typeof alpha === 'number' ? binaryCall(BINARY_SUB, this, other, alpha) as Tensor : aten.sub(this, other, alpha);
  }
  mul(other: Operand): Tensor {
    return direct(other) ? binaryCall(BINARY_MUL, this, other, undefined) as Tensor : aten.mul(this, other);
  }
  div(other: Operand): Tensor {
    return direct(other) ? binaryCall(BINARY_DIV, this, other, undefined) as Tensor : aten.div(this, other);
  }
  pow(exponent: Operand): Tensor {
    return aten.pow(this, exponent);
  }
  maximum(other: Tensor): Tensor { return aten.maximum(this, other); }
  minimum(other: Tensor): Tensor { return aten.minimum(this, other); }
  neg(): Tensor { return aten.neg(this); }
  abs(): Tensor { return aten.abs(this); }
  sign(): Tensor { return aten.sign(this); }
  sqrt(): Tensor { return aten.sqrt(this); }
  rsqrt(): Tensor { return aten.rsqrt(this); }
  square(): Tensor { return aten.square(this); }
  reciprocal(): Tensor { return aten.reciprocal(this); }
  exp(): Tensor { return aten.exp(this); }
  log(): Tensor { return aten.log(this); }
  sigmoid(): Tensor { return aten.sigmoid(this); }
  tanh(): Tensor { return aten.tanh(this); }
  relu(): Tensor { return aten.relu(this); }
  clamp(min?: number, max?: number): Tensor { return aten.clamp(this, min, max); }
  matmul(other: Tensor): Tensor { return aten.matmul(this, other); }
  mm(other: Tensor): Tensor { return aten.mm(this, other); }
  /** The transpose of a 2-D tensor. */
  t(): Tensor { return aten.t(this); }
  /** Batched matrix product of [B, n, m] and [B, m, p]. */
  bmm(other: Tensor): Tensor { return aten.bmm(ndimIn('self', this, [3]), ndimIn('other', other, [3])); }
  /** The outer product of two 1-D tensors. */
  outer(other: Tensor): Tensor { return aten.outer(ndimIn('self', this, [1]), ndimIn('other', other, [1])); }
  softmax(dim: number): Tensor { return aten.softmax(this, dimIn('dim', dim, this.ndim)); }
  logSoftmax(dim: number): Tensor { return aten.log_softmax(this, dimIn('dim', dim, this.ndim)); }
  /** NaN becomes `nan`, +∞ and -∞ the given values or the dtype's largest and lowest finite ones. */
  nanToNum(nan = 0, posinf?: number, neginf?: number): Tensor { return aten.nan_to_num(this, nan, posinf, neginf); }

  // Comparisons and logic (bool results)
  eq(other: Operand): Tensor { return aten.eq(this, other); }
  ne(other: Operand): Tensor { return aten.ne(this, other); }
  lt(other: Operand): Tensor { return aten.lt(this, other); }
  le(other: Operand): Tensor { return aten.le(this, other); }
  gt(other: Operand): Tensor { return aten.gt(this, other); }
  ge(other: Operand): Tensor { return aten.ge(this, other); }
  logicalAnd(other: Tensor): Tensor { return aten.logical_and(this, other); }
  logicalOr(other: Tensor): Tensor { return aten.logical_or(this, other); }
  logicalNot(): Tensor { return aten.logical_not(this); }
  /** Elementwise: `value` where the bool mask is true, else this. */
  maskedFill(mask: Tensor, value: number): Tensor { return aten.masked_fill(this, boolMask(mask), value); }
  isfinite(): Tensor { return aten.isfinite(this); }
  isnan(): Tensor { return aten.isnan(this); }
  isinf(): Tensor { return aten.isinf(this); }

  // Reductions. dim may be a number or a list; keepdim defaults to false.
  sum(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? aten.sum(this) : aten.sum(this, distinctDims('dim', dim, this.ndim), keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? aten.mean(this) : aten.mean(this, distinctDims('dim', dim, this.ndim), keepdim);
  }
  /** Unbiased (Bessel-corrected) variance, as torch.var's default. */
  var(dim?: number | number[], keepdim = false, unbiased = true): Tensor {
    return dim === undefined ? aten.var(this, unbiased) : aten.var(this, distinctDims('dim', dim, this.ndim), unbiased, keepdim);
  }
  std(dim?: number | number[], keepdim = false, unbiased = true): Tensor {
    return dim === undefined ? aten.std(this, unbiased) : aten.std(this, distinctDims('dim', dim, this.ndim), unbiased, keepdim);
  }
  /** The product over all elements, or along dim. */
  prod(dim?: number, keepdim = false): Tensor { return dim === undefined ? aten.prod(this) : aten.prod(this, dimIn('dim', dim, this.ndim), bool('keepdim', keepdim)); }
  /** The maximum over all elements (maxDim is torch.max(x, dim)). */
  max(...unexpected: never[]): Tensor {
    noArgs('max', unexpected, 'maxDim(dim, keepdim) gives the values and indices of torch.max(x, dim)');
    return aten.max(this);
  }
  min(...unexpected: never[]): Tensor {
    noArgs('min', unexpected, 'minDim(dim, keepdim) gives the values and indices of torch.min(x, dim)');
    return aten.min(this);
  }
  maxDim(dim: number, keepdim = false): ValuesIndices {
    const [values, indices] = aten.max(this, dimIn('dim', dim, this.ndim), keepdim);
    return { values, indices };
  }
  minDim(dim: number, keepdim = false): ValuesIndices {
    const [values, indices] = aten.min(this, dimIn('dim', dim, this.ndim), keepdim);
    return { values, indices };
  }
  argmax(dim?: number, keepdim = false): Tensor { return aten.argmax(this, dim === undefined ? dim : dimIn('dim', dim, this.ndim), keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return aten.argmin(this, dim === undefined ? dim : dimIn('dim', dim, this.ndim), keepdim); }
  /** The p-norm over all elements or over dims. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? aten.norm(this, p) : aten.norm(this, p, distinctDims('dim', dim, this.ndim), keepdim);
  }
  topk(k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
    const d = dimIn('dim', dim, this.ndim);
    const [values, indices] = aten.topk(this, intIn('k', k, 0, sizeAlong(this, d)), d, largest, sorted);
    return { values, indices };
  }
  /** The k-th smallest element (1-based k, as torch.kthvalue). */
  kthvalue(k: number, dim = -1, keepdim = false): ValuesIndices {
    const d = dimIn('dim', dim, this.ndim);
    const [values, indices] = aten.kthvalue(this, intIn('k', k, 1, sizeAlong(this, d)), d, keepdim);
    return { values, indices };
  }
  sort(dim = -1, descending = false): ValuesIndices {
    const [values, indices] = aten.sort(this, true, dimIn('dim', dim, this.ndim), descending);
    return { values, indices };
  }
  cumsum(dim: number): Tensor { return aten.cumsum(this, dimIn('dim', dim, this.ndim)); }
  cumprod(dim: number): Tensor { return aten.cumprod(this, dimIn('dim', dim, this.ndim)); }
  /** log(sum(exp(x))) over dims, computed without overflow. */
  logsumexp(dim: number | number[], keepdim = false): Tensor { return aten.logsumexp(this, dimsIn('dim', dim, this.ndim), keepdim); }
  /** The indices of the non-zero elements, one row [ndim] each (int64 [n, ndim]). */
  nonzero(): Tensor { return aten.nonzero(this); }
  /** The distinct elements (flattened), with the inverse indices and/or counts when asked for. */
  unique(sorted?: boolean, returnInverse?: false, returnCounts?: false): Tensor;
  unique(sorted: boolean, returnInverse: boolean, returnCounts?: boolean): UniqueResult;
  unique(sorted = true, returnInverse = false, returnCounts = false): Tensor | UniqueResult {
    const [values, inverse, counts] = aten._unique2(this, bool('sorted', sorted), bool('returnInverse', returnInverse), bool('returnCounts', returnCounts));
    if (!returnInverse) inverse.dispose();
    if (!returnCounts) counts.dispose();
    if (!returnInverse && !returnCounts) return values;
    return { values, ...(returnInverse ? { inverse } : {}), ...(returnCounts ? { counts } : {}) };
  }
  countNonzero(dim?: number): Tensor { return aten.count_nonzero(this, dim === undefined ? dim : dimIn('dim', dim, this.ndim)); }
  /** True where every element is non-zero, over all elements or along dim. */
  all(dim?: number, keepdim = false): Tensor { return dim === undefined ? aten.all(this) : aten.all(this, dimIn('dim', dim, this.ndim), bool('keepdim', keepdim)); }
  any(dim?: number, keepdim = false): Tensor { return dim === undefined ? aten.any(this) : aten.any(this, dimIn('dim', dim, this.ndim), bool('keepdim', keepdim)); }

  // Shape
  reshape(shape: number[]): Tensor { return aten.reshape(this, shape); }
  view(shape: number[]): Tensor { return aten.view(this, shape); }
  flatten(startDim = 0, endDim = -1): Tensor {
    const n = Math.max(this.ndim, 1);
    const [s, e] = [dimIn('startDim', startDim, this.ndim), dimIn('endDim', endDim, this.ndim)];
    if ((s + n) % n > (e + n) % n) throw new InvalidArgumentError('endDim', `a dim at or after startDim (${startDim})`, endDim);
    return aten.flatten(this, s, e);
  }
  permute(dims: number[]): Tensor {
    const d = distinctDims('dims', dims, this.ndim);
    if (!Array.isArray(dims) || d.length !== this.ndim) throw new InvalidArgumentError('dims', `a permutation of the tensor's ${this.ndim} dims`, dims);
    return aten.permute(this, d);
  }
  transpose(dim0: number, dim1: number): Tensor { return aten.transpose(this, dimIn('dim0', dim0, this.ndim), dimIn('dim1', dim1, this.ndim)); }
  squeeze(dim?: number): Tensor { return dim === undefined ? aten.squeeze(this) : aten.squeeze(this, dimIn('dim', dim, this.ndim)); }
  unsqueeze(dim: number): Tensor { return aten.unsqueeze(this, dimIn('dim', dim, this.ndim + 1)); }
  expand(shape: number[]): Tensor { return aten.expand(this, shape); }
  expandAs(other: Tensor): Tensor { return aten.expand_as(this, other); }
  repeat(repeats: number[]): Tensor { return aten.repeat(this, repeats); }
  flip(dims: number[]): Tensor { return aten.flip(this, distinctDims('dims', dims, this.ndim)); }
  /** Shifts elements along dims cyclically; without dims, over the flattened tensor. */
  roll(shifts: number | number[], dims?: number | number[]): Tensor {
    if (!Array.isArray(shifts) && !isInt(shifts)) throw new InvalidArgumentError('shifts', 'integer or list of integers', shifts);
    const s = Array.isArray(shifts) ? intList('shifts', shifts) : [shifts];
    if (dims === undefined) {
      if (s.length !== 1) throw new InvalidArgumentError('shifts', 'one integer when dims is not given', shifts);
      return aten.roll(this, s);
    }
    const d = dimsIn('dims', dims, this.ndim);
    if (d.length !== s.length) throw new InvalidArgumentError('dims', `as many dims as shifts (${s.length})`, dims);
    return aten.roll(this, s, d);
  }
  /** The lower triangle (of the last two dims) on and below the diagonal-th diagonal; the rest 0. */
  tril(diagonal = 0): Tensor { return aten.tril(ndimAtLeast2(this), diagonalArg(diagonal)); }
  triu(diagonal = 0): Tensor { return aten.triu(ndimAtLeast2(this), diagonalArg(diagonal)); }
  /** A 1-D tensor's values on a diagonal of a square matrix, or a 2-D tensor's diagonal as 1-D. */
  diag(diagonal = 0): Tensor { return aten.diag(ndimIn('self', this, [1, 2]), diagonalArg(diagonal)); }
  contiguous(): Tensor { return aten.contiguous(this); }
  clone(): Tensor { return aten.clone(this); }
  /** Elements start..end (exclusive) with step along dim; a view. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return aten.slice(this, dimIn('dim', dim, this.ndim), start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor {
    notScalar('narrow', this);
    const size = sizeAlong(this, dimIn('dim', dim, this.ndim));
    const s = intIn('start', start, -size, size);
    return aten.narrow(this, dim, s, intIn('length', length, 0, size - (s < 0 ? s + size : s)));
  }
  select(dim: number, index: number): Tensor {
    notScalar('select', this);
    const size = sizeAlong(this, dimIn('dim', dim, this.ndim));
    return aten.select(this, dim, intIn('index', index, -size, size - 1));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    const i = tensorArg('index', index);
    if ((i.dtype !== 'int64' && i.dtype !== 'int32') || i.ndim > 1) throw new InvalidArgumentError('index', 'a 0-d or 1-D int64 or int32 Tensor', i);
    return aten.index_select(this, dimIn('dim', dim, this.ndim), i);
  }
  /** Advanced indexing: one index tensor (or undefined for ':') per leading dim. */
  index(indices: (Tensor | undefined)[]): Tensor { return aten.index(this, indexList(indices)); }
  gather(dim: number, index: Tensor): Tensor { return aten.gather(this, dimIn('dim', dim, this.ndim), int64Index(index)); }
  /** A copy with src's elements (or the number src) written at index along dim (out-of-place torch.Tensor.scatter). */
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    const d = dimIn('dim', dim, this.ndim);
    const i = int64Index(index);
    return typeof src === 'number' ? aten.scatter(this, d, i, src) : aten.scatter(this, d, i, tensorArg('src', src));
  }
  /** A copy with src's elements added at index along dim. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return aten.scatter_add(this, dimIn('dim', dim, this.ndim), int64Index(index), tensorArg('src', src));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    if (!isInt(chunks) || chunks < 1) throw new InvalidArgumentError('chunks', 'positive integer', chunks);
    return aten.chunk(this, chunks, dimIn('dim', dim, this.ndim));
  }
  split(size: number, dim = 0): Tensor[] {
    notScalar('split', this);
    const d = dimIn('dim', dim, this.ndim);
    if (!isInt(size) || size < (sizeAlong(this, d) === 0 ? 0 : 1)) throw new InvalidArgumentError('size', 'positive integer', size);
    return aten.split(this, size, d);
  }

  // Conversion
  /** Converts dtype and/or device (a copy when either changes). */
  to(target: DType | Device | { dtype?: DType; device?: string }): Tensor {
    const opts = typeof target === 'string' ? ((DTYPES as readonly string[]).includes(target) ? { dtype: target as DType } : { device: target }) : target;
    if (typeof opts !== 'object' || opts === null) {
      throw new InvalidArgumentError('target', `a dtype (${DTYPES.join(', ')}), a device ('cpu', 'cuda', 'cuda:N') or { dtype, device }`, target);
    }
    knownKeys('target', opts, ['dtype', 'device']);
    if (opts.dtype !== undefined && !(DTYPES as readonly unknown[]).includes(opts.dtype)) {
      throw new InvalidArgumentError('dtype', `one of ${DTYPES.join(', ')}`, opts.dtype);
    }
    if (opts.device !== undefined && (typeof opts.device !== 'string' || !DEVICE_PATTERN.test(opts.device))) {
      throw new InvalidArgumentError(typeof target === 'string' ? 'target' : 'device',
        typeof target === 'string' ? `a dtype (${DTYPES.join(', ')}) or a device ('cpu', 'cuda', 'cuda:N')` : "a device ('cpu', 'cuda', 'cuda:N')", opts.device);
    }
    if (opts.device !== undefined) checkDeviceVisible(typeof target === 'string' ? 'target' : 'device', opts.device);
    return aten.to(this, opts.dtype, undefined, opts.device);
  }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  half(): Tensor { return this.to('float16'); }
  long(): Tensor { return this.to('int64'); }
  bool(): Tensor { return this.to('bool'); }
  cpu(): Tensor { return this.to('cpu'); }
  /** A tensor that shares storage but is cut from the autograd graph. */
  detach(): Tensor { return aten.detach(this); }

  // In place (return this)
  add_(other: Operand, alpha = 1): this {
    if (direct(other) && typeof alpha === 'number') binaryCall(BINARY_ADD + IN_PLACE, this, other, alpha);
    else aten.add_(this, other, alpha);
    return this;
  }
  sub_(other: Operand, alpha = 1): this {
    if (direct(other) && typeof alpha === 'number') binaryCall(BINARY_SUB + IN_PLACE, this, other, alpha);
    else aten.sub_(this, other, alpha);
    return this;
  }
  mul_(other: Operand): this {
    if (direct(other)) binaryCall(BINARY_MUL + IN_PLACE, this, other, undefined);
    else aten.mul_(this, other);
    return this;
  }
  div_(other: Operand): this {
    if (direct(other)) binaryCall(BINARY_DIV + IN_PLACE, this, other, undefined);
    else aten.div_(this, other);
    return this;
  }
  clamp_(min?: number, max?: number): this { aten.clamp_(this, min, max); return this; }
  copy_(src: Tensor): this { aten.copy_(this, src); return this; }
  zero_(): this { aten.zero_(this); return this; }
  fill_(value: number): this { aten.fill_(this, value); return this; }
  maskedFill_(mask: Tensor, value: number): this { aten.masked_fill_(this, boolMask(mask), value); return this; }
  uniform_(from = 0, to = 1, generator?: Generator): this { aten.uniform_(this, from, to, generator); return this; }
  normal_(mean = 0, std = 1, generator?: Generator): this { aten.normal_(this, mean, std, generator); return this; }
}

function fromSlot(slot: number): Tensor {
  adopting = slot;
  return new Tensor(undefined as never);
}

setTensorFactory((h) => new Tensor(h), fromSlot, (v) => v instanceof Tensor);

/** Whether two tensors have the same shape. */
export function sameShape(a: Tensor, b: Tensor): boolean {
  const x = a.shape;
  const y = b.shape;
  return x.length === y.length && x.every((d, i) => d === y[i]);
}
