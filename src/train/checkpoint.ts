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
 *
 * Memory: a restore reads each tensor through one buffer straight into the model's or the
 * optimizer's tensor (loadCheckpoint says how it checks first), so it holds no second copy of them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { GradScaler, type GradScalerState } from '../amp/grad-scaler';
import { InvalidArgumentError, IssuesError, ToolkitError } from '../errors';
import { MASK_BUFFER } from '../nn/masked';
import { SIGNIN_M_BUFFER, SIGNIN_W_BUFFER } from '../signin/parametrization';
import { Module } from '../nn/module';
import { loadSafetensorsHeader, readSafetensorsFile, saveSafetensors, type SafetensorsEntry, type SafetensorsReader } from '../nn/safetensors';
import { Optimizer as OptimizerBase, type OptimizerGroup } from '../optim/optimizer';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import { getRngState, setRngState } from '../tensor/runtime';
import { emptyCpuCache } from '../tensor/cpu-memory';
import { hostByteLength, hostBytes, sharedScratch } from '../tensor/host-bytes';
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

/** The dtype a tensor is hashed as: half and bfloat16 as float32, as data() gave them when checksums began. */
const asRead = (dtype: DType): DType => (dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype);

/**
 * The checkpoint's sha256, fed one tensor at a time in name order: each tensor's name, dtype,
 * shape and bytes as data() gives them. `raw`, where given, is `t`'s bytes as stored (a file's),
 * hashed as they are unless `t` is half or bfloat16; otherwise the bytes are read through `scratch`
 * (src/tensor/host-bytes.ts says why), as `dtype` where `t` is stored as another dtype.
 */
function digester(scratch: ArrayBuffer): { add(name: string, t: Tensor, raw?: Uint8Array, dtype?: DType): void; hex(): string } {
  const h = createHash('sha256');
  return {
    add(name, t, raw, dtype = t.dtype) {
      h.update(`${name}\0${dtype}\0${t.shape.join(',')}\0`);
      h.update(raw && asRead(dtype) === dtype ? raw : hostBytes(t, scratch, asRead(dtype)));
    },
    hex: () => h.digest('hex'),
  };
}

/** The digest of `tensors` as saveSafetensors writes them, `dtypes` naming those stored as another dtype. */
function tensorsDigest(tensors: Map<string, Tensor>, dtypes: ReadonlyMap<string, DType>): string {
  const storedAs = (name: string) => dtypes.get(name) ?? tensors.get(name)!.dtype;
  const d = digester(sharedScratch(Math.max(0, ...[...tensors].map(([name, t]) => hostByteLength(t, asRead(storedAs(name)))))));
  for (const name of [...tensors.keys()].sort()) d.add(name, tensors.get(name)!, undefined, storedAs(name));
  return d.hex();
}

/** `a.b.weight_mask` → `a.b.` (the owning layer's prefix), else undefined. */
function layerPrefix(key: string, buffer: string): string | undefined {
  return key === buffer || key.endsWith(`.${buffer}`) ? key.slice(0, key.length - buffer.length) : undefined;
}

/**
 * The model's state as stored: no θ where m and w are there, and the masks in `asBool`, written as
 * bool while each is written (a whole-model copy as bool was 25 MB per ResNet-50 save, left in the
 * CPU allocator's cache).
 */
function compactModelState(state: Map<string, Tensor>): { stored: Map<string, Tensor>; asBool: string[] } {
  const stored = new Map<string, Tensor>();
  const asBool: string[] = [];
  for (const [k, t] of state) {
    const layer = layerPrefix(k, WEIGHT);
    if (layer !== undefined && state.has(`${layer}${SIGNIN_M_BUFFER}`) && state.has(`${layer}${SIGNIN_W_BUFFER}`)) continue;
    if (layerPrefix(k, MASK_BUFFER) !== undefined && t.dtype !== 'bool') asBool.push(k);
    stored.set(k, t);
  }
  return { stored, asBool };
}

