/**
 * Calls ATen operators through the addon. An operator handle (`op('aten::add.Tensor')`) is looked
 * up in libtorch's registry on its first call; arguments that own a native handle (Tensor,
 * Generator) pass their handle, and native tensors in the result become Tensors registered with
 * the current tidy() scope. aten.ts, generated from the schemas, is the typed way in.
 */
import { InvalidArgumentError } from '../errors';
import { native, type NativeBinding, type NativeTensor } from '../native';
import { HandleOwner } from './handle-owner';

export interface OpHandle {
  readonly qualified: string;
  id: number;
}

let binding: NativeBinding | undefined;
let nativeTensorClass: abstract new (...args: never[]) => NativeTensor;
let makeTensor: ((h: NativeTensor) => unknown) | undefined;
const byName = new Map<string, OpHandle>();

/**
 * tensor.ts gives the constructor of the tensors that results become (the call path cannot import
 * Tensor, whose methods call through it).
 */
export function setTensorFactory(make: (h: NativeTensor) => unknown): void {
  makeTensor = make;
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

/**
 * An array with holes (`new Array(2 ** 32 - 1)`) is refused at its first hole: scanning such an
 * array element by element (as some() and map() do) would take minutes for a value that holds
 * nothing.
 */
function checkDense(qualified: string, name: string, v: unknown, depth: number): void {
  if (!Array.isArray(v)) return;
  for (let i = 0; i < v.length; i++) {
    if (!(i in v)) throw new InvalidArgumentError(`${name} of ${qualified}`, 'an array without holes', v);
    if (depth < 2) checkDense(qualified, `${name}[${i}]`, v[i], depth + 1);
  }
}

function toNative(v: unknown): unknown {
  if (v instanceof HandleOwner) return v.handle;
  if (Array.isArray(v) && v.some((x) => x instanceof HandleOwner)) return v.map(toNative);
  return v;
}

function toNativeArgs(qualified: string, args: unknown[]): unknown[] {
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    checkDense(qualified, `argument ${i}`, a, 0);
    out[i] = toNative(a);
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
      checkDense(h.qualified, `'${k}'`, kwargs[k], 0);
      if (kwargs[k] !== undefined) nkw[k] = toNative(kwargs[k]);
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

/** The schema of an operator, e.g. for documentation or error messages. */
export function schema(qualified: string): string {
  return addon().opSchema(opId(handleFor(qualified)));
}
