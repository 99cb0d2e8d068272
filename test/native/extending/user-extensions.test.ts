/**
 * The path a researcher takes: their own dataset, model and pruner, registered from their own
 * script, named by a config and trained by trainFromConfig with Sign-In, interrupted and resumed,
 * then reported. Each extension point is checked against what it defines, computed here in
 * float64 from the raw data, not against our own output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import {
  ArrayDataset, centerCrop, createRunDir, InterruptedError, loadSafetensors, MaskedLinear, Model, normalize, parseConfig, randomHorizontalFlip,
  readFinal, readMetrics, registerDataset, registerModel, registerPruner, setLogger, tensor, tidy, toTensor, trainFromConfig, writeReport,
  type Pruner, type ScoreContext, type Tensor,
} from '../../../src';
import { tmpDir } from '../../helpers/data-fixtures';

const dir = tmpDir('user-ext-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const N = 24;
const C = 2;
const SIDE = 4;
const CLASSES = 3;
const MEAN = [0.5, 0.25];
const STD = [0.2, 0.4];
const pixel = (i: number) => (i * 37 + 11) % 256;
const images = Uint8Array.from({ length: N * SIDE * SIDE * C }, (_, i) => pixel(i));
const labels = Uint8Array.from({ length: N }, (_, i) => i % CLASSES);

/** Sums of the model's inputs by channel, per call of forward: what the loader's batches were. */
const seen: { shape: number[]; sum: number[]; sumSq: number[] }[] = [];

/** Global average pool, then one masked linear layer: inputs of any size, C·classes + classes parameters. */
class PoolLinear extends Model {
  readonly outputLayerName = 'fc';
  readonly inputShape: readonly number[];
  readonly fc: MaskedLinear;

  constructor(o: { numClasses: number; inChannels: number; inputSize: number }) {
    super();
    this.inputShape = [o.inChannels, o.inputSize, o.inputSize];
    this.fc = this.registerModule('fc', new MaskedLinear(o.inChannels, o.numClasses));
  }

  forward(x: Tensor): Tensor {
    const xs = x.detach();
    const [n, c, h, w] = xs.shape;
    const v = xs.toArray() as unknown as Float32Array;
    const sum = new Array<number>(c).fill(0);
    const sumSq = new Array<number>(c).fill(0);
    for (let i = 0; i < v.length; i++) {
      const ch = Math.floor(i / (h * w)) % c;
      sum[ch] += v[i];
      sumSq[ch] += v[i] * v[i];
    }
    seen.push({ shape: [n, c, h, w], sum, sumSq });
    xs.dispose();
    return tidy(() => this.fc.forward(x.mean([2, 3])));
  }
}

/** Scores a weight by its flat position, earliest highest: the mask keeps each layer's first entries. */
class KeepFirst implements Pruner {
  readonly name = 'keep_first_user';
  readonly needsData = false;
  readonly defaultIterations = 1;

  score(_model: unknown, ctx: ScoreContext) {
    return new Map(ctx.weights.map((w) => {
      const n = w.weight.numel;
      return [w.name, tensor(Float32Array.from({ length: n }, (_, i) => n - i)).reshape(w.weight.shape)] as const;
    }));
  }
}

