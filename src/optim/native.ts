/**
 * The native mask-aware SGD step (native/optim/sgd.cc): one call updates every parameter of every
 * group, and the entries of registered update kinds (native/optim/sgd.h) with them.
 */
import { InvalidArgumentError, ToolkitError } from '../errors';
import { native, type NativeTensor } from '../native';
import { Tensor } from '../tensor/tensor';

export interface NativeSgdHyper {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * One parameter group of the native sgdStep. Arrays are per parameter; any other key is an
 * update kind's entries (e.g. `signin`), in the form that kind's native parser reads.
 */
export interface NativeSgdGroup extends NativeSgdHyper {
  params: NativeTensor[];
  masks?: (NativeTensor | undefined)[];
  /** Required (one per parameter) when momentum ≠ 0. */
  momentumBuffers?: (NativeTensor | undefined)[];
  /** Updates already applied per parameter (0: first step, buf = d). Required when momentum ≠ 0. */
  steps?: number[];
  /** Parameter names, used in error messages. */
  names?: string[];
  [kind: string]: unknown;
}

/** Which parameters, and which entries of each update kind (by its key), had a gradient and were updated. */
export interface NativeSgdResult {
  params: boolean[];
  [kind: string]: boolean[];
}

export interface SgdNative {
  sgdStep(groups: NativeSgdGroup[]): NativeSgdResult[];
}

export function sgdNative(): SgdNative {
  return native() as unknown as SgdNative;
}

/** The live handle of a required tensor argument; names it when it is missing or disposed. */
export function handleOf(name: string, t: unknown): NativeTensor {
  if (!(t instanceof Tensor)) throw new InvalidArgumentError(name, 'Tensor', t);
  if (t.isDisposed) {
    throw new ToolkitError(
      'ERR_TENSOR_DISPOSED',
      `Expected a live Tensor for ${name} but received a disposed one (released by dispose() or by the tidy() scope that created it)`,
    );
  }
  return t.handle;
}

/** Like handleOf for an optional argument (undefined stays undefined). */
export function optionalHandleOf(name: string, t: unknown): NativeTensor | undefined {
  return t === undefined || t === null ? undefined : handleOf(name, t);
}
