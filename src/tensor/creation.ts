/** Tensor factories (torch.zeros, torch.tensor, ...). Options: dtype, device, requiresGrad, generator. */
import { isArrayBuffer } from 'node:util/types';
import { markAsUntransferable } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors';
import { native } from '../native';
import { intList, isInt, keysOf, oneOf, options } from '../validate';
import * as aten from './aten';
import { checkShapeSize, checkTensorSize } from './size-limit';
import type { Generator } from './runtime';
import { DEVICE_PATTERN, DTYPES, Tensor, checkDeviceVisible, type DType, type TypedArray } from './tensor';

export interface TensorOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

const TENSOR_OPTIONS = keysOf<TensorOptions>({ dtype: true, device: true, requiresGrad: true });
const RANDOM_OPTIONS = [...TENSOR_OPTIONS, ...keysOf<Omit<RandomOptions, keyof TensorOptions>>({ generator: true })];

function shapeOf(name: string, shape: unknown, dtype?: DType): number[] {
  return checkShapeSize(name, intList(name, shape, 0), dtype);
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** libtorch's own refusal of 'gpu' lists twenty backends this build does not have. */
function deviceOf(opts: TensorOptions): string | undefined {
  if (opts.device !== undefined && (typeof opts.device !== 'string' || !DEVICE_PATTERN.test(opts.device))) {
    throw new InvalidArgumentError('device', "a device ('cpu', 'cuda', 'cuda:N')", opts.device);
  }
  if (opts.device !== undefined) checkDeviceVisible('device', opts.device);
  return opts.device;
}

function dtypeOf(opts: TensorOptions): DType | undefined {
  if (opts.dtype !== undefined) oneOf('dtype', opts.dtype, DTYPES);
  return opts.dtype;
}

export function zeros(shape: number[], opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  return finish(aten.zeros(shapeOf('shape', shape, o.dtype), dtypeOf(o), undefined, deviceOf(o)), o);
}

export function ones(shape: number[], opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  return finish(aten.ones(shapeOf('shape', shape, o.dtype), dtypeOf(o), undefined, deviceOf(o)), o);
}

export function empty(shape: number[], opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  return finish(aten.empty(shapeOf('shape', shape, o.dtype), dtypeOf(o), undefined, deviceOf(o)), o);
}

export function full(shape: number[], value: number, opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  if (typeof value !== 'number') throw new InvalidArgumentError('value', 'number', value);
  return finish(aten.full(shapeOf('shape', shape, o.dtype), value, dtypeOf(o), undefined, deviceOf(o)), o);
}

/** Uniform on [0, 1). */
export function rand(shape: number[], opts: RandomOptions = {}): Tensor {
  const o = options<RandomOptions>('options', opts, RANDOM_OPTIONS);
  return finish(aten.rand(shapeOf('shape', shape, o.dtype), o.generator, dtypeOf(o), undefined, deviceOf(o)), o);
}

/** Standard normal. */
export function randn(shape: number[], opts: RandomOptions = {}): Tensor {
  const o = options<RandomOptions>('options', opts, RANDOM_OPTIONS);
  return finish(aten.randn(shapeOf('shape', shape, o.dtype), o.generator, dtypeOf(o), undefined, deviceOf(o)), o);
}

/** Integers uniform in [low, high), int64 by default. */
export function randint(low: number, high: number, shape: number[], opts: RandomOptions = {}): Tensor {
  const o = options<RandomOptions>('options', opts, RANDOM_OPTIONS);
  if (!isInt(low)) throw new InvalidArgumentError('low', 'integer', low);
  if (!isInt(high) || high <= low) throw new InvalidArgumentError('high', `integer > low (${low})`, high);
  return aten.randint(low, high, shapeOf('shape', shape, o.dtype ?? 'int64'), o.generator, dtypeOf(o), undefined, deviceOf(o));
}

/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  const o = options<RandomOptions>('options', opts, RANDOM_OPTIONS);
  if (!isInt(n) || n < 0) throw new InvalidArgumentError('n', 'non-negative integer', n);
  checkTensorSize('n', n, o.dtype ?? 'int64', n);
  return aten.randperm(n, o.generator, dtypeOf(o), undefined, deviceOf(o));
}

/** Values start, start+step, ... < end (like torch.arange; one argument means end). */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  const [s, e] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new InvalidArgumentError('step', 'a non-zero number', step);
  if ([s, e, step].every((v) => typeof v === 'number')) checkTensorSize('end', Math.ceil((e - s) / step), o.dtype, e);
  return finish(aten.arange(s, e, step, dtypeOf(o), undefined, deviceOf(o)), o);
}

export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  if (isInt(steps)) checkTensorSize('steps', steps, o.dtype, steps);
  return finish(aten.linspace(start, end, steps, dtypeOf(o), undefined, deviceOf(o)), o);
}

