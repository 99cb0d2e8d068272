/**
 * Weights to and from PyTorch (architecture.md decision 8). The zoo uses torchvision's names, so a
 * torchvision state dict maps onto our models key by key; what PyTorch lacks is our masked
 * layers' extra state: `<param>_mask` (and Sign-In's `<param>_m`, `<param>_w`, whose product
 * with the mask is kept in `<param>` itself).
 */
import { moduleArg, type LoadResult, type Module, type StateDict } from '../nn/module';
import { obj } from '../validate';
import type { Tensor } from '../tensor/tensor';

const EXTRA_SUFFIXES = ['_mask', '_m', '_w'] as const;

/** True for a key that only our masked layers have (`x.weight_mask` next to `x.weight`). */
function isExtraKey(key: string, keys: ReadonlySet<string>): boolean {
  return EXTRA_SUFFIXES.some((s) => key.endsWith(s) && keys.has(key.slice(0, -s.length)));
}

/**
 * Loads a PyTorch state dict (e.g. torchvision's, read with loadSafetensors) strictly, except that
 * the mask (and Sign-In) keys it cannot have keep the model's current values: a fresh model stays
 * dense, a pruned one keeps its masks and zeroes the loaded weights outside them. Every other
 * missing, unexpected or mis-shaped key is an ERR_STATE_DICT error.
 */
export function loadPyTorchStateDict(model: Module, state: StateDict | Record<string, Tensor>): LoadResult {
  moduleArg('model', model);
  const src: StateDict = new Map(state instanceof Map ? state : Object.entries(obj<Record<string, Tensor>>('state', state, 'state dict (Map or record of Tensors by key)')));
  const own = model.stateDict();
  const ownKeys = new Set(own.keys());
  const filled: string[] = [];
  for (const [k, t] of own) {
    if (!src.has(k) && isExtraKey(k, ownKeys)) {
      src.set(k, t);
      filled.push(k);
    }
  }
  model.loadStateDict(src, { strict: true });
  return { missingKeys: filled, unexpectedKeys: [] };
}

/**
 * The model's state dict as PyTorch's module would have it: the mask and Sign-In keys dropped
 * (weights are already exactly zero where masked). The tensors are the live ones, not copies.
 */
export function pytorchStateDict(model: Module): StateDict {
  const own = moduleArg('model', model).stateDict();
  const keys = new Set(own.keys());
  return new Map([...own].filter(([k]) => !isExtraKey(k, keys)));
}
