/**
 * A save's and a restore's memory peaks (src/train/checkpoint.ts). A save writes each float mask as
 * bool while it writes it, so the CPU allocator's bytes in use do not rise at all. A restore reads
 * the file straight into the model's and optimizer's tensors, so they rise by about one tensor
 * (the largest one's temporaries while a layer re-establishes its invariant), not by a second copy
 * of the state. Measured in fresh processes, where nothing from before can have raised the
 * allocator's peak (it is never reset).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SRC = path.join(__dirname, '..', '..', '..', 'src');
const HELPERS = path.join(__dirname, '..', 'signin', 'helpers');

/** A toy net whose conv2 (128→256, 3×3: 1.125 MiB) holds most of the state, in Sign-In, and its SGD with momentum. */
const SETUP = `
  const src = require(${JSON.stringify(SRC)});
  const { maskedToy } = require(${JSON.stringify(HELPERS)});
  const build = (seed) => {
    src.manualSeed(seed);
    const model = maskedToy(seed, 0.3, { width: 128 });
    src.applySignIn(model, { beta: 1 });
    return { model, optimizer: src.SGD.forModel(model, { lr: 0.05, momentum: 0.9 }), callbacks: [] };
  };`;

function child(body: string): string {
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', `${SETUP}\n${body}`], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

interface Stats {
  inUseBytes: number;
  peakInUseBytes: number;
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-peak-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('a save does not raise the CPU allocator\'s bytes in use: the masks become bool as they are written', () => {
  const file = path.join(dir, 'saved.safetensors');
  const out = JSON.parse(child(`
    const parts = build(1);
    const masks = [...parts.model.stateDict()].filter(([k]) => k.endsWith('weight_mask')).map(([, t]) => t);
    src.emptyCpuCache();
    const before = src.cpuMemoryStats();
    src.saveCheckpoint(${JSON.stringify(file)}, { ...parts, position: { epoch: 1, step: 1 } });
    const after = src.cpuMemoryStats();
    const stored = src.loadSafetensors(${JSON.stringify(file)});
    const same = masks.every((m, i) => {
      const b = [...stored].filter(([k]) => k.endsWith('weight_mask'))[i][1];
      return b.dtype === 'bool' && m.ne(0).eq(b).all().item();
    });
    process.stdout.write(JSON.stringify({ before, after, largestMask: Math.max(...masks.map((m) => m.numel)), same }));`)) as { before: Stats; after: Stats; largestMask: number; same: boolean };
  const { before, after, largestMask } = out;
  expect(out.same).toBe(true);
  expect(largestMask).toBe(128 * 256 * 9);
  expect(before.peakInUseBytes - before.inUseBytes).toBeLessThan(largestMask);
  expect(after.inUseBytes).toBe(before.inUseBytes);
  // Converting every mask with ne(0) first held them all as bool tensors: conv2's alone is 288 KiB.
  expect(after.peakInUseBytes).toBe(before.peakInUseBytes);
});

it('a restore raises the CPU allocator\'s bytes in use by about the largest tensor, not by the state', () => {
  const file = path.join(dir, 'ckpt.safetensors');
  child(`
    const parts = build(1);
    src.saveCheckpoint(${JSON.stringify(file)}, { ...parts, position: { epoch: 1, step: 1 } });`);
  const out = JSON.parse(child(`
    const parts = build(2);
    const largest = Math.max(...[...parts.model.stateDict().values()].map((t) => t.numel * 4));
    src.emptyCpuCache();
    const before = src.cpuMemoryStats();
    src.loadCheckpoint(${JSON.stringify(file)}, parts);
    const after = src.cpuMemoryStats();
    const state = [...parts.model.stateDict().values(), ...parts.optimizer.stateDict().values()].reduce((s, t) => s + t.numel * 4, 0);
    process.stdout.write(JSON.stringify({ before, after, largest, state }));`)) as { before: Stats; after: Stats; largest: number; state: number };
  const { before, after, largest, state } = out;
  expect(largest).toBe(128 * 256 * 9 * 4);
  // The state (θ, mask, m, w and two momentum buffers per layer) is six times conv2 and more.
  expect(state).toBeGreaterThan(6 * largest);
  // Nothing before the restore peaked above one tensor, so the peak after is the restore's own.
  expect(before.peakInUseBytes - before.inUseBytes).toBeLessThan(largest);
  // The restore leaves nothing allocated.
  expect(after.inUseBytes).toBe(before.inUseBytes);
  // Measured: +1.6 MB (a layer's θ = m·w and its mask checks). Reading into new tensors first held
  // the file's tensors beside the model: +9.8 MB, 8.3 times conv2's size.
  expect(after.peakInUseBytes - after.inUseBytes).toBeLessThan(2 * largest);
});