const positive = (p: string, v: unknown) => {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${p} must be a positive integer`);
  return v;
};

beforeAll(() => {
  registerDataset('user_toy', (o) => new ArrayDataset({ images, labels: [...labels], width: SIDE, height: SIDE, channels: C, numClasses: CLASSES, name: 'user_toy' }), {
    transforms: { train: [randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)], eval: [centerCrop(2), toTensor(), normalize(MEAN, STD)] },
  });
  registerModel({
    name: 'user_pool_linear',
    description: 'global average pool + one masked linear layer',
    options: { numClasses: { default: CLASSES, check: positive }, inChannels: { default: C, check: positive }, inputSize: { default: SIDE, check: positive } },
    create: (o) => new PoolLinear(o as { numClasses: number; inChannels: number; inputSize: number }),
  });
  registerPruner('keep_first_user', () => new KeepFirst());
});

const config = () => parseConfig({
  dataset: { name: 'user_toy' }, model: { name: 'user_pool_linear' }, epochs: 2, batchSize: 8, threads: 1, seed: 3,
  pruning: { method: 'keep_first_user', sparsity: 0.5, scope: 'layerwise', distribution: 'uniform', denseLast: false }, signin: { enabled: true },
});

test('a user dataset, model and pruner train from a config with Sign-In, resume after an interruption, and report', async () => {
  const runs = path.join(dir, 'runs');
  const run = createRunDir(runs, config()).dir;
  const abort = new AbortController();
  // Stop at the first step after epoch 1 is done, as Ctrl-C would.
  setLogger(pino({ level: 'info' }, { write: (line: string) => { if (JSON.parse(line).msg === 'epoch done') abort.abort(); } }));
  await expect(trainFromConfig(config(), run, { signal: abort.signal })).rejects.toBeInstanceOf(InterruptedError);
  setLogger(pino({ level: 'silent' }));
  expect(readFinal(run)).toBeUndefined();

  seen.length = 0;
  const result = await trainFromConfig(config(), run);
  expect(result.resumedFrom).toBe(1);
  expect(readFinal(run)?.epoch).toBe(2);
  expect(readMetrics(run).map((m) => m.epoch)).toEqual([1, 2]);

  // The model: C·classes weights (under Sign-In, its factors m and w) + classes biases.
  const ckpt = loadSafetensors(path.join(run, 'checkpoint.safetensors'));
  expect([...ckpt.keys()].filter((k) => k.startsWith('model.')).sort()).toEqual(['model.fc.bias', 'model.fc.weight_m', 'model.fc.weight_mask', 'model.fc.weight_w']);
  expect(ckpt.get('model.fc.weight_m')!.numel + ckpt.get('model.fc.bias')!.numel).toBe(C * CLASSES + CLASSES);
  // The pruner: uniform density 0.5 keeps the first half of the flat weight, through the resume.
  expect(ckpt.get('model.fc.weight_mask')!.reshape([C * CLASSES]).toArray()).toEqual([1, 1, 1, 0, 0, 0]);
  for (const t of ckpt.values()) t.dispose();

  // The dataset: the resumed epoch saw every image once through the train pipeline (flips move
  // pixels, not their per-channel sums), normalized with the registered mean and std.
  const train = seen.filter((s) => s.shape[2] === SIDE);
  expect(train.reduce((n, s) => n + s.shape[0], 0)).toBe(N);
  const perChannel = SIDE * SIDE;
  for (let ch = 0; ch < C; ch++) {
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < N; i++) {
      for (let p = 0; p < perChannel; p++) {
        const x = (pixel((i * perChannel + p) * C + ch) / 255 - MEAN[ch]) / STD[ch]; // HWC bytes
        sum += x;
        sumSq += x * x;
      }
    }
    expect(train.reduce((a, s) => a + s.sum[ch], 0)).toBeCloseTo(sum, 2);
    expect(train.reduce((a, s) => a + s.sumSq[ch], 0)).toBeCloseTo(sumSq, 1);
  }
  // The eval pipeline is the registered one: 2×2 center crops.
  expect(seen.filter((s) => s.shape[2] !== SIDE).map((s) => s.shape.slice(1))).toContainEqual([C, 2, 2]);
  expect(seen.every((s) => s.shape[2] === SIDE || s.shape[2] === 2)).toBe(true);

  const report = await writeReport(runs, path.join(dir, 'report'));
  expect(fs.readFileSync(path.join(dir, 'report', 'report.md'), 'utf8')).toMatch(/user_pool_linear|user_toy/);
  expect(report).toBeDefined();
}, 120_000);

test("a registered dataset's info builds the model, and model options that contradict it are refused before a run directory", async () => {
  const n = 12;
  // 3×28×28 images of 5 classes: LeNet-5's defaults (1 channel, 10 classes) would fail in the run.
  registerDataset('user_rgb', () => new ArrayDataset({ images: new Uint8Array(n * 3 * 28 * 28), labels: Array.from({ length: n }, (_, i) => i % 5), width: 28, height: 28, channels: 3, numClasses: 5 }), {
    info: { numClasses: 5, inChannels: 3, inputSize: 28 },
  });
  setLogger(pino({ level: 'silent' }));
  const runs = path.join(dir, 'info-runs');
  const ok = parseConfig({ dataset: { name: 'user_rgb' }, model: { name: 'lenet5' }, epochs: 1, batchSize: 6, threads: 1 });
  const run = createRunDir(runs, ok).dir;
  expect(await trainFromConfig(ok, run)).toMatchObject({ epoch: 1 });
  const ckpt = loadSafetensors(path.join(run, 'checkpoint.safetensors'));
  // LeNet-5 built for the info: conv1 takes 3 channels, fc3 has 5 outputs.
  expect([ckpt.get('model.conv1.weight')!.shape, ckpt.get('model.fc3.weight')!.shape[0]]).toEqual([[6, 3, 5, 5], 5]);
  for (const t of ckpt.values()) t.dispose();

  const { checkRunnable } = await import('../../../src/experiments/runner');
  const wrong = parseConfig({ dataset: { name: 'user_rgb' }, model: { name: 'lenet5', options: { numClasses: 2, inChannels: 1 } }, epochs: 1, batchSize: 6, threads: 1 });
  expect(() => checkRunnable(wrong, runs)).toThrow(/model\.options\.numClasses: Expected 5 \(the classes of dataset 'user_rgb'\) or no value but received 2[^]*model\.options\.inChannels: Expected 3 \(the image channels of dataset 'user_rgb'\)/);
}, 120_000);