/**
 * The inverse of compactModelState for a checkpoint read without its model: masks as float32, and
 * θ = mask ⊙ m ⊙ w for every layer stored with m and w but without θ. Old checkpoints pass unchanged.
 */
function expandModelState(stored: Map<string, Tensor>): Map<string, Tensor> {
  const state = new Map(stored);
  for (const [k, t] of stored) {
    if (layerPrefix(k, MASK_BUFFER) === undefined || t.dtype !== 'bool') continue;
    state.set(k, t.to('float32'));
  }
  for (const layer of [...stored.keys()].map((k) => layerPrefix(k, MASK_BUFFER))) {
    if (layer === undefined || state.has(`${layer}${WEIGHT}`)) continue;
    const [mask, m, w] = [MASK_BUFFER, SIGNIN_M_BUFFER, SIGNIN_W_BUFFER].map((b) => state.get(`${layer}${b}`));
    if (!mask || !m || !w) continue;
    state.set(`${layer}${WEIGHT}`, tidy(() => m.mul(w).mul(mask)));
  }
  return state;
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
  const { stored, asBool } = compactModelState(parts.model.stateDict());
  const dtypes = new Map(asBool.map((k) => [`model.${k}`, 'bool' as const]));
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
    saveSafetensors(file, tensors, { [META_KEY]: JSON.stringify(meta), [CHECKSUM_KEY]: tensorsDigest(tensors, dtypes) }, { ...options, dtypes });
  } finally {
    rng.dispose();
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

/**
 * Disposes a restore's tensors and hands the blocks freed during it back to the OS: they are the
 * model's sizes (its layers' temporaries while they re-establish their invariants), which few
 * training tensors take, so the CPU allocator's cache would keep them resident.
 */
function releaseLoaded(loaded: Iterable<Tensor>): void {
  for (const t of loaded) t.dispose();
  emptyCpuCache();
}

/** An error of a restore from `file`, naming it: loadStateDict and libtorch name the module or the operation, not the file. */
function naming(file: string, e: unknown): unknown {
  if (!(e instanceof ToolkitError) || e.message.includes(file)) return e;
  if (e instanceof IssuesError) return e.from(file);
  return new ToolkitError(e.code, `Cannot restore checkpoint '${file}': ${e.message}`, { cause: e });
}

/**
 * Where a restore reads each of the file's tensors. `into`: the live tensor of the same shape a
 * file entry is read into (the model's own, the optimizer's buffers), converted as copy_ converts,
 * as loadStateDict did. The rest (update counts, the RNG state, callbacks' tensors, anything
 * without such a destination) become tensors of their own. `recomputed`: the θ of each Sign-In
 * layer stored without it, which the layer's load recomputes from m, w and the mask.
 */
interface RestorePlan {
  byName: Map<string, SafetensorsEntry>;
  into: Map<string, Tensor>;
  recomputed: Map<string, Tensor>;
}

function planRestore(entries: SafetensorsEntry[], model: Module, optimizer: OptimizerBase<OptimizerGroup> | undefined): RestorePlan {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const into = new Map<string, Tensor>();
  const same = (e: SafetensorsEntry, t: Tensor) => e.shape.length === t.shape.length && e.shape.every((d, i) => d === t.shape[i]);
  const own = model.stateDict();
  for (const [k, t] of own) {
    const e = byName.get(`model.${k}`);
    // A float mask (a checkpoint written before masks were bool) is read whole: the mask's
    // checkLoad must see its values before anything is written. A bool one is 0/1 once read.
    if (e && same(e, t) && (layerPrefix(k, MASK_BUFFER) === undefined || e.dtype === 'BOOL')) into.set(e.name, t);
  }
  for (const [k, t] of optimizer?.liveState() ?? []) {
    const e = byName.get(`optim.${k}`);
    if (e && same(e, t)) into.set(e.name, t);
  }
  const recomputed = new Map<string, Tensor>();
  for (const [k, t] of own) {
    const layer = layerPrefix(k, WEIGHT);
    if (layer === undefined || byName.has(`model.${k}`)) continue;
    if ([MASK_BUFFER, SIGNIN_M_BUFFER, SIGNIN_W_BUFFER].every((b) => byName.has(`model.${layer}${b}`))) recomputed.set(k, t);
  }
  return { byName, into, recomputed };
}

/**
 * Pass 1 of a restore, before anything is written: every tensor of the file read through one
 * buffer and hashed (when the file has a checksum, refused if it does not match), the BOOL bytes
 * checked, and the tensors `wanted` that have no destination in `plan` kept as tensors of their own.
 */
function verifyAndLoad(file: string, reader: SafetensorsReader, plan: RestorePlan, wanted: (name: string) => boolean): Map<string, Tensor> {
  const sum = reader.header.metadata[CHECKSUM_KEY];
  // The reader holds the shared scratch, so half and bfloat16 tensors are widened through a buffer of their own.
  const widened = (e: SafetensorsEntry) => (e.dtype === 'F16' || e.dtype === 'BF16' ? 2 * (e.dataOffsets[1] - e.dataOffsets[0]) : 0);
  const digest = sum === undefined ? undefined : digester(new ArrayBuffer(Math.max(0, ...[...plan.byName.values()].map(widened))));
  const loaded = new Map<string, Tensor>();
  try {
    for (const name of [...plan.byName.keys()].sort()) {
      reader.withEntry(plan.byName.get(name)!, (view, raw) => {
        digest?.add(name, view, raw);
        if (!plan.into.has(name) && wanted(name)) loaded.set(name, view.clone());
      });
    }
    if (digest && digest.hex() !== sum) {
      throw new ToolkitError('ERR_SAFETENSORS', `Checkpoint '${file}' is damaged: its tensors do not match the sha256 written with them`);
    }
  } catch (e) {
    for (const t of loaded.values()) t.dispose();
    throw e;
  }
  return loaded;
}

/**
 * Pass 2, once every check has passed: each tensor with a destination read straight into it, in
 * the file's order, from the file pass 1 hashed (still open: a checkpoint renamed over its path
 * meanwhile is not read; one rewritten in place would be, unchecked, which saveCheckpoint never
 * does). Only a read error fails here, and its error says what it left.
 */
function readInto(reader: SafetensorsReader, plan: RestorePlan): void {
  try {
    noGrad(() => {
      for (const e of reader.header.entries) {
        const dst = plan.into.get(e.name);
        if (dst) reader.withEntry(e, (view) => dst.copy_(view));
      }
    });
  } catch (e) {
    if (!(e instanceof ToolkitError)) throw e;
    throw new ToolkitError(e.code, `${e.message}; the model and optimizer were partly overwritten from it: restore another checkpoint`, { cause: e });
  }
}

/** The state dict under `prefix` as loadStateDict takes it: each destination as its own source (a copy onto itself is none), the rest loaded. */
function sources(prefix: string, plan: RestorePlan, loaded: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const name of plan.byName.keys()) {
    const t = plan.into.get(name) ?? loaded.get(name);
    if (t && name.startsWith(prefix)) out.set(name.slice(prefix.length), t);
  }
  return out;
}

