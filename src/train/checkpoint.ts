/**
 * Checkpoints: model (with masks and Sign-In factors), optimizer state, callback state, the global
 * RNG state and the position, in ONE safetensors file whose metadata holds the JSON part, so that
 * the single atomic rename in saveSafetensors makes the whole checkpoint appear at once.
 *
 * Size: masks are stored as bool (1 byte instead of 4), and a Sign-In layer's θ (`weight`) is not
 * stored at all, because loadStateDict recomputes it from m, w and the mask (θ = mask ⊙ m ⊙ w,
 * bit for bit: it is the same elementwise product the layer computes). Checkpoints written
 * before (float masks, θ present) load unchanged.
 *
 * Integrity: the metadata holds a sha256 over every tensor's name, dtype, shape and bytes; a
 * checkpoint whose tensors do not match it (a flipped bit) is refused with ERR_SAFETENSORS, so
 * loadLatestCheckpoint falls back to the older one. Checkpoints without a checksum load unchecked.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { GradScaler, type GradScalerState } from '../amp/grad-scaler';
import { InvalidArgumentError, IssuesError, ToolkitError } from '../errors';
import { MASK_BUFFER } from '../nn/masked';
import { SIGNIN_M_BUFFER, SIGNIN_W_BUFFER } from '../signin/parametrization';
import { Module } from '../nn/module';
import { loadSafetensorsHeader, loadSafetensorsWithMetadata, saveSafetensors } from '../nn/safetensors';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import { getRngState, setRngState } from '../tensor/runtime';
import { emptyCpuCache } from '../tensor/cpu-memory';
import { hostByteLength, hostBytes } from '../tensor/host-bytes';
import type { DType, Tensor } from '../tensor/tensor';
import type { Callback, CallbackState, Optimizer } from './callbacks';

export interface Position {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps completed. */
  step: number;
  /**
   * Steps of the next epoch completed: a checkpoint written in an epoch's middle (a signal, or
   * `checkpoint.everySteps`); 0 or absent (every checkpoint written before) at an epoch's end.
   */
  batch?: number;
}

const META_KEY = 'signin_torch';
const CHECKSUM_KEY = 'signin_torch_sha256';
const WEIGHT = 'weight';

/**
 * The sha256 of the tensors' bytes as data() gives them (half and bfloat16 as float32), read
 * through one buffer for all (src/tensor/host-bytes.ts says why).
 */
function tensorsDigest(tensors: Map<string, Tensor>): string {
  const h = createHash('sha256');
  const asRead = (t: Tensor): DType => (t.dtype === 'float16' || t.dtype === 'bfloat16' ? 'float32' : t.dtype);
  const scratch = new ArrayBuffer(Math.max(0, ...[...tensors.values()].map((t) => hostByteLength(t, asRead(t)))));
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    h.update(`${name}\0${t.dtype}\0${t.shape.join(',')}\0`);
    h.update(hostBytes(t, scratch, asRead(t)));
  }
  return h.digest('hex');
}

/** `a.b.weight_mask` → `a.b.` (the owning layer's prefix), else undefined. */
function layerPrefix(key: string, buffer: string): string | undefined {
  return key === buffer || key.endsWith(`.${buffer}`) ? key.slice(0, key.length - buffer.length) : undefined;
}

/**
 * The model's state as stored: bool masks, no θ where m and w are there. The returned tensors
 * that are not the model's own (the bool masks) are listed in `owned` for the caller to dispose.
 */
function compactModelState(state: Map<string, Tensor>): { stored: Map<string, Tensor>; owned: Tensor[] } {
  const stored = new Map<string, Tensor>();
  const owned: Tensor[] = [];
  for (const [k, t] of state) {
    const layer = layerPrefix(k, WEIGHT);
    if (layer !== undefined && state.has(`${layer}${SIGNIN_M_BUFFER}`) && state.has(`${layer}${SIGNIN_W_BUFFER}`)) continue;
    if (layerPrefix(k, MASK_BUFFER) !== undefined && t.dtype !== 'bool') {
      const b = t.ne(0);
      owned.push(b);
      stored.set(k, b);
    } else stored.set(k, t);
  }
  return { stored, owned };
}

/**
 * The inverse of compactModelState: masks back in the model's dtype, θ = mask ⊙ m ⊙ w for Sign-In
 * layers stored without it. Against the model's own state `own`; without it (another run's
 * checkpoint, no model), masks become float32 and every layer with m and w gets its θ. Old
 * checkpoints pass unchanged.
 */
