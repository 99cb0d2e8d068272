/** Argument checks shared by the public API; each throws InvalidArgumentError naming the argument. */
import * as os from 'node:os';
import { InvalidArgumentError, ToolkitError } from './errors';
import { quoteText } from './quote';

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

export function int(name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (!isInt(v) || v < min || v > max) {
    const range = min === 0 && max === Infinity ? 'non-negative integer'
      : min === 1 && max === Infinity ? 'positive integer'
        : `integer in [${min}, ${max}]`;
    throw new InvalidArgumentError(name, range === 'integer in [-Infinity, Infinity]' ? 'integer' : range, v);
  }
  return v;
}

export function num(name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    const expected = min === -Infinity && max === Infinity ? 'number'
      : max === Infinity ? `number >= ${min}` : `number in [${min}, ${max}]`;
    throw new InvalidArgumentError(name, expected, v);
  }
  return v;
}

/** A finite number in [min, max]: for values that feed arithmetic, where Infinity is as wrong as NaN. */
export function finite(name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const expected = min === -Infinity && max === Infinity ? 'finite number'
      : max === Infinity ? `finite number >= ${min}` : `number in [${min}, ${max}]`;
    throw new InvalidArgumentError(name, expected, v);
  }
  return v;
}

export function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new InvalidArgumentError(name, 'boolean', v);
  return v;
}

export function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
  }
  return v as T;
}

export function intList(name: string, v: unknown, min = -Infinity): number[] {
  const expected = min === 0 ? 'array of non-negative integers' : 'array of integers';
  if (!Array.isArray(v)) throw new InvalidArgumentError(name, expected, v);
  // An index loop, not every(): every() skips the holes of a sparse array such as new Array(5).
  for (let i = 0; i < v.length; i++) {
    if (!isInt(v[i]) || v[i] < min) throw new InvalidArgumentError(name, expected, v);
  }
  return v as number[];
}

/**
 * The most CPU threads (libtorch intra-op threads, data-loader workers) worth asking for: twice
 * the logical CPUs this process may use. More only adds contention, and far more makes libgomp
 * hang or fail to create threads, which kills the process.
 */
export function maxThreads(): number {
  return 2 * os.availableParallelism();
}

/** The bound of maxThreads() in words, for error messages. */
export function maxThreadsReason(): string {
  return `twice this machine's ${os.availableParallelism()} logical CPUs`;
}

/** Rejects keys of an options object that are not in `allowed` (a typo such as `lrr` would be ignored). */
export function knownKeys(name: string, v: object, allowed: readonly string[]): void {
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) {
      throw new ToolkitError('ERR_INVALID_ARG', `Unknown option ${quoteText(key)} in ${name}; valid options: ${allowed.join(', ')}`);
    }
  }
}

/**
 * The keys of an options interface for knownKeys, written as a record so that the compiler keeps
 * the list whole: a key added to the interface and not here is a type error.
 */
export function keysOf<T>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(keys);
}

/** An int or a pair of ints (PyTorch's `int[2]` arguments such as stride). */
export function pair(name: string, v: unknown, min = 0): [number, number] {
  if (isInt(v) && v >= min) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x) && x >= min)) return [v[0], v[1]];
  throw new InvalidArgumentError(name, `integer >= ${min} or a pair of them`, v);
}

/**
 * Options are plain objects: a Tensor, Map, typed array or other class instance passed where
 * options go has none of the keys, and would otherwise run silently with every default. With
 * `keys`, a key not among them is refused too (a misspelled one would be ignored).
 */
export function options<T extends object>(name: string, v: unknown, keys?: readonly string[]): Partial<T> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || !isPlainObject(v)) throw new InvalidArgumentError(name, 'options object', v);
  if (keys) knownKeys(name, v, keys);
  return v as Partial<T>;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function str(name: string, v: unknown): string {
  if (typeof v !== 'string') throw new InvalidArgumentError(name, 'string', v);
  return v;
}

export function func<T extends (...args: never[]) => unknown>(name: string, v: unknown): T {
  if (typeof v !== 'function') throw new InvalidArgumentError(name, 'function', v);
  return v as T;
}

/** A non-null object that is not an array (a record, a table, a state). */
export function obj<T extends object>(name: string, v: unknown, expected = 'object'): T {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(name, expected, v);
  return v as T;
}

/**
 * The most elements a list argument may hold: the length is checked before any element is, so
 * that a sparse array such as new Array(2 ** 32 - 1) is refused at once instead of walked.
 */
export const MAX_LIST_LENGTH = 2 ** 24;

/**
 * How deep the arrays and objects of a JSON file the toolkit reads (a config, a run record) may
 * nest; real ones nest 3 levels. JSON.parse reads a file nested 20000 deep, and every recursive
 * walk after it (a schema, a config hash, a reviver) would overflow the stack.
 */
export const MAX_NESTING = 64;

/** An array (no longer than MAX_LIST_LENGTH) whose every element passes `ok`. */
export function list<T>(name: string, v: unknown, expected: string, ok: (x: unknown) => boolean = () => true): T[] {
  if (!Array.isArray(v) || v.length > MAX_LIST_LENGTH) throw new InvalidArgumentError(name, expected, v);
  for (let i = 0; i < v.length; i++) if (!ok(v[i])) throw new InvalidArgumentError(name, expected, v);
  return v as T[];
}
