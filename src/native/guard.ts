/**
 * The one error boundary between the addon and TypeScript: every exported function, every method
 * of the addon's classes and the Generator constructor are wrapped once, at load, so that an error
 * thrown by native code reaches callers as the ToolkitError of its code (see fromNative), with the
 * native message that names the argument.
 */
import { fromNative } from '../errors';
import type { NativeBinding, NativeGenerator } from './binding';

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

function guardFn(fn: AnyFn): AnyFn {
  return function guarded(this: unknown, ...args: unknown[]) {
    try {
      return fn.apply(this, args);
    } catch (e) {
      throw fromNative(e);
    }
  };
}

/** Wraps the methods of a native class's prototype in place (its instances come from native code). */
function guardPrototype(cls: { prototype: object }): void {
  const proto = cls.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor') continue;
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (d && typeof d.value === 'function') Object.defineProperty(proto, name, { ...d, value: guardFn(d.value as AnyFn) });
  }
}

/** The binding with every entry point guarded; the raw binding's classes are patched in place. */
export function guardBinding(raw: NativeBinding): NativeBinding {
  const classes: unknown[] = [raw.NativeTensor, raw.Generator];
  guardPrototype(raw.NativeTensor);
  guardPrototype(raw.Generator);
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(raw)) out[name] = typeof v === 'function' && !classes.includes(v) ? guardFn(v as AnyFn) : v;
  const RawGenerator = raw.Generator;
  // A constructor function that returns the native object: `new Generator(seed)` keeps working.
  out.Generator = function Generator(seed: number): NativeGenerator {
    try {
      return new RawGenerator(seed);
    } catch (e) {
      throw fromNative(e);
    }
  };
  return out as NativeBinding;
}
