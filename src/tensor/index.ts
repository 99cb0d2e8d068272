export { Tensor, DTYPES } from './tensor';
export type { DType, Device, TypedArray, ValuesIndices, UniqueResult, BackwardOptions } from './tensor';
export { tidy, memory, scopeDepth } from './engine';
export type { MemoryInfo } from './engine';
export { keep } from './keep';
export * from './creation';
export * from './ops';
export * from './autograd';
export * from './runtime';
import { list, obj, str } from '../validate';
import { call, callInPlace } from './dispatch';
import type { Tensor } from './tensor';

/**
 * UNSAFE: calls any ATen operator by name, unchecked (`unsafeCall('aten::add.Tensor', [a, b])`).
 * It reaches libtorch 1.13's own bugs, some of which crash or hang the whole process (for
 * example `aten::_stack` on an empty list). Everything the toolkit offers is reachable through
 * the Tensor methods and functions instead; use this only for an operator they lack, with inputs
 * you have checked yourself.
 */
export function unsafeCall<T = Tensor>(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): T {
  checkCall(qualified, args, kwargs);
  return call<T>(qualified, args, kwargs);
}

/** UNSAFE: unsafeCall for in-place operators (the aliasing result handle is released). */
export function unsafeCallInPlace(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): void {
  checkCall(qualified, args, kwargs);
  callInPlace(qualified, args, kwargs);
}

// Only the form of the call is checked; the operator's arguments go to libtorch as they are.
function checkCall(qualified: unknown, args: unknown, kwargs: unknown): void {
  str('qualified', qualified);
  list('args', args, 'array of the operator\'s positional arguments');
  if (kwargs !== undefined) obj('kwargs', kwargs, 'record of keyword arguments');
}

export { schema } from './dispatch';
export { cpuMemoryStats, emptyCpuCache, setCpuCacheLimit } from './cpu-memory';
export type { CpuMemoryStats } from './cpu-memory';
