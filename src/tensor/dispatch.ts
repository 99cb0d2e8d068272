/**
 * Calls ATen operators by name ("aten::add.Tensor") through the addon. Operator handles are
 * looked up once and cached; Tensor arguments become native handles and native results become
 * Tensors registered with the current tidy() scope.
 */
import { fromNative } from '../errors';
import { native, type NativeBinding, type NativeTensor } from '../native';
import { Generator } from './runtime';
import { Tensor } from './tensor';

const ids = new Map<string, number>();
let binding: NativeBinding | undefined;
let nativeTensorClass: abstract new (...args: never[]) => NativeTensor;

// Every op goes through here: the addon and its tensor class are looked up once, not per call.
function addon(): NativeBinding {
  if (!binding) {
    binding = native();
    nativeTensorClass = binding.NativeTensor;
  }
  return binding;
}

function opId(qualified: string): number {
  let id = ids.get(qualified);
  if (id === undefined) {
    const dot = qualified.indexOf('.', qualified.indexOf('::'));
    const name = dot < 0 ? qualified : qualified.slice(0, dot);
    const overload = dot < 0 ? '' : qualified.slice(dot + 1);
    try {
      id = addon().opHandle(name, overload);
    } catch (e) {
      throw fromNative(e);
    }
    ids.set(qualified, id);
  }
  return id;
}

function toNative(v: unknown): unknown {
  if (v instanceof Tensor) return v.handle;
  if (v instanceof Generator) return v.handle;
  if (Array.isArray(v) && v.some((x) => x instanceof Tensor)) return v.map(toNative);
  return v;
}

function toNativeArgs(args: unknown[]): unknown[] {
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) out[i] = toNative(args[i]);
  return out;
}

export function wrap(v: unknown): unknown {
  if (v === undefined || v === null || typeof v !== 'object') return v;
  addon();
  if (v instanceof nativeTensorClass) return new Tensor(v);
  if (Array.isArray(v)) return v.map(wrap);
  return v;
}

function invoke(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): unknown {
  const nargs = toNativeArgs(args);
  let nkw: Record<string, unknown> | undefined;
  if (kwargs) {
    nkw = {};
    for (const k of Object.keys(kwargs)) if (kwargs[k] !== undefined) nkw[k] = toNative(kwargs[k]);
  }
  try {
    return addon().callOp(opId(qualified), nargs, nkw);
  } catch (e) {
    throw fromNative(e);
  }
}

/** Calls an operator and returns its result with tensors wrapped. */
export function call<T = Tensor>(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): T {
  return wrap(invoke(qualified, args, kwargs)) as T;
}

/** Calls an in-place operator (its result aliases an input, so the extra handle is released). */
export function callInPlace(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): void {
  const r = invoke(qualified, args, kwargs) as NativeTensor | undefined;
  r?.dispose();
}

/** The schema of an operator, e.g. for documentation or error messages. */
export function schema(qualified: string): string {
  return addon().opSchema(opId(qualified));
}
