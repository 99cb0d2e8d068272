/**
 * SGD's extension point (docs/architecture.md, "Update kinds"): a parameter group may hold, under
 * a kind's key, entries that the kind's fused native step updates with the group's
 * hyperparameters, in the same native call as the plain parameters. The optimizer keeps what is
 * generic: a momentum buffer per factor of an entry (zeros, created with the optimizer), the
 * entry's update count, state-dict keys `<name>.<factor>_momentum_buffer` and `<name>.step`,
 * zeroGrad on the entry's driving tensor. The kind says which tensors those are and how an entry
 * is passed to its native parser (native/optim/sgd.h, RegisterUpdateKind under the same key).
 *
 * Sign-In registers 'signin' (src/signin/update-kind.ts). AdamW, whose step is TypeScript, has its
 * own registry of the same shape (./adamw-kind.ts).
 */
import { kindRegistry } from './kind-registry';
import type { Module } from '../nn/module';
import type { NativeTensor } from '../native';
import type { Tensor } from '../tensor/tensor';

/**
 * Entry types by kind key, for ParamGroup's typing. A kind adds itself by declaration merging:
 * `declare module '../optim/update-kind' { interface UpdateKindEntries { signin: SignInParam } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface UpdateKindEntries {}

/** One entry as the optimizer sees it. */
export interface KindEntry {
  /** Parameter name: the prefix of its state-dict keys. */
  name: string;
  /** The tensor whose gradient drives the update (zeroGrad clears it; it may be given once). */
  grad: Tensor;
  /** The tensors that get a momentum buffer each, by factor name (state dict: `<name>.<factor>_momentum_buffer`). */
  factors: Record<string, Tensor>;
  /** The entry as the native kind reads it, given its momentum buffers by factor (undefined without momentum) and its update count. */
  toNative(buffers: Record<string, Tensor | undefined>, step: number): Record<string, NativeTensor | number | undefined>;
}

export interface UpdateKind {
  /** The group key of its entries, and the native kind's name. */
  readonly key: string;
  /** Checks one entry as given in a group (`where` names it in errors; `fallbackName` when it has none). */
  entry(value: unknown, where: string, fallbackName: string): KindEntry;
  /** This kind's entries for every parameter of a model it applies to (SGD.forModel takes them out of the plain parameters). */
  fromModel(model: Module): unknown[];
  /**
   * Why `t` may not be a plain parameter of an optimizer (it drives one of this kind's entries, whose
   * invariant a plain update would break), else undefined. Checked when the optimizer is made and at
   * every step, since the kind may be applied to a model after its optimizer was made.
   */
  refusePlain?(t: Tensor): string | undefined;
}

const kinds = kindRegistry<UpdateKind>();

/** Registers an update kind under its key (replacing one is an error; 'params' is taken). */
export const registerUpdateKind: (kind: UpdateKind) => void = kinds.register;

/** The registered update kinds, in registration order. */
export const updateKinds: () => UpdateKind[] = kinds.list;
