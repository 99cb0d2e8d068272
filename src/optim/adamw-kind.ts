/**
 * AdamW's extension point (docs/architecture.md, "Update kinds"), the counterpart of SGD's
 * (./update-kind.ts): a parameter group may hold, under a kind's key, entries whose update the kind
 * computes from one driving gradient with the group's hyperparameters. The optimizer keeps what is
 * generic: the entry's state (created with the optimizer, freed with it), its update count
 * (`<name>.step`), its moments under `<name>.<suffix>` in state dicts, zeroGrad on the driving
 * tensor, entryBuffers for resets, and AdamW.forModel asks each kind for a model's entries (their
 * driving tensors leave the plain parameters). AdamW's step is TypeScript, so a kind needs no
 * native part.
 *
 * Sign-In registers 'signin' (src/signin/adamw-kind.ts).
 */
import { kindRegistry } from './kind-registry';
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import type { AdamWHyper } from './adamw-update';

/**
 * Entry types by kind key, for AdamWParamGroup's typing. A kind adds itself by declaration
 * merging: `declare module '../optim/adamw-kind' { interface AdamWKindEntries { signin: SignInParam } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AdamWKindEntries {}

/** The optimizer state of one entry: created zero with the optimizer, freed with dispose(). */
export interface AdamWEntryState {
  /** Updates applied so far; the optimizer sets it when it loads a state dict. */
  steps: number;
  /** The moments by state-dict suffix (`<name>.<suffix>`), live tensors the optimizer copies into on load. */
  readonly moments: Readonly<Record<string, Tensor>>;
  /** The first moments by factor, as AdamW.entryBuffers hands them to a reset. */
  readonly firstMoments: Readonly<Record<string, Tensor>>;
  /** One update with the group's hyperparameters (counted in steps); false, changing nothing, without a gradient. */
  step(h: AdamWHyper): boolean;
  dispose(): void;
}

/** One checked entry as the optimizer sees it (no tensors allocated yet). */
export interface AdamWEntry {
  /** Parameter name: the prefix of its state-dict keys. */
  readonly name: string;
  /** The tensor whose gradient drives the update (zeroGrad clears it; it may be given once). */
  readonly grad: Tensor;
  createState(): AdamWEntryState;
}

export interface AdamWKind {
  /** The group key of its entries. */
  readonly key: string;
  /** Checks one entry as given in a group (`where` names it in errors; `fallbackName` when it has none). */
  entry(value: unknown, where: string, fallbackName: string): AdamWEntry;
  /** This kind's entries for every parameter of a model it applies to (AdamW.forModel takes them out of the plain parameters). */
  fromModel(model: Module): unknown[];
  /**
   * Why `t` may not be a plain parameter of an optimizer (it drives one of this kind's entries, whose
   * invariant a plain update would break), else undefined. Checked when the optimizer is made and at
   * every step, since the kind may be applied to a model after its optimizer was made.
   */
  refusePlain?(t: Tensor): string | undefined;
}

const kinds = kindRegistry<AdamWKind>();

/** Registers an AdamW kind under its key (replacing one is an error; 'params' is taken). */
export const registerAdamWKind: (kind: AdamWKind) => void = kinds.register;

/** The registered AdamW kinds, in registration order. */
export const adamwKinds: () => AdamWKind[] = kinds.list;