export function eye(n: number, opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  if (isInt(n)) checkTensorSize('n', n * n, o.dtype, n);
  return finish(aten.eye(n, dtypeOf(o), undefined, deviceOf(o)), o);
}

export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  return finish(aten.zeros_like(t, dtypeOf(o), undefined, deviceOf(o)), o);
}

export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  return finish(aten.ones_like(t, dtypeOf(o), undefined, deviceOf(o)), o);
}

export function fullLike(t: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  const o = options<TensorOptions>('options', opts, TENSOR_OPTIONS);
  return finish(aten.full_like(t, value, dtypeOf(o), undefined, deviceOf(o)), o);
}

export interface FromArrayOptions {
  /**
   * Share the TypedArray's memory instead of copying (the array is kept alive by the tensor). The
   * ArrayBuffer is then marked untransferable: postMessage/structuredClone copy it instead of
   * detaching it. A resizable ArrayBuffer is always copied.
   */
  copy?: boolean;
  /** 'bool' reinterprets a Uint8Array of 0/1. */
  dtype?: DType;
}

/** A tensor over a TypedArray's values; zero-copy with { copy: false }. */
export function fromTypedArray(data: TypedArray, shape?: number[], opts: FromArrayOptions = {}): Tensor {
  if (!ArrayBuffer.isView(data) || data instanceof DataView) throw new InvalidArgumentError('data', 'TypedArray', data);
  const dims = intList('shape', shape ?? [data.length], 0);
  const o = options<FromArrayOptions>('options', opts, keysOf<FromArrayOptions>({ copy: true, dtype: true }));
  const copy = o.copy ?? true;
  if (typeof copy !== 'boolean') throw new InvalidArgumentError('copy', 'boolean', copy);
  if (copy) checkTensorSize('data', data.byteLength, 'uint8', dims);
  if (o.dtype !== undefined) oneOf('dtype', o.dtype, DTYPES);
  // The tensor reads the buffer's memory for as long as it lives: a transfer (postMessage,
  // structuredClone) would free it under the tensor, so a shared buffer is pinned; it is then
  // copied, not moved, when transferred. Resizable buffers are copied by the addon.
  if (!copy && isArrayBuffer(data.buffer) && !(data.buffer as { resizable?: boolean }).resizable) markAsUntransferable(data.buffer);
  return new Tensor(native().fromTypedArray(data, dims, copy, o.dtype));
}

type Nested = number | boolean | Nested[];

/** The shape implied by the first element at each depth, and that first scalar. */
function probeShape(data: Nested): { shape: number[]; first: unknown } {
  const shape: number[] = [];
  let d: unknown = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
  }
  return { shape, first: d };
}

// Every array at depth k must have length shape[k] and every scalar sit at depth shape.length,
// so [1, [2]] is refused rather than read as shape [2, 1].
function flattenNested(data: unknown, shape: number[], out: number[], depth: number): void {
  if (depth < shape.length) {
    if (!Array.isArray(data) || data.length !== shape[depth]) {
      throw new InvalidArgumentError('data', `a rectangular nested array (an array of length ${shape[depth]} at depth ${depth})`, data);
    }
    for (let i = 0; i < data.length; i++) flattenNested(data[i], shape, out, depth + 1);
  } else if (typeof data === 'number' || typeof data === 'boolean') {
    out.push(Number(data));
  } else {
    throw new InvalidArgumentError('data', `a rectangular nested array of numbers or booleans (a number or boolean at depth ${depth})`, data);
  }
}

/**
 * A tensor from (nested) JS numbers or a TypedArray, always a copy. dtype defaults to float32 for
 * numbers, bool for booleans, and the TypedArray's own type.
 */
export function tensor(data: Nested | TypedArray, opts: TensorOptions & { shape?: number[] } = {}): Tensor {
  const o = options<TensorOptions & { shape?: number[] }>('options', opts, [...TENSOR_OPTIONS, 'shape']);
  if (o.dtype !== undefined) oneOf('dtype', o.dtype, DTYPES);
  let t: Tensor;
  if (ArrayBuffer.isView(data)) {
    t = fromTypedArray(data as TypedArray, o.shape ?? [(data as TypedArray).length]);
  } else {
    const { shape, first } = probeShape(data);
    const flat: number[] = [];
    flattenNested(data, shape, flat, 0);
    const isBool = typeof first === 'boolean';
    const base = fromTypedArray(isBool ? Uint8Array.from(flat) : Float64Array.from(flat), o.shape ?? shape);
    t = base.to(o.dtype ?? (isBool ? 'bool' : 'float32'));
    base.dispose();
  }
  if ((o.dtype && t.dtype !== o.dtype) || o.device) {
    let moved: Tensor;
    try {
      moved = t.to({ dtype: o.dtype, device: o.device });
    } finally {
      t.dispose();
    }
    t = moved;
  }
  return finish(t, o);
}