/** The model's state dict as its prepareLoad takes it: the file's (sources) and each Sign-In θ the load recomputes. */
function modelSources(plan: RestorePlan, loaded: Map<string, Tensor>): Map<string, Tensor> {
  return new Map([...sources('model.', plan, loaded), ...plan.recomputed]);
}

/**
 * A restore that holds no second copy of the model: `use` gets the file's reader, the plan and
 * pass 1's tensors once the checksum matched, and runs every check before it calls readInto. The
 * tensors of pass 1 and the blocks freed meanwhile are released after.
 */
function restoring<T>(file: string, model: Module, optimizer: Optimizer | undefined, wanted: (name: string) => boolean,
  use: (reader: SafetensorsReader, plan: RestorePlan, loaded: Map<string, Tensor>) => T): T {
  try {
    return readSafetensorsFile(file, (reader) => {
      const plan = planRestore(reader.header.entries, model, optimizer instanceof OptimizerBase ? optimizer : undefined);
      const loaded = verifyAndLoad(file, reader, plan, wanted);
      try {
        return use(reader, plan, loaded);
      } finally {
        releaseLoaded(loaded.values());
      }
    });
  } catch (e) {
    throw naming(file, e);
  }
}

/** Restores only the model of a checkpoint (to evaluate it): θ rebuilt from m and w, masks in the model's dtype. */
export function loadCheckpointModel(file: string, model: Module): void {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('file', 'a file path (string)', file);
  if (!(model instanceof Module)) throw new InvalidArgumentError('model', 'a Module', model);
  restoring(file, model, undefined, (name) => name.startsWith('model.'), (reader, plan, loaded) => {
    const load = noGrad(() => model.prepareLoad(modelSources(plan, loaded)));
    readInto(reader, plan);
    noGrad(() => load.apply());
  });
}

