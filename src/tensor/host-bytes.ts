/**
 * A tensor's bytes read through a buffer the caller reuses. data() makes a new buffer per call,
 * freed only by a full collection, which a training process's small JS heap gives V8 no reason to
 * run: a checkpoint's worth of them per save and per restore stayed resident (ResNet-50: about
 * 440 MB after a save, 220 MB after a restore).
 */
import * as aten from './aten';
import { fromTypedArray } from './creation';
import { elementSize } from './size-limit';
import type { DType, Tensor, TypedArray } from './tensor';

type ArrayOf = new (buffer: ArrayBuffer, byteOffset: number, length: number) => TypedArray;

/** The array each dtype's bytes travel in: half and bfloat16 as their int16 bits, bool as bytes. */
const ARRAYS: Record<DType, ArrayOf> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Int16Array,
  bfloat16: Int16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** The most bytes of the buffer sharedScratch keeps: a larger one is made for its call only. */
const KEPT_MAX_BYTES = 64 * 2 ** 20;
let kept = new ArrayBuffer(0);

/**
 * A buffer of at least `bytes` to read tensors through, valid until the next call: up to 64 MiB,
 * the one kept for every save and restore of the process (grown as needed), since a buffer made
 * per call and dropped stays resident until a full collection, which a training process's small
 * JS heap rarely runs (a ResNet-50 resume: +18 MiB for the rest of the run). Everything that uses
 * it runs synchronously, so no two callers hold it at once.
 */
export function sharedScratch(bytes: number): ArrayBuffer {
  if (bytes > KEPT_MAX_BYTES) return new ArrayBuffer(bytes);
  if (kept.byteLength < bytes) kept = new ArrayBuffer(bytes);
  return kept;
}

/** Bytes `hostBytes` needs for `t` as `dtype`. */
export const hostByteLength = (t: Tensor, dtype: DType = t.dtype): number => t.numel * elementSize(dtype);

/**
 * A `dtype` tensor of `shape` over the first bytes of `buffer`, or a copy of them with `copy`:
 * half and bfloat16 are read as their int16 bits and reinterpreted, bool as bytes of 0 and 1.
 */
export function tensorOver(buffer: ArrayBuffer, shape: number[], dtype: DType, copy: boolean): Tensor {
  const numel = shape.reduce((a, b) => a * b, 1);
  const raw = fromTypedArray(new ARRAYS[dtype](buffer, 0, numel), shape, { copy, dtype: dtype === 'bool' ? 'bool' : undefined });
  if (dtype !== 'float16' && dtype !== 'bfloat16') return raw;
  const typed = aten.view(raw, dtype);
  raw.dispose();
  return typed;
}

/**
 * `t`'s values as `dtype` (converted as copy_ converts), contiguous, in the first bytes of
 * `scratch` (at least hostByteLength long), from any device. The view is valid until the next use
 * of `scratch`.
 */
export function hostBytes(t: Tensor, scratch: ArrayBuffer, dtype: DType = t.dtype): Uint8Array {
  const view = tensorOver(scratch, t.shape, dtype, false);
  try {
    view.copy_(t);
  } finally {
    view.dispose();
  }
  return new Uint8Array(scratch, 0, hostByteLength(t, dtype));
}
