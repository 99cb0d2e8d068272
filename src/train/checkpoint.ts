/**
 * Checkpoints: model (with masks and Sign-In factors), optimizer state, callback state, the global
 * RNG state and the position, in ONE safetensors file whose metadata holds the JSON part, so that
 * the single atomic rename in saveSafetensors makes the whole checkpoint appear at once.
 */
import * as fs from 'node:fs';
import { ToolkitError } from '../errors';
import type { Module } from '../nn/module';
import { loadSafetensorsWithMetadata, saveSafetensors } from '../nn/safetensors';
import { noGrad } from '../tensor/autograd';
import { getRngState, setRngState } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import type { Callback, CallbackState, Optimizer } from './callbacks';

export interface Position {
  epoch: number;
  step: number;
}

const META_KEY = 'signin_torch';

function prefixed(prefix: string, m: Map<string, Tensor>, into: Map<string, Tensor>): void {
  for (const [k, v] of m) into.set(`${prefix}${k}`, v);
}

function unprefixed(prefix: string, m: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of m) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

/**
 * Writes a checkpoint atomically. With `previous`, the checkpoint already in `file` moves there
 * once the new one is complete on disk, so the last two survive for loadLatestCheckpoint.
 */
export function saveCheckpoint(
  file: string,
  parts: { model: Module; optimizer: Optimizer; callbacks: Callback[]; position: Position; extra?: unknown },
  options: { previous?: string } = {},
): void {
  const tensors = new Map<string, Tensor>();
  const rng = getRngState();
  try {
    prefixed('model.', parts.model.stateDict(), tensors);
    prefixed('optim.', parts.optimizer.stateDict(), tensors);
    tensors.set('rng.cpu', rng);
    const callbackJson: Record<string, unknown> = {};
    for (const cb of parts.callbacks) {
      const state = cb.getState?.();
      if (!state) continue;
      if (state.tensors) prefixed(`cb.${cb.name}.`, state.tensors, tensors);
      callbackJson[cb.name] = state.json ?? null;
    }
    const meta = { position: parts.position, callbacks: callbackJson, extra: parts.extra ?? null };
    saveSafetensors(file, tensors, { [META_KEY]: JSON.stringify(meta) }, options);
  } finally {
    rng.dispose();
  }
}

export function hasCheckpoint(...files: string[]): boolean {
  return files.some((f) => fs.existsSync(f));
}

/**
 * Restores the newest loadable checkpoint of `files` (newest first; missing files are skipped).
 * A damaged one (truncated, unreadable, not matching the model) is reported through onSkip and
 * the next one is tried; every part is restored again from that one, so nothing of the damaged
 * file survives. Throws the newest file's error when none loads.
 */
export function loadLatestCheckpoint(
  files: string[],
  parts: { model: Module; optimizer: Optimizer; callbacks: Callback[] },
  onSkip: (file: string, error: unknown) => void,
): { position: Position; extra: unknown; file: string } {
  let first: unknown;
  for (const file of files.filter((f) => fs.existsSync(f))) {
    try {
      return { ...loadCheckpoint(file, parts), file };
    } catch (e) {
      first ??= e;
      onSkip(file, e);
    }
  }
  throw first ?? new ToolkitError('ERR_INVALID_ARG', `No checkpoint among ${files.join(', ')}`);
}

/** Restores everything saveCheckpoint wrote; returns the position and the extra JSON. */
export function loadCheckpoint(file: string, parts: { model: Module; optimizer: Optimizer; callbacks: Callback[] }): { position: Position; extra: unknown } {
  const { tensors, metadata } = loadSafetensorsWithMetadata(file);
  try {
    const meta = JSON.parse(metadata?.[META_KEY] ?? '{}') as { position: Position; callbacks: Record<string, unknown>; extra: unknown };
    noGrad(() => parts.model.loadStateDict(unprefixed('model.', tensors)));
    parts.optimizer.loadStateDict(unprefixed('optim.', tensors));
    for (const cb of parts.callbacks) {
      if (!cb.setState || !(cb.name in (meta.callbacks ?? {}))) continue;
      const state: CallbackState = { tensors: unprefixed(`cb.${cb.name}.`, tensors), json: meta.callbacks[cb.name] };
      cb.setState(state);
    }
    const rng = tensors.get('rng.cpu');
    if (rng) setRngState(rng);
    return { position: meta.position, extra: meta.extra };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
