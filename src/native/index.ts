import type { NativeBinding } from './binding';
import { loadNative } from './load';

export type { NativeBinding, NativeTensor, NativeGenerator, SgdGroup } from './binding';

/** The loaded addon (loaded on first use, so pure-TS code paths never need it). */
export function native(): NativeBinding {
  return loadNative();
}