/**
 * Restores everything saveCheckpoint wrote; returns the position and the extra JSON. A file whose
 * metadata holds no position (another program's safetensors file) is refused, ERR_SAFETENSORS,
 * before anything is restored from it.
 *
 * The file is read twice, never held whole: once to hash it and check every key, shape and value
 * (model, then optimizer) against the model and optimizer, once to read each tensor straight into
 * its destination. A restore refused by a check leaves the model and optimizer as they were; one
 * whose second read fails (an I/O error) leaves them partly overwritten and says so, and
 * loadLatestCheckpoint then restores every part from the next file. An optimizer that is not one
 * of the toolkit's (src/optim/optimizer.ts) gets its state as tensors of their own, through its
 * loadStateDict after the model's is written.
 */
export function loadCheckpoint(file: string, parts: { model: Module; optimizer: Optimizer; callbacks: Callback[] }): { position: Position; extra: unknown } {
  checkParts(file, parts);
  return restoring(file, parts.model, parts.optimizer, () => true, (reader, plan, loaded) => {
    const meta = checkpointMeta(file, reader.header.metadata);
    const optim = sources('optim.', plan, loaded);
    const modelLoad = noGrad(() => parts.model.prepareLoad(modelSources(plan, loaded)));
    const optimLoad = parts.optimizer instanceof OptimizerBase ? parts.optimizer.prepareLoad(optim) : undefined;
    readInto(reader, plan);
    noGrad(() => modelLoad.apply());
    if (optimLoad) optimLoad.apply();
    else parts.optimizer.loadStateDict(optim);
    for (const cb of parts.callbacks) {
      if (!cb.setState || !(cb.name in meta.callbacks)) continue;
      const state: CallbackState = { tensors: unprefixed(`cb.${cb.name}.`, loaded), json: meta.callbacks[cb.name] };
      cb.setState(state);
    }
    const rng = loaded.get('rng.cpu');
    if (rng) setRngState(rng);
    return { position: meta.position, extra: meta.extra };
  });
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
  try {
    return readSafetensorsFile(file, (reader) => {
      const byName = new Map(reader.header.entries.map((e) => [e.name, e]));
      const loaded = verifyAndLoad(file, reader, { byName, into: new Map(), recomputed: new Map() }, (name) => name.startsWith('model.'));
      try {
        const state = expandModelState(unprefixed('model.', loaded));
        const kept = new Set(state.values());
        for (const t of loaded.values()) if (!kept.has(t)) t.dispose();
        return state;
      } catch (e) {
        for (const t of loaded.values()) t.dispose();
        throw e;
      }
    });
  } catch (e) {
    throw naming(file, e);
  }
}
