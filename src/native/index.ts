import type { NativeBinding } from './binding';
import { guardBinding } from './guard';
import { loadNative } from './load';

export type { NativeBinding, NativeTensor, NativeGenerator, SgdGroup } from './binding';

let guarded: NativeBinding | undefined;

/**
 * The loaded addon (loaded on first use, so pure-TS code paths never need it), behind the error
 * boundary of guard.ts: whatever it throws is a ToolkitError.
 */
export function native(): NativeBinding {
  guarded ??= guardBinding(loadNative());
  return guarded;
}
