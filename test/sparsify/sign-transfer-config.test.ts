/**
 * A config's `transfer` section through trainFromConfig. A tiny source run (random 80% + Sign-In,
 * so its checkpoint stores m and w but no θ) is trained; target runs name it. What the target
 * holds when training starts (read in Trainer.fit) is compared with a reference built here from
 * the source checkpoint's raw tensors (θ = m·w·mask) and from a fresh model of the target's seed
 * made in the test, not by the code under test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { setLogger } from '../../src';
import { configHash, createRunDir, loadSweepFile, parseConfig, readFinal, runPaths, safeParseConfig, type ExperimentConfigInput } from '../../src/experiments';
import { runLabel } from '../../src/experiments/report';
import { trainFromConfig } from '../../src/experiments/runner';
import { createModel } from '../../src/models';
import { maskedLayers } from '../../src/nn/masked';
import { loadSafetensorsHeader, loadSafetensorsWithMetadata } from '../../src/nn/safetensors';
import { tidy } from '../../src/tensor/engine';
import { manualSeed } from '../../src/tensor/runtime';
import type { Tensor } from '../../src/tensor/tensor';
import { Trainer } from '../../src/train/trainer';
import { fashionImages, tmpDir, writeIdxSet } from '../helpers/data-fixtures';
import { errorOf } from '../helpers/error-of';

const LAYERS = ['fc1', 'fc2', 'fc3'];

function values(t: Tensor): number[] {
  return Array.from(tidy(() => t.detach().to('float64').contiguous().toArray()) as ArrayLike<number>);
}

type Layers = Record<string, { weight: number[]; mask: number[] }>;

/** θ and the mask of every masked layer of a checkpoint, from its raw tensors (θ = m·w·mask in float32 for Sign-In layers). */
function checkpointLayers(file: string): Layers {
  const { tensors } = loadSafetensorsWithMetadata(file);
  try {
    const out: Layers = {};
    for (const name of LAYERS) {
      const mask = values(tensors.get(`model.${name}.weight_mask`)!);
      const m = tensors.get(`model.${name}.weight_m`);
      const w = m && values(tensors.get(`model.${name}.weight_w`)!);
      const weight = m ? values(m).map((mv, i) => Math.fround(Math.fround(mv * w![i]) * mask[i])) : values(tensors.get(`model.${name}.weight`)!);
      out[name] = { weight, mask };
    }
    return out;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

describe('a config with a transfer section', () => {
  const dir = tmpDir('sign-transfer-config-');
  const runsDir = path.join(dir, 'runs');
  writeIdxSet(path.join(dir, 'data'), fashionImages(400), false);
  const base = {
    dataset: { name: 'mnist' as const, root: path.join(dir, 'data'), augment: false, maxTrainBatches: 2 },
    model: { name: 'mlp', options: { hidden: [24, 12] } },
    optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
    epochs: 2,
    batchSize: 32,
    threads: 1,
  };
  let sourceDir = '';
  /** The masked layers' θ and masks when each target run's training started. */
  const starts: Layers[] = [];
  let fit: jest.SpyInstance;

  beforeAll(async () => {
    setLogger(pino({ level: 'silent' }));
    const original = Trainer.prototype.fit;
    fit = jest.spyOn(Trainer.prototype, 'fit').mockImplementation(function (this: Trainer) {
      starts.push(Object.fromEntries(maskedLayers(this.ctx.model).map(([n, l]) => [n, { weight: values(l.weight), mask: values(l.mask) }])));
      return original.call(this);
    });
    const source = parseConfig({ ...base, pruning: { method: 'random', sparsity: 0.8 }, signin: { enabled: true, beta: 1.5 }, seed: 1 });
    sourceDir = createRunDir(runsDir, source).dir;
    await trainFromConfig(source, sourceDir);
    starts.length = 0;
  });
  afterAll(() => {
    fit.mockRestore();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const target = (transfer: object, extra: Partial<ExperimentConfigInput> = {}) => parseConfig({ ...base, transfer, seed: 7, ...extra });
  /** The target's fresh init, built here: the runner seeds, then builds the model. */
  const freshInit = (): Record<string, number[]> => {
    manualSeed(7);
    const model = createModel('mlp', { numClasses: 10, inChannels: 1, inputSize: 28, hidden: [24, 12] });
    const out = Object.fromEntries(maskedLayers(model).map(([n, l]) => [n, values(l.weight)]));
    model.dispose();
    return out;
  };
  const train = async (config: ReturnType<typeof target>, runs = runsDir): Promise<{ runDir: string; start: Layers }> => {
    const { dir: runDir } = createRunDir(runs, config);
    starts.length = 0;
    await trainFromConfig(config, runDir);
    return { runDir, start: starts[0] };
  };

  test("'signs' (from a sibling run, relative): the source's mask and signs with the fresh init's magnitudes; provenance in transfer.json", async () => {
    const { runDir, start } = await train(target({ from: path.basename(sourceDir), kind: 'signs' }));
    const src = checkpointLayers(runPaths(sourceDir).checkpoint);
    const init = freshInit();
    for (const name of LAYERS) {
      expect(start[name].mask).toEqual(src[name].mask);
      const want = src[name].weight.map((v, j) => (src[name].mask[j] ? Math.sign(v) * Math.abs(init[name][j]) : 0));
      expect(start[name].weight).toEqual(want);
      // Not vacuous: inside the mask the source's signs differ from the init's somewhere, and so
      // do the magnitudes, so neither a plain fresh init nor a copy of the source passes.
      const kept = want.map((_, j) => j).filter((j) => src[name].mask[j]);
      expect(kept.some((j) => Math.sign(src[name].weight[j]) !== Math.sign(init[name][j]))).toBe(true);
      expect(kept.some((j) => Math.abs(src[name].weight[j]) !== Math.abs(init[name][j]))).toBe(true);
    }
    const record = JSON.parse(fs.readFileSync(path.join(runDir, 'transfer.json'), 'utf8'));
    const header = loadSafetensorsHeader(runPaths(sourceDir).checkpoint);
    expect(record).toEqual({
      from: sourceDir, kind: 'signs', sourceConfigHash: path.basename(sourceDir).slice('train_'.length), sourceSparsity: 0.8,
      checkpoint: 'checkpoint.safetensors', epoch: 2, step: 4, sha256: header.metadata.signin_torch_sha256, layers: 3,
    });
    expect(readFinal(runDir)?.epoch).toBe(2);
  });

  test("'magnitudes' at epoch 1 (the source's previous checkpoint) under Sign-In: θ = m·w is the split of |θ_src|·sign(θ_init)", async () => {
    const { start } = await train(target({ from: sourceDir, kind: 'magnitudes', epoch: 1 }, { signin: { enabled: true, beta: 2, resetPeriod: 0 } }));
    const src = checkpointLayers(runPaths(sourceDir).checkpointPrev);
    const init = freshInit();
    for (const name of LAYERS) {
      expect(start[name].mask).toEqual(src[name].mask);
      start[name].weight.forEach((g, j) => {
        const want = src[name].mask[j] ? Math.abs(src[name].weight[j]) * Math.sign(init[name][j]) : 0;
        expect(Math.abs(g - want)).toBeLessThanOrEqual(2e-6 * Math.abs(want));
      });
    }
    // The two checkpoints differ, so the reference above is epoch 1's and not the last one's.
    const last = checkpointLayers(runPaths(sourceDir).checkpoint);
    expect(LAYERS.some((n) => last[n].weight.some((v, j) => v !== src[n].weight[j]))).toBe(true);
  });

  test("'mask' keeps the fresh init entirely, on the source's mask", async () => {
    const { start } = await train(target({ from: sourceDir, kind: 'mask' }));
    const src = checkpointLayers(runPaths(sourceDir).checkpoint);
    const init = freshInit();
    for (const name of LAYERS) {
      expect(start[name].mask).toEqual(src[name].mask);
      expect(start[name].weight).toEqual(init[name].map((v, j) => (src[name].mask[j] ? v : 0)));
    }
  });

  test('a resumed transfer run loads its checkpoint and does not transfer again (the source may be gone)', async () => {
    const config = target({ from: sourceDir, kind: 'signs', epoch: 2 });
    const { runDir: a } = await train(config, path.join(dir, 'runs-a'));
    const { dir: b } = createRunDir(path.join(dir, 'runs-b'), config);
    fs.copyFileSync(runPaths(a).checkpointPrev, runPaths(b).checkpoint);
    const hidden = `${sourceDir}.away`;
    fs.renameSync(sourceDir, hidden);
    try {
      starts.length = 0;
      const r = await trainFromConfig(config, b);
      expect(r.resumedFrom).toBe(1);
    } finally {
      fs.renameSync(hidden, sourceDir);
    }
    expect(starts[0]).toEqual(checkpointLayers(runPaths(a).checkpointPrev));
    expect(fs.existsSync(path.join(b, 'transfer.json'))).toBe(false);
    expect(checkpointLayers(runPaths(b).checkpoint)).toEqual(checkpointLayers(runPaths(a).checkpoint));
  });

  test('a missing source, a missing epoch, an unfinished source and another model are refused with the documented errors', async () => {
    const refused = async (config: ReturnType<typeof target>) => {
      const { dir: runDir } = createRunDir(path.join(dir, 'runs-refused'), config);
      const e = await trainFromConfig(config, runDir).then(() => undefined, (err: unknown) => err as Error & { code?: string; issues?: { path: string; message: string }[] });
      expect(e).toBeDefined();
      expect(fs.existsSync(runPaths(runDir).checkpoint)).toBe(false);
      return e!;
    };
    // A missing source is refused when the config is resolved, before its run directory exists.
    const missing = errorOf(() => createRunDir(path.join(dir, 'runs-missing'), target({ from: 'train_nope', kind: 'signs' }))) as Error & { code?: string; issues?: unknown[] };
    expect(missing.code).toBe('ERR_CONFIG');
    expect(missing.issues).toEqual([{ code: 'missing_source', path: 'transfer.from', message: expect.stringContaining(path.join(dir, 'runs-missing', 'train_nope')) }]);
    expect(fs.existsSync(path.join(dir, 'runs-missing'))).toBe(false);

    const epoch = await refused(target({ from: sourceDir, kind: 'signs', epoch: 5 }));
    expect(epoch.issues).toEqual([{ code: 'missing_epoch', path: 'transfer.epoch', message: expect.stringContaining('epochs 1, 2, but received 5') }]);

    const unfinished = path.join(dir, 'runs-refused', 'unfinished');
    fs.cpSync(sourceDir, unfinished, { recursive: true });
    fs.rmSync(runPaths(unfinished).final);
    const notDone = await refused(target({ from: unfinished, kind: 'signs' }));
    expect(notDone.issues).toEqual([{ code: 'not_finished', path: 'transfer.epoch', message: expect.stringContaining('its checkpoints hold epochs: 1, 2') }]);

    const other = await refused(target({ from: sourceDir, kind: 'signs' }, { model: { name: 'mlp', options: { hidden: [24, 8] } } }));
    expect(other.code).toBe('ERR_CONFIG');
    expect(other.issues!.map((i) => i.path)).toEqual(['fc2', 'fc3']);
    expect(other.issues![0].message).toBe("Expected shape [8, 24] (this model) but the source's 'fc2' has [12, 24]");

    // An absolute source is checked before a run directory exists (the CLI and sweeps call checkRunnable).
    const { checkRunnable } = await import('../../src/experiments/runner');
    expect(errorOf(() => checkRunnable(target({ from: path.join(dir, 'absent'), kind: 'mask' }))).code).toBe('ERR_CONFIG');
  });

  test('the schema: kind required, sparsify and pruning refused with it; unresolved, every field is hashed as written', () => {
    const issues = (raw: object) => {
      const r = safeParseConfig({ ...base, ...raw });
      return r.success ? [] : r.issues.map((i) => i.path);
    };
    expect(issues({ transfer: { from: 'x' } })).toEqual(['transfer.kind']);
    expect(issues({ transfer: { from: 'x', kind: 'signs', epoch: 0 } })).toEqual(['transfer.epoch']);
    expect(issues({ transfer: { from: 'x', kind: 'signs' }, sparsify: { method: 'rigl', sparsity: 0.9 } })).toEqual(['sparsify']);
    expect(issues({ transfer: { from: 'x', kind: 'signs' }, pruning: { method: 'random', sparsity: 0.9 } })).toEqual(['pruning.method']);
    const hashes = [
      { from: 'a', kind: 'signs' }, { from: 'b', kind: 'signs' }, { from: 'a', kind: 'mask' }, { from: 'a', kind: 'signs', epoch: 3 },
    ].map((t) => configHash(parseConfig({ ...base, transfer: t })));
    expect(new Set([...hashes, configHash(parseConfig(base))]).size).toBe(5);
  });

  test('the example sweep fashion-mnist-transfer-90.json: signs and mask from each of 6 sources, seed 10, the pair differing only in kind', () => {
    const { runs } = loadSweepFile(path.join(__dirname, '../../examples/configs/sparsify/fashion-mnist-transfer-90.json'));
    expect(runs).toHaveLength(12);
    const froms = new Set(runs.map((r) => r.config.transfer!.from));
    expect(froms.size).toBe(6);
    for (const from of froms) {
      expect(path.isAbsolute(from)).toBe(false);
      const pair = runs.filter((r) => r.config.transfer!.from === from).map((r) => r.config);
      expect(pair.map((c) => c.transfer!.kind).sort()).toEqual(['mask', 'signs']);
      expect({ ...pair[0], transfer: undefined }).toEqual({ ...pair[1], transfer: undefined });
    }
    expect(new Set(runs.map((r) => r.config.seed))).toEqual(new Set([10]));
  });

  test('labels: the kind, and no sparsity (the source has it, the config does not)', () => {
    expect(runLabel(parseConfig({ ...base, transfer: { from: 'a', kind: 'signs' } }))).toBe('Transfer (signs)');
    expect(runLabel(parseConfig({ ...base, transfer: { from: 'a', kind: 'mask' }, signin: { enabled: true } }))).toBe('Transfer (mask) + Sign-In');
  });
});
