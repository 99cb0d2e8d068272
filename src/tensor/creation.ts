/** Tensor factories (torch.zeros, torch.tensor, ...). Options: dtype, device, requiresGrad, generator. */
import { InvalidArgumentError, fromNative } from '../errors';
import { native } from '../native';
import { intList, isInt, oneOf } from '../validate';
import { call } from './dispatch';
import type { Generator } from './runtime';
import { DTYPES, Tensor, type DType, type TypedArray } from './tensor';

export interface TensorOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

function shapeOf(name: string, shape: unknown): number[] {
  return intList(name, shape, 0);
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function kw(opts: TensorOptions): Record<string, unknown> {
  if (opts.dtype !== undefined) oneOf('dtype', opts.dtype, DTYPES);
  return { dtype: opts.dtype, device: opts.device };
}

export function zeros(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(call('aten::zeros', [shapeOf('shape', shape)], kw(opts)), opts);
}

export function ones(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(call('aten::ones', [shapeOf('shape', shape)], kw(opts)), opts);
}

export function empty(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(call('aten::empty.memory_format', [shapeOf('shape', shape)], kw(opts)), opts);
}

export function full(shape: number[], value: number, opts: TensorOptions = {}): Tensor {
  if (typeof value !== 'number') throw new InvalidArgumentError('value', 'number', value);
  return finish(call('aten::full', [shapeOf('shape', shape), value], kw(opts)), opts);
}

/** Uniform on [0, 1). */
export function rand(shape: number[], opts: RandomOptions = {}): Tensor {
  return finish(call('aten::rand.generator', [shapeOf('shape', shape), opts.generator], kw(opts)), opts);
}

/** Standard normal. */
export function randn(shape: number[], opts: RandomOptions = {}): Tensor {
  return finish(call('aten::randn.generator', [shapeOf('shape', shape), opts.generator], kw(opts)), opts);
}

/** Integers uniform in [low, high), int64 by default. */
export function randint(low: number, high: number, shape: number[], opts: RandomOptions = {}): Tensor {
  if (!isInt(low) || !isInt(high) || high <= low) throw new InvalidArgumentError('high', `integer > low (${low})`, high);
  return call('aten::randint.low_generator', [low, high, shapeOf('shape', shape), opts.generator], kw(opts));
}

/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  if (!isInt(n) || n < 0) throw new InvalidArgumentError('n', 'non-negative integer', n);
  return call('aten::randperm.generator', [n, opts.generator], kw(opts));
}

/** Values start, start+step, ... < end (like torch.arange; one argument means end). */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  return finish(call('aten::arange.start_step', [s, e, step], kw(opts)), opts);
}

export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  return finish(call('aten::linspace', [start, end, steps], kw(opts)), opts);
}

export function eye(n: number, opts: TensorOptions = {}): Tensor {
  return finish(call('aten::eye', [n], kw(opts)), opts);
}

export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return finish(call('aten::zeros_like', [t], kw(opts)), opts);
}

export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return finish(call('aten::ones_like', [t], kw(opts)), opts);
}

export function fullLike(t: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return finish(call('aten::full_like', [t, value], kw(opts)), opts);
}

export interface FromArrayOptions {
  /** Share the TypedArray's memory instead of copying (the array is kept alive by the tensor). */
  copy?: boolean;
  /** 'bool' reinterprets a Uint8Array of 0/1. */
  dtype?: DType;
}

/** A tensor over a TypedArray's values; zero-copy with { copy: false }. */
export function fromTypedArray(data: TypedArray, shape: number[] = [data.length], opts: FromArrayOptions = {}): Tensor {
  if (!ArrayBuffer.isView(data) || data instanceof DataView) throw new InvalidArgumentError('data', 'TypedArray', data);
  shapeOf('shape', shape);
  try {
    return new Tensor(native().fromTypedArray(data, shape, opts.copy ?? true, opts.dtype));
  } catch (e) {
    throw fromNative(e);
  }
}

type Nested = number | boolean | Nested[];

function flattenNested(data: Nested, shape: number[], out: number[], depth: number): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) {
      throw new InvalidArgumentError('data', `a rectangular nested array (length ${shape[depth]} at depth ${depth})`, data);
    }
    for (const d of data) flattenNested(d, shape, out, depth + 1);
  } else if (typeof data === 'number' || typeof data === 'boolean') {
    if (depth !== shape.length) throw new InvalidArgumentError('data', 'a rectangular nested array', data);
    out.push(Number(data));
  } else {
    throw new InvalidArgumentError('data', 'number, boolean or nested array of them', data);
  }
}

/**
 * A tensor from (nested) JS numbers or a TypedArray, always a copy. dtype defaults to float32 for
 * numbers, bool for booleans, and the TypedArray's own type.
 */
export function tensor(data: Nested | TypedArray, opts: TensorOptions & { shape?: number[] } = {}): Tensor {
  let t: Tensor;
  if (ArrayBuffer.isView(data)) {
    t = fromTypedArray(data as TypedArray, opts.shape ?? [(data as TypedArray).length]);
  } else {
    const shape: number[] = [];
    const flat: number[] = [];
    flattenNested(data, shape, flat, 0);
    const isBool = typeof (Array.isArray(data) ? data.flat(Infinity as 1)[0] : data) === 'boolean';
    const base = fromTypedArray(isBool ? Uint8Array.from(flat) : Float64Array.from(flat), opts.shape ?? shape);
    t = base.to(opts.dtype ?? (isBool ? 'bool' : 'float32'));
    base.dispose();
  }
  if ((opts.dtype && t.dtype !== opts.dtype) || opts.device) {
    const moved = t.to({ dtype: opts.dtype, device: opts.device });
    t.dispose();
    t = moved;
  }
  return finish(t, opts);
}
