/**
 * The checkpoint's stored layout (src/train/checkpoint.ts): bool masks, no θ for Sign-In layers,
 * a sha256 that refuses a flipped bit; and checkpoints of the layout written before (float
 * masks, θ stored, no checksum), built here by that layout's rules, still load.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DTYPES, F, SGD, memory, applySignIn, cpuMemoryStats, signinFactors, manualSeed, maskedLayers, noGrad, randn, tidy, type Module, type Tensor } from '../../../src';
import { getRngState } from '../../../src/tensor/runtime';
import { loadSafetensorsHeader, loadSafetensorsWithMetadata, saveSafetensors } from '../../../src/nn/safetensors';
import { loadCheckpoint, loadCheckpointModel, loadLatestCheckpoint, readCheckpointModelState, saveCheckpoint } from '../../../src/train/checkpoint';
import { toyBatch } from '../../helpers/toy-model';
import { maskedToy } from '../signin/helpers';


function trained(seed: number, signin: boolean): { model: Module; opt: SGD } {
  manualSeed(seed);
  const model = maskedToy(seed, 0.3, { width: 4 });
  if (signin) applySignIn(model, { beta: 1 });
  const opt = SGD.forModel(model, { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 });
  const { x, y } = toyBatch(8, { inChannels: 1, imageSize: 8 });
  for (let s = 0; s < 2; s++) {
    tidy(() => F.crossEntropy(model.forward(x), y).backward());
    opt.step();
    opt.zeroGrad();
  }
  x.dispose();
  y.dispose();
  return { model, opt };
}

function snapshot(model: Module, opt: SGD): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [k, t] of model.stateDict()) out.set(`model.${k}`, t.toArray());
  for (const [k, t] of opt.stateDict()) out.set(`optim.${k}`, t.toArray());
  return out;
}

/** loadLatestCheckpoint over [newer, older] skips newer (reported once) and restores older's position, epoch 1 step 1. */
function expectFallsBackToOlder(newer: string, older: string, parts: Parameters<typeof loadLatestCheckpoint>[1]): void {
  const skipped: string[] = [];
  const r = loadLatestCheckpoint([newer, older], parts, (f) => skipped.push(f));
  expect(skipped).toEqual([newer]);
  expect(r.position).toEqual({ epoch: 1, step: 1 });
}

function dataBytes(file: string): number {
  return loadSafetensorsHeader(file).entries.reduce((s, e) => s + e.dataOffsets[1] - e.dataOffsets[0], 0);
}

function dtypes(file: string): Record<string, string> {
  return Object.fromEntries(loadSafetensorsHeader(file).entries.map((e) => [e.name, e.dtype]));
}

/** The layout every checkpoint had before: the whole state dict as is, float masks, θ included. */
function saveOldLayout(file: string, model: Module, opt: SGD): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) tensors.set(`model.${k}`, t);
  for (const [k, t] of opt.stateDict()) tensors.set(`optim.${k}`, t);
  const rng = getRngState();
  tensors.set('rng.cpu', rng);
  saveSafetensors(file, tensors, { signin_torch: JSON.stringify({ position: { epoch: 3, step: 7 }, callbacks: {}, extra: null }) });
  rng.dispose();
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-format-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each([['dense', false], ['Sign-In', true]])('checkpoint layout (%s layers)', (_label, signin) => {
  it('stores bool masks (and no θ for Sign-In) and restores every tensor bit for bit', () => {
    const a = trained(1, signin);
    const file = path.join(dir, `new-${signin}.safetensors`);
    saveCheckpoint(file, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 1, step: 2 } });
    const header = dtypes(file);
    const layers = [...maskedLayers(a.model)];
    for (const [name, layer] of layers) {
      expect(header[`model.${name}.weight_mask`]).toBe('BOOL');
      expect(`model.${name}.weight` in header).toBe(!signin);
      expect(layer.mask.dtype).toBe('float32');
    }
    const expected = snapshot(a.model, a.opt);

    const b = trained(2, signin); // other values everywhere, same structure
    const pos = loadCheckpoint(file, { model: b.model, optimizer: b.opt, callbacks: [] });
    expect(pos.position).toEqual({ epoch: 1, step: 2 });
    expect(snapshot(b.model, b.opt)).toEqual(expected);

    // The bytes saved against the old layout: 3 per mask entry, and 4 per θ entry of a Sign-In layer.
    const old = path.join(dir, `old-${signin}.safetensors`);
    saveOldLayout(old, a.model, a.opt);
    const numel = layers.reduce((s, [, l]) => s + l.weight.numel, 0);
    expect(dataBytes(old) - dataBytes(file)).toBe(3 * numel + (signin ? 4 * numel : 0));
    for (const m of [a.model, b.model]) m.dispose();
  });

  it('loads a checkpoint written in the old layout (float masks, θ stored, no checksum)', () => {
    const a = trained(3, signin);
    const file = path.join(dir, `legacy-${signin}.safetensors`);
    saveOldLayout(file, a.model, a.opt);
    expect(dtypes(file)[`model.${[...maskedLayers(a.model)][0][0]}.weight_mask`]).toBe('F32');
    const b = trained(4, signin);
    const pos = loadCheckpoint(file, { model: b.model, optimizer: b.opt, callbacks: [] });
    expect(pos.position).toEqual({ epoch: 3, step: 7 });
    expect(snapshot(b.model, b.opt)).toEqual(snapshot(a.model, a.opt));
    for (const m of [a.model, b.model]) m.dispose();
  });
});

