/**
 * The native mask-aware SGD step (native/optim/sgd.cc): one call updates every parameter of every
 * group, and the entries of registered update kinds (native/optim/sgd.h) with them.
 */
import { DISPOSED_BY_DEFAULT, InvalidArgumentError, ToolkitError } from '../errors';
import { native, type NativeTensor } from '../native';
import { Tensor } from '../tensor/tensor';
import { bool, num } from '../validate';

export interface NativeSgdHyper {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * The SGD hyperparameters checked, with their defaults (from `base`, else PyTorch's): the one
 * check for the SGD and signinStep, as the native step trusts them. `where` prefixes the names.
 */
export function sgdHyper(where: string, o: Partial<NativeSgdHyper>, base: Required<NativeSgdHyper> | undefined): Required<NativeSgdHyper> {
  const p = (k: string) => (where ? `${where}.${k}` : k);
  const lr = num(p('lr'), o.lr ?? base?.lr, 0, Infinity);
  const momentum = num(p('momentum'), o.momentum ?? base?.momentum ?? 0, 0, Infinity);
  const dampening = num(p('dampening'), o.dampening ?? base?.dampening ?? 0);
  const nesterov = bool(p('nesterov'), o.nesterov ?? base?.nesterov ?? false);
  const weightDecay = num(p('weightDecay'), o.weightDecay ?? base?.weightDecay ?? 0, 0, Infinity);
  for (const [k, v] of [['lr', lr], ['momentum', momentum], ['dampening', dampening], ['weightDecay', weightDecay]] as const) {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(p(k), 'finite number', v);
  }
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new InvalidArgumentError(p('nesterov'), `false unless momentum > 0 and dampening = 0 (momentum is ${momentum}, dampening ${dampening})`, nesterov);
  }
  return { lr, momentum, dampening, nesterov, weightDecay };
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
      `Expected a live Tensor for ${name} but received a disposed one (${t.disposedBy ?? DISPOSED_BY_DEFAULT})`,
    );
  }
  return t.handle;
}

/** Like handleOf for an optional argument (undefined stays undefined). */
export function optionalHandleOf(name: string, t: unknown): NativeTensor | undefined {
  return t === undefined || t === null ? undefined : handleOf(name, t);
}
