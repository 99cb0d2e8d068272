/**
 * Calls ATen operators through the addon. An operator handle (`op('aten::add.Tensor')`) is looked
 * up in libtorch's registry on its first call; arguments that own a native handle (Tensor,
 * Generator) pass their handle, and native tensors in the result become Tensors registered with
 * the current tidy() scope. aten.ts, generated from the schemas, is the typed way in.
 */
import { InvalidArgumentError } from '../errors';
import { native, type NativeBinding, type NativeTensor } from '../native';
import { HandleOwner } from './handle-owner';
import { str } from '../validate';

export interface OpHandle {
  readonly qualified: string;
  id: number;
}

let binding: NativeBinding | undefined;
let nativeTensorClass: abstract new (...args: never[]) => NativeTensor;
let makeTensor: ((h: NativeTensor) => unknown) | undefined;
let makeSlotTensor: ((slot: number) => unknown) | undefined;
let isTensor: (v: unknown) => boolean = () => false;
const byName = new Map<string, OpHandle>();

/**
 * tensor.ts gives the constructors of the tensors that results become (from a handle, from a slot
 * of the addon's slot table), and the test for one (the call path cannot import Tensor, whose
 * methods call through it).
 */
export function setTensorFactory(make: (h: NativeTensor) => unknown, fromSlot: (slot: number) => unknown,
  is: (v: unknown) => boolean): void {
  makeTensor = make;
  makeSlotTensor = fromSlot;
  isTensor = is;
}

// Every op goes through here: the addon and its tensor class are looked up once, not per call.
function addon(): NativeBinding {
  if (!binding) {
    binding = native();
    nativeTensorClass = binding.NativeTensor;
  }
  return binding;
}

/** A handle to the operator `aten::name.overload`, resolved in libtorch on first use. */
export function op(qualified: string): OpHandle {
  return { qualified, id: -1 };
}

function handleFor(o: OpHandle | string): OpHandle {
  if (typeof o !== 'string') return o;
  let h = byName.get(o);
  if (!h) {
    h = op(o);
    byName.set(o, h);
  }
  return h;
}

function opId(o: OpHandle): number {
  if (o.id < 0) {
    const q = o.qualified;
    const dot = q.indexOf('.', q.indexOf('::'));
    o.id = addon().opHandle(dot < 0 ? q : q.slice(0, dot), dot < 0 ? '' : q.slice(dot + 1));
  }
  return o.id;
}

// The indices from an argument down to the array being converted; read only to name a hole in
// an error, so that no name is built while arguments are fine.
const path: (number | string)[] = [];

function holeError(qualified: string, v: unknown): InvalidArgumentError {
  const [top, ...rest] = path;
  const name = (typeof top === 'number' ? `argument ${top}` : `'${top}'`) + rest.map((i) => `[${i}]`).join('');
  return new InvalidArgumentError(`${name} of ${qualified}`, 'an array without holes', v);
}

/**
 * An argument as the addon takes it, in one pass: handle owners become their handles, also inside
 * arrays (nested up to three deep). An array with holes (`new Array(2 ** 32 - 1)`) is refused at
 * its first hole: scanning such an array element by element would take minutes for a value that
 * holds nothing. An array is copied only when it holds a handle owner.
 */
function toNative(qualified: string, v: unknown, depth: number): unknown {
  if (v instanceof HandleOwner) return v.handle;
  if (!Array.isArray(v)) return v;
  let out: unknown[] | undefined;
  for (let i = 0; i < v.length; i++) {
    if (!(i in v)) throw holeError(qualified, v);
    const x: unknown = v[i];
    let y = x;
    if (x instanceof HandleOwner) {
      y = x.handle;
    } else if (depth < 2 && Array.isArray(x)) {
      path.push(i);
      y = toNative(qualified, x, depth + 1);
      path.pop();
    }
    if (y !== x && !out) out = v.slice(0, i);
    if (out) out.push(y);
  }
  return out ?? v;
}

function toNativeArgs(qualified: string, args: unknown[]): unknown[] {
  path.length = 0;
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a instanceof HandleOwner) {
      out[i] = a.handle;
    } else if (Array.isArray(a)) {
      path[0] = i;
      out[i] = toNative(qualified, a, 0);
      path.length = 0;
    } else {
      out[i] = a;
    }
  }
  return out;
}

function wrap(v: unknown): unknown {
  if (v === undefined || v === null || typeof v !== 'object') return v;
  if (v instanceof nativeTensorClass) return makeTensor!(v);
  if (Array.isArray(v)) return v.map(wrap);
  return v;
}

