/**
 * Calls ATen operators by name ("aten::add.Tensor") through the addon. Operator handles are
 * looked up once and cached; Tensor arguments become native handles and native results become
 * Tensors registered with the current tidy() scope.
 */
import { fromNative } from '../errors';
import { native, type NativeTensor } from '../native';
import { Generator } from './runtime';
import { Tensor } from './tensor';

const ids = new Map<string, number>();

function opId(qualified: string): number {
  let id = ids.get(qualified);
  if (id === undefined) {
    const dot = qualified.indexOf('.', qualified.indexOf('::'));
    const name = dot < 0 ? qualified : qualified.slice(0, dot);
    const overload = dot < 0 ? '' : qualified.slice(dot + 1);
    try {
      id = native().opHandle(name, overload);
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

export function wrap(v: unknown): unknown {
  if (v === undefined || v === null || typeof v !== 'object') return v;
  if (v instanceof (native().NativeTensor as unknown as new () => object)) return new Tensor(v as NativeTensor);
  if (Array.isArray(v)) return v.map(wrap);
  return v;
}

function invoke(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): unknown {
  const nargs = args.map(toNative);
  let nkw: Record<string, unknown> | undefined;
  if (kwargs) {
    nkw = {};
    for (const [k, v] of Object.entries(kwargs)) if (v !== undefined) nkw[k] = toNative(v);
  }
  try {
    return native().callOp(opId(qualified), nargs, nkw);
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
  return native().opSchema(opId(qualified));
}