function expandModelState(stored: Map<string, Tensor>, own?: Map<string, Tensor>): { state: Map<string, Tensor>; owned: Tensor[] } {
  const state = new Map(stored);
  const owned: Tensor[] = [];
  for (const [k, t] of stored) {
    if (layerPrefix(k, MASK_BUFFER) === undefined || t.dtype !== 'bool') continue;
    const dtype = own ? own.get(k)?.dtype : 'float32';
    if (dtype === undefined || dtype === 'bool') continue;
    const f = t.to(dtype);
    owned.push(f);
    state.set(k, f);
  }
  const layers = own
    ? [...own.keys()].map((k) => layerPrefix(k, WEIGHT))
    : [...stored.keys()].map((k) => layerPrefix(k, MASK_BUFFER));
  for (const layer of layers) {
    if (layer === undefined || state.has(`${layer}${WEIGHT}`)) continue;
    const [mask, m, w] = [MASK_BUFFER, SIGNIN_M_BUFFER, SIGNIN_W_BUFFER].map((b) => state.get(`${layer}${b}`));
    if (!mask || !m || !w) continue;
    const theta = tidy(() => m.mul(w).mul(mask));
    owned.push(theta);
    state.set(`${layer}${WEIGHT}`, theta);
  }
  return { state, owned };
}

function prefixed(prefix: string, m: Map<string, Tensor>, into: Map<string, Tensor>): void {
  for (const [k, v] of m) into.set(`${prefix}${k}`, v);
}

function unprefixed(prefix: string, m: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of m) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

function checkParts(file: unknown, parts: unknown): void {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('file', 'a file path (string)', file);
  const p = parts as { model?: unknown; optimizer?: { stateDict?: unknown; loadStateDict?: unknown }; callbacks?: unknown } | undefined;
  if (typeof p !== 'object' || p === null) throw new InvalidArgumentError('parts', '{ model, optimizer, callbacks }', parts);
  if (!(p.model instanceof Module)) throw new InvalidArgumentError('parts.model', 'a Module', p.model);
  if (typeof p.optimizer?.stateDict !== 'function' || typeof p.optimizer.loadStateDict !== 'function') {
    throw new InvalidArgumentError('parts.optimizer', 'an optimizer (stateDict, loadStateDict)', p.optimizer);
  }
  if (!Array.isArray(p.callbacks)) throw new InvalidArgumentError('parts.callbacks', 'an array of callbacks', p.callbacks);
}

/**
 * Writes a checkpoint atomically. With `previous`, the checkpoint already in `file` moves there
 * once the new one is complete on disk, so the last two survive for loadLatestCheckpoint.
 */
/**
 * The loss scaler's state as a checkpointed callback ('grad-scaler'), for saveCheckpoint's and
 * loadCheckpoint's `callbacks`: PyTorch recipes save scaler.state_dict() beside the optimizer's,
 * and without it a resumed float16 run starts again at the initial scale and backs off anew.
 */
export function gradScalerState(scaler: GradScaler): Callback {
  if (!(scaler instanceof GradScaler)) throw new InvalidArgumentError('scaler', 'a GradScaler', scaler);
  return {
    name: 'grad-scaler',
    getState: () => ({ json: scaler.stateDict() }),
    setState: (state: CallbackState) => scaler.loadStateDict(state.json as GradScalerState),
  };
}

export function saveCheckpoint(
  file: string,
  parts: { model: Module; optimizer: Optimizer; callbacks: Callback[]; position: Position; extra?: unknown },
  options: { previous?: string } = {},
): void {
  checkParts(file, parts);
  const tensors = new Map<string, Tensor>();
  const { stored, owned } = compactModelState(parts.model.stateDict());
  const rng = getRngState();
  try {
    prefixed('model.', stored, tensors);
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
    saveSafetensors(file, tensors, { [META_KEY]: JSON.stringify(meta), [CHECKSUM_KEY]: tensorsDigest(tensors) }, options);
  } finally {
    rng.dispose();
    for (const t of owned) t.dispose();
  }
}

/** Which epochs' checkpoints a run keeps for good, besides the rolling last two. */
export interface KeepCheckpoints {
  /** These epochs. */
  keepEpochs: readonly number[];
  /** Every epoch divisible by this; 0 for none. */
  keepEvery: number;
}