describe('loadCheckpointModel', () => {
  it.each([['dense', false], ['Sign-In', true]])('restores the model (%s) bit for bit and nothing else; a damaged file leaves it as it was', (_label, signin) => {
    const a = trained(17, signin);
    const file = path.join(dir, `model-only-${signin}.safetensors`);
    saveCheckpoint(file, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 1, step: 2 } });
    const b = trained(18, signin);
    const optimBefore = [...snapshot(b.model, b.opt)].filter(([k]) => k.startsWith('optim.'));
    loadCheckpointModel(file, b.model);
    const after = snapshot(b.model, b.opt);
    expect([...after].filter(([k]) => k.startsWith('model.'))).toEqual([...snapshot(a.model, a.opt)].filter(([k]) => k.startsWith('model.')));
    expect([...after].filter(([k]) => k.startsWith('optim.'))).toEqual(optimBefore);

    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5] ^= 0x10;
    const damaged = path.join(dir, `model-only-damaged-${signin}.safetensors`);
    fs.writeFileSync(damaged, bytes);
    const c = trained(19, signin);
    const untouched = snapshot(c.model, c.opt);
    expect(() => loadCheckpointModel(damaged, c.model)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS', message: expect.stringContaining('sha256') }));
    expect(snapshot(c.model, c.opt)).toEqual(untouched);
    for (const m of [a.model, b.model, c.model]) m.dispose();
  });
});

describe('readCheckpointModelState (another run\'s model, read without it)', () => {
  it('gives the model\'s stateDict (float masks, θ from m and w), leaves no other tensor alive, and refuses a damaged file', () => {
    const a = trained(21, true);
    const file = path.join(dir, 'model-state.safetensors');
    saveCheckpoint(file, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 1, step: 2 } });
    const live = memory().numTensors;
    const state = readCheckpointModelState(file);
    expect(memory().numTensors - live).toBe(state.size);
    const own = a.model.stateDict();
    expect([...state.keys()].sort()).toEqual([...own.keys()].sort());
    for (const [k, t] of own) expect({ k, dtype: state.get(k)!.dtype, values: state.get(k)!.toArray() }).toEqual({ k, dtype: t.dtype, values: t.toArray() });
    for (const t of state.values()) t.dispose();

    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5] ^= 0x10; // in the last tensor, the RNG state, which this read does not keep
    fs.writeFileSync(file, bytes);
    expect(() => readCheckpointModelState(file)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS', message: expect.stringContaining('sha256') }));
    expect(memory().numTensors).toBe(live);
    a.model.dispose();
  });
});

describe('checkpoint checksum', () => {
  it('a flipped bit in the tensor data is refused, and loadLatestCheckpoint falls back to the older file', () => {
    const a = trained(5, true);
    const older = path.join(dir, 'older.safetensors');
    saveCheckpoint(older, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 1, step: 1 } });
    const expected = snapshot(a.model, a.opt);
    tidy(() => { for (const [, l] of maskedLayers(a.model)) signinFactors(l)!.w.mul_(2); });
    const newer = path.join(dir, 'newer.safetensors');
    saveCheckpoint(newer, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 2, step: 2 } });
    const bytes = fs.readFileSync(newer);
    bytes[bytes.length - 5] ^= 0x10; // inside the last tensor's data
    fs.writeFileSync(newer, bytes);

    const b = trained(6, true);
    const parts = { model: b.model, optimizer: b.opt, callbacks: [] };
    expect(() => loadCheckpoint(newer, parts)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS', message: expect.stringContaining('sha256') }));
    expectFallsBackToOlder(newer, older, parts);
    expect(snapshot(b.model, b.opt)).toEqual(expected);
    for (const m of [a.model, b.model]) m.dispose();
  });
});