function invoke(o: OpHandle | string, args: unknown[], kwargs?: Record<string, unknown>): unknown {
  const h = handleFor(o);
  const nargs = toNativeArgs(h.qualified, args);
  let nkw: Record<string, unknown> | undefined;
  if (kwargs) {
    nkw = {};
    for (const k of Object.keys(kwargs)) {
      const v = kwargs[k];
      if (v === undefined) continue;
      path.length = 0;
      path.push(k);
      nkw[k] = toNative(h.qualified, v, 0);
    }
  }
  return addon().callOp(opId(h), nargs, nkw);
}

/** Calls an operator and returns its result with tensors wrapped. */
export function call<T>(o: OpHandle | string, args: unknown[], kwargs?: Record<string, unknown>): T {
  return wrap(invoke(o, args, kwargs)) as T;
}

/** Calls an in-place operator (its result aliases an input, so the extra handle is released). */
export function callInPlace(o: OpHandle | string, args: unknown[], kwargs?: Record<string, unknown>): void {
  const r = invoke(o, args, kwargs) as NativeTensor | undefined;
  r?.dispose();
}

/** The operators of binaryCall: their codes in the addon's binaryOp (+ IN_PLACE: in place). */
export const BINARY_ADD = 0;
export const BINARY_SUB = 1;
export const BINARY_MUL = 2;
export const BINARY_DIV = 3;
export const IN_PLACE = 4;
const SELF_SLOT = 8;
const OTHER_SLOT = 16;
const BINARY = { add: BINARY_ADD, sub: BINARY_SUB, mul: BINARY_MUL, div: BINARY_DIV } as const;
export type BinaryName = keyof typeof BINARY;

/** A tensor operand of binaryCall: a Tensor, named by a slot number (≥ 0) or by its handle. */
export interface SlotOwner {
  operandSlot(): number;
  readonly handle: unknown;
}

/**
 * Whether the arguments of add, sub, mul or div fit binary(): a Tensor, a Tensor or number and,
 * for add and sub, a number alpha (or none). aten.ts asks before it picks an overload.
 */
export function unboxable(a: unknown[], withAlpha: boolean): boolean {
  const n = a.length;
  if (n < 2 || n > (withAlpha ? 3 : 2) || !isTensor(a[0])) return false;
  const other = a[1];
  return (typeof other === 'number' || isTensor(other)) && (n < 3 || a[2] === undefined || typeof a[2] === 'number');
}

/**
 * add, sub, mul or div (code BINARY_*, + IN_PLACE) called unboxed (the addon's binaryOp: no
 * schema walk, no IValue stack) on Tensors that unboxable() or the Tensor methods accepted. Tensors
 * held in slots, and handles with an alias slot, are passed by slot number, and the result comes
 * back as one: no JS object is made in the addon. Returns the new Tensor, or undefined in place.
 */
export function binaryCall(code: number, self: SlotOwner, other: SlotOwner | number, alpha: number | undefined): unknown {
  let s: NativeTensor | number = self.operandSlot();
  if (s >= 0) {
    code |= SELF_SLOT;
  } else {
    s = self.handle as NativeTensor;
  }
  let o: NativeTensor | number;
  if (typeof other === 'number') {
    o = other;
  } else {
    o = other.operandSlot();
    if (o >= 0) {
      code |= OTHER_SLOT;
    } else {
      o = other.handle as NativeTensor;
    }
  }
  const r = addon().binaryOp(code, s, o, alpha);
  if (r === undefined) return undefined;
  return typeof r === 'number' ? makeSlotTensor!(r) : makeTensor!(r);
}

/** binaryCall for the generated wrappers of aten.ts, with arguments that unboxable() accepted. */
export function binary<T>(name: BinaryName, a: unknown[]): T {
  return binaryCall(BINARY[name], a[0] as SlotOwner, a[1] as SlotOwner | number, a[2] as number | undefined) as T;
}

/** binary() in place on a[0]. */
export function binaryInPlace(name: BinaryName, a: unknown[]): void {
  binaryCall(BINARY[name] + IN_PLACE, a[0] as SlotOwner, a[1] as SlotOwner | number, a[2] as number | undefined);
}

/** The schema of an operator, e.g. for documentation or error messages. */
export function schema(qualified: string): string {
  str('qualified', qualified);
  return addon().opSchema(opId(handleFor(qualified)));
}