/** Whether the checkpoint written after `epoch` is one to keep (keepEpochs, or a multiple of keepEvery). */
export function keepsEpoch(keep: KeepCheckpoints, epoch: number): boolean {
  if (typeof keep !== 'object' || keep === null || !Array.isArray(keep.keepEpochs)) throw new InvalidArgumentError('keep', '{ keepEpochs: number[], keepEvery: number }', keep);
  if (!Number.isInteger(keep.keepEvery) || keep.keepEvery < 0) throw new InvalidArgumentError('keep.keepEvery', 'integer >= 0', keep.keepEvery);
  if (!Number.isInteger(epoch) || epoch < 0) throw new InvalidArgumentError('epoch', 'integer >= 0', epoch);
  return keep.keepEpochs.includes(epoch) || (keep.keepEvery > 0 && epoch > 0 && epoch % keep.keepEvery === 0);
}

export function hasCheckpoint(...files: string[]): boolean {
  return files.some((f) => fs.existsSync(f));
}

/**
 * Restores the newest loadable checkpoint of `files` (newest first; missing files are skipped).
 * A damaged one (truncated, unreadable, not matching the model) is reported through onSkip and
 * the next one is tried; every part is restored again from that one, so nothing of the damaged
 * file survives. When none loads, throws an error with the newest file's code that names each
 * file and what is wrong with it (an error that is not a ToolkitError, a bug, is thrown as is).
 */
export function loadLatestCheckpoint(
  files: string[],
  parts: { model: Module; optimizer: Optimizer; callbacks: Callback[] },
  onSkip: (file: string, error: unknown) => void,
): { position: Position; extra: unknown; file: string } {
  const failed: { file: string; error: unknown }[] = [];
  for (const file of files.filter((f) => fs.existsSync(f))) {
    try {
      return { ...loadCheckpoint(file, parts), file };
    } catch (e) {
      failed.push({ file, error: e });
      onSkip(file, e);
    }
  }
  if (failed.length === 0) throw new ToolkitError('ERR_INVALID_ARG', `No checkpoint among ${files.join(', ')}`);
  const first = failed[0].error;
  if (!(first instanceof ToolkitError)) throw first;
  // Each error names its file already (naming() sees to restores); its own lines indent under it.
  const each = failed.map(({ file, error }) => {
    const message = (error as Error).message;
    return `\t${message.includes(file) ? message : `${file}: ${message}`}`.replaceAll('\n', '\n\t');
  }).join('\n');
  throw new ToolkitError(first.code, `No checkpoint loads (written for another model or config, or damaged: restore a good copy, or remove them to start over):\n${each}`, { cause: first });
}

interface CheckpointMeta {
  position: Position;
  callbacks: Record<string, unknown>;
  extra: unknown;
}

/** The JSON part of a checkpoint's metadata, checked before anything is restored from the file. */
function checkpointMeta(file: string, metadata: Record<string, string> | undefined): CheckpointMeta {
  let meta: Partial<CheckpointMeta> | null;
  try {
    meta = JSON.parse(metadata?.[META_KEY] ?? '{}') as Partial<CheckpointMeta> | null;
  } catch (e) {
    throw new ToolkitError('ERR_SAFETENSORS', `Checkpoint '${file}' has unreadable metadata: ${(e as Error).message}`);
  }
  const p = meta?.position;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!p || !count(p.epoch) || !count(p.step) || (p.batch !== undefined && !count(p.batch))) {
    throw new ToolkitError('ERR_SAFETENSORS', `Checkpoint '${file}' has no position ({ epoch, step }, integers >= 0) in its metadata`);
  }
  const callbacks = meta?.callbacks ?? {};
  if (typeof callbacks !== 'object' || callbacks === null || Array.isArray(callbacks)) {
    throw new ToolkitError('ERR_SAFETENSORS', `Checkpoint '${file}' has unreadable metadata: its callbacks are not an object`);
  }
  return { position: { epoch: p.epoch, step: p.step, ...(p.batch ? { batch: p.batch } : {}) }, callbacks, extra: meta?.extra ?? null };
}

function checkDigest(file: string, tensors: Map<string, Tensor>, metadata: Record<string, string> | undefined): void {
  const sum = metadata?.[CHECKSUM_KEY];
  if (sum !== undefined && sum !== tensorsDigest(tensors)) {
    throw new ToolkitError('ERR_SAFETENSORS', `Checkpoint '${file}' is damaged: its tensors do not match the sha256 written with them`);
  }
}