/** An optimizer whose state is `state`, for checkpoints of chosen tensors. */
const holding = (state: Map<string, Tensor>) => ({ lr: 0, step: () => undefined, zeroGrad: () => undefined, stateDict: () => state, loadStateDict: () => undefined });

describe('checkpoint checksum, as checkpoints written before have it', () => {
  /** The sha256 as it was computed before: each tensor's bytes from data() (half and bfloat16 as float32). */
  function dataDigest(tensors: Map<string, Tensor>): string {
    const h = createHash('sha256');
    for (const name of [...tensors.keys()].sort()) {
      const t = tensors.get(name)!;
      const d = t.data();
      h.update(`${name}\0${t.dtype}\0${t.shape.join(',')}\0`);
      h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    return h.digest('hex');
  }

  it('is the same for every dtype, so their checksums still match', () => {
    const a = trained(7, true);
    const values = randn([3, 5]).mul_(100);
    const state = new Map<string, Tensor>(DTYPES.map((d) => [d, d === 'bool' ? values.gt(0) : values.to({ dtype: d })]));
    state.set('float32-empty', randn([0, 4]));
    const optimizer = holding(state);
    const file = path.join(dir, 'dtypes.safetensors');
    saveCheckpoint(file, { model: a.model, optimizer, callbacks: [], position: { epoch: 1, step: 1 } });
    const { tensors, metadata } = loadSafetensorsWithMetadata(file);
    expect(metadata.signin_torch_sha256).toBe(dataDigest(tensors));
    expect(new Set(loadSafetensorsHeader(file).entries.map((e) => e.dtype))).toEqual(new Set(['F32', 'F64', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']));
    // A restore hashes what it reads as the save hashed what it wrote, for every dtype.
    expect(loadCheckpoint(file, { model: a.model, optimizer, callbacks: [] }).position).toEqual({ epoch: 1, step: 1 });
    for (const t of [...tensors.values(), ...state.values(), values]) t.dispose();
    a.model.dispose();
  });
});

describe('what a restore leaves behind', () => {
  it('no copy of the file in buffers or in the CPU allocator\'s cache', () => {
    const a = trained(8, true);
    // 4 MiB in 16 tensors, so the file is mostly state of a known size.
    const state = new Map<string, Tensor>(Array.from({ length: 16 }, (_, i) => [`s${i}`, randn([256, 256])]));
    const optimizer = holding(state);
    const file = path.join(dir, 'leftovers.safetensors');
    saveCheckpoint(file, { model: a.model, optimizer, callbacks: [], position: { epoch: 1, step: 1 } });
    const size = fs.statSync(file).size;
    const buffersBefore = process.memoryUsage().arrayBuffers;
    loadCheckpoint(file, { model: a.model, optimizer, callbacks: [] });
    // Before: a buffer of its own per tensor (the file's size), and the cache kept the loaded
    // blocks. Now a buffer of the largest tensor's size to read through, and one to hash through.
    expect(process.memoryUsage().arrayBuffers - buffersBefore).toBeLessThan(0.25 * size);
    expect(cpuMemoryStats().cachedBytes).toBe(0);
    for (const t of state.values()) t.dispose();
    a.model.dispose();
  });
});

describe('checkpoints that do not load', () => {
  /** A copy of `from` whose checkpoint metadata (the JSON part) is `meta`; its tensors and sha256 stay valid. */
  function withMeta(from: string, to: string, meta: string | undefined): void {
    const { tensors, metadata } = loadSafetensorsWithMetadata(from);
    const { signin_torch: _old, ...rest } = metadata;
    saveSafetensors(to, tensors, meta === undefined ? rest : { ...rest, signin_torch: meta });
    for (const t of tensors.values()) t.dispose();
  }

  it.each<[string, string | undefined, string]>([
    ['no checkpoint metadata (another program\'s safetensors file)', undefined, 'has no position ({ epoch, step }, integers >= 0) in its metadata'],
    ['metadata that is not JSON', '{"position":', 'has unreadable metadata: '],
    ['a metadata without a position', '{"callbacks":{}}', 'has no position ({ epoch, step }, integers >= 0) in its metadata'],
    ['a negative epoch', '{"position":{"epoch":-1,"step":3},"callbacks":{}}', 'has no position ({ epoch, step }, integers >= 0) in its metadata'],
    ['an epoch that is a string', '{"position":{"epoch":"2","step":3},"callbacks":{}}', 'has no position ({ epoch, step }, integers >= 0) in its metadata'],
    ['callbacks that are not an object', '{"position":{"epoch":2,"step":3},"callbacks":"x"}', 'has unreadable metadata: its callbacks are not an object'],
  ])('%s: refused naming the file, before anything is restored; loadLatestCheckpoint falls back to the older one', (_name, meta, message) => {
    const a = trained(11, false);
    const older = path.join(dir, 'meta-older.safetensors');
    saveCheckpoint(older, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 1, step: 1 } });
    const expected = snapshot(a.model, a.opt);
    noGrad(() => tidy(() => { for (const [, l] of maskedLayers(a.model)) l.weight.mul_(2); }));
    const written = path.join(dir, 'meta-written.safetensors');
    saveCheckpoint(written, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 2, step: 3 } });
    const newer = path.join(dir, 'meta-newer.safetensors');
    withMeta(written, newer, meta);

    const b = trained(12, false);
    const untouched = snapshot(b.model, b.opt);
    const parts = { model: b.model, optimizer: b.opt, callbacks: [] };
    expect(() => loadCheckpoint(newer, parts)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS', message: expect.stringContaining(`Checkpoint '${newer}' ${message}`) }));
    expect(snapshot(b.model, b.opt)).toEqual(untouched);
    expectFallsBackToOlder(newer, older, parts);
    expect(snapshot(b.model, b.opt)).toEqual(expected);
    for (const m of [a.model, b.model]) m.dispose();
  });

  it.each([['dense', false], ['Sign-In', true]])('an optimizer state that does not match (%s): refused before the model is written', (_label, signin) => {
    const a = trained(15, signin);
    const file = path.join(dir, `optim-mismatch-${signin}.safetensors`);
    saveCheckpoint(file, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 1, step: 1 } });
    const b = trained(16, signin);
    // Without momentum the optimizer has no state, so every optim.* key of the file is unexpected.
    const plain = SGD.forModel(b.model, { lr: 0.05 });
    const untouched = snapshot(b.model, plain);
    expect(() => loadCheckpoint(file, { model: b.model, optimizer: plain, callbacks: [] })).toThrow(expect.objectContaining({
      code: 'ERR_STATE_DICT', message: expect.stringContaining(`Error(s) in loading the SGD state dict from '${file}'`),
    }));
    expect(snapshot(b.model, plain)).toEqual(untouched);
    for (const m of [a.model, b.model]) m.dispose();
  });

  it('when none loads, the error names each file and what is wrong with it, with the newest one\'s code', () => {
    const empty = path.join(dir, 'none-empty.safetensors');
    fs.writeFileSync(empty, '');
    const a = trained(13, false);
    const other = path.join(dir, 'none-other-model.safetensors');
    saveCheckpoint(other, { model: a.model, optimizer: a.opt, callbacks: [], position: { epoch: 1, step: 1 } });
    manualSeed(14);
    const b = maskedToy(14, 0.3, { width: 6 });
    const parts = { model: b, optimizer: SGD.forModel(b, { lr: 0.05, momentum: 0.9 }), callbacks: [] };
    const reasons = [empty, other].map((f) => {
      try {
        loadCheckpoint(f, parts);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`${f} loaded`);
    });
    expect(reasons[0]).toBe(`Invalid safetensors file '${empty}': the file has 0 bytes, fewer than the 8-byte header length (truncated?)`);
    // The state dict's error names the file too (the file fuzz found it naming only the model).
    expect(reasons[1].startsWith(`Error(s) in loading state_dict for ToyNet from '${other}':\n\t`)).toBe(true);
    expect(() => loadLatestCheckpoint([empty, other], parts, () => undefined)).toThrow(expect.objectContaining({
      code: 'ERR_SAFETENSORS',
      // Each file once, in its own error's words; the state dict's issues indent under it.
      message: `No checkpoint loads (written for another model or config, or damaged: restore a good copy, or remove them to start over):\n\t${reasons[0]}\n\t${reasons[1].replaceAll('\n', '\n\t')}`,
    }));
    try {
      loadLatestCheckpoint([empty, other], parts, () => undefined);
    } catch (e) {
      for (const f of [empty, other]) expect((e as Error).message.split(f)).toHaveLength(2);
    }
    a.model.dispose();
    b.dispose();
  });
});