/**
 * Disposes a restore's tensors and hands their blocks back to the OS: they are the model's sizes,
 * which few training tensors take, so the CPU allocator's cache would keep them resident (a
 * resumed ResNet-50 run: +170 MB for the rest of the run).
 */
function releaseLoaded(...groups: Iterable<Tensor>[]): void {
  for (const group of groups) for (const t of group) t.dispose();
  emptyCpuCache();
}

/** An error of a restore from `file`, naming it: loadStateDict and libtorch name the module or the operation, not the file. */
function naming(file: string, e: unknown): unknown {
  if (!(e instanceof ToolkitError) || e.message.includes(file)) return e;
  if (e instanceof IssuesError) return e.from(file);
  return new ToolkitError(e.code, `Cannot restore checkpoint '${file}': ${e.message}`, { cause: e });
}

/** Restores only the model of a checkpoint (to evaluate it): θ rebuilt from m and w, masks in the model's dtype. */
export function loadCheckpointModel(file: string, model: Module): void {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('file', 'a file path (string)', file);
  if (!(model instanceof Module)) throw new InvalidArgumentError('model', 'a Module', model);
  const { tensors, metadata } = loadSafetensorsWithMetadata(file);
  const owned: Tensor[] = [];
  try {
    checkDigest(file, tensors, metadata);
    const expanded = expandModelState(unprefixed('model.', tensors), model.stateDict());
    owned.push(...expanded.owned);
    noGrad(() => model.loadStateDict(expanded.state));
  } catch (e) {
    throw naming(file, e);
  } finally {
    releaseLoaded(tensors.values(), owned);
  }
}

/**
 * Restores everything saveCheckpoint wrote; returns the position and the extra JSON. A file whose
 * metadata holds no position (another program's safetensors file) is refused, ERR_SAFETENSORS,
 * before anything is restored from it.
 */
export function loadCheckpoint(file: string, parts: { model: Module; optimizer: Optimizer; callbacks: Callback[] }): { position: Position; extra: unknown } {
  checkParts(file, parts);
  const { tensors, metadata } = loadSafetensorsWithMetadata(file);
  const owned: Tensor[] = [];
  try {
    checkDigest(file, tensors, metadata);
    const meta = checkpointMeta(file, metadata);
    const model = expandModelState(unprefixed('model.', tensors), parts.model.stateDict());
    owned.push(...model.owned);
    noGrad(() => parts.model.loadStateDict(model.state));
    parts.optimizer.loadStateDict(unprefixed('optim.', tensors));
    for (const cb of parts.callbacks) {
      if (!cb.setState || !(cb.name in meta.callbacks)) continue;
      const state: CallbackState = { tensors: unprefixed(`cb.${cb.name}.`, tensors), json: meta.callbacks[cb.name] };
      cb.setState(state);
    }
    const rng = tensors.get('rng.cpu');
    if (rng) setRngState(rng);
    return { position: meta.position, extra: meta.extra };
  } catch (e) {
    throw naming(file, e);
  } finally {
    releaseLoaded(tensors.values(), owned);
  }
}

/** What a checkpoint's header says about it, without reading its tensors. */
export interface CheckpointInfo {
  position: Position;
  /** The sha256 written with its tensors; undefined for a checkpoint older than checksums. */
  sha256: string | undefined;
}

/** The position and checksum of a checkpoint, from its header alone. */
export function readCheckpointInfo(file: string): CheckpointInfo {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('file', 'a file path (string)', file);
  const { metadata } = loadSafetensorsHeader(file);
  return { position: checkpointMeta(file, metadata).position, sha256: metadata[CHECKSUM_KEY] };
}

/**
 * The model state a checkpoint holds, checked against its sha256, in the form the model's
 * stateDict() had: float32 masks, and θ = mask ⊙ m ⊙ w for Sign-In layers stored without it.
 * Read without the model that wrote it (another run's checkpoint); the caller disposes the tensors.
 */
export function readCheckpointModelState(file: string): Map<string, Tensor> {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('file', 'a file path (string)', file);
  const { tensors, metadata } = loadSafetensorsWithMetadata(file);
  try {
    checkDigest(file, tensors, metadata);
    const { state, owned } = expandModelState(unprefixed('model.', tensors));
    const mine = new Set(owned);
    return new Map([...state].map(([k, t]) => [k, mine.has(t) ? t : t.clone()]));
  } catch (e) {
    throw naming(file, e);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
