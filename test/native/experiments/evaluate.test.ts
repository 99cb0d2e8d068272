/**
 * `signin-torch evaluate` / evaluateRun: a trained run's checkpoint (its newest, a kept epoch's,
 * or a file) evaluated again. The reference is the MLP's forward computed here in float64 from
 * the checkpoint's raw tensors (θ = mask ⊙ m ⊙ w for Sign-In layers) and the IDX bytes written
 * by the test, with Fashion-MNIST's published normalization; the run's own records must agree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { loadSafetensors, setLogger, type Tensor } from '../../../src';
import { createRunDir, parseConfig } from '../../../src/experiments';
import { evaluateRun } from '../../../src/experiments/evaluate';
import { keptCheckpointPath } from '../../../src/experiments/paths';
import { trainFromConfig } from '../../../src/experiments/runner';
import { readFinal, readMetrics } from '../../../src/experiments/runs';
import { fashionImages, tmpDir, writeIdxSet, type GreyImages } from '../../helpers/data-fixtures';
import { cli } from '../../helpers/cli';
import { rejectionOf } from '../../helpers/error-of';

const dir = tmpDir('evaluate-');
const data = path.join(dir, 'data');
const split = writeIdxSet(data, fashionImages(48), false);
const HIDDEN = 12;
const MEAN = 0.286;
const STD = 0.353;

function config(extra: Record<string, unknown> = {}) {
  return parseConfig({
    dataset: { name: 'fashion_mnist', root: data, augment: false },
    model: { name: 'mlp', options: { hidden: [HIDDEN] } },
    pruning: { method: 'random', sparsity: 0.6 },
    signin: { enabled: true, resetPeriod: 1 },
    optimizer: { lr: 0.05, momentum: 0.9 },
    epochs: 3, batchSize: 8, threads: 1, seed: 3,
    checkpoint: { keepEpochs: [1] },
    ...extra,
  });
}

/** The error a promise rejects with; a test that expected one fails when it resolves. */

let run: string;
beforeAll(async () => {
  setLogger(pino({ level: 'silent' }));
  run = createRunDir(path.join(dir, 'runs'), config()).dir;
  await trainFromConfig(config(), run);
}, 120000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The values of a stored tensor (float32, or bool masks) in float64. */
function f64(t: Tensor): Float64Array {
  return Float64Array.from(t.toArray());
}

/** The effective weight of a layer from a checkpoint's raw tensors: mask ⊙ weight, or mask ⊙ m ⊙ w under Sign-In. */
function layer(state: Map<string, Tensor>, name: string): { w: Float64Array; b: Float64Array } {
  const get = (k: string) => { const t = state.get(`model.${k}`); if (!t) throw new Error(`no model.${k} in the checkpoint`); return f64(t); };
  const mask = get(`${name}.weight_mask`);
  const theta = state.has(`model.${name}.weight_m`) ? (() => { const m = get(`${name}.weight_m`); const w = get(`${name}.weight_w`); return m.map((x, i) => x * w[i]); })() : get(`${name}.weight`);
  return { w: theta.map((x, i) => x * mask[i]), b: get(`${name}.bias`) };
}

/** Loss, top-1, top-5 and the kept fraction of the MLP in float64. */
function reference(file: string, images: GreyImages): { loss: number; top1: number; top5: number; kept: number; numel: number } {
  const state = loadSafetensors(file);
  const fc1 = layer(state, 'fc1');
  const fc2 = layer(state, 'fc2');
  let loss = 0; let top1 = 0; let top5 = 0;
  for (let n = 0; n < images.count; n++) {
    const x = Array.from(images.images.subarray(n * 784, (n + 1) * 784), (p) => (p / 255 - MEAN) / STD);
    const h = Array.from({ length: HIDDEN }, (_, j) => Math.max(0, fc1.b[j] + x.reduce((s, v, i) => s + v * fc1.w[j * 784 + i], 0)));
    const z = Array.from({ length: 10 }, (_, c) => fc2.b[c] + h.reduce((s, v, j) => s + v * fc2.w[c * HIDDEN + j], 0));
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    const label = images.labels[n];
    loss += lse - z[label];
    const above = z.filter((v) => v > z[label]).length;
    top1 += above === 0 ? 1 : 0;
    top5 += above < 5 ? 1 : 0;
  }
  const masks = ['fc1', 'fc2'].map((k) => f64(state.get(`model.${k}.weight_mask`)!));
  for (const t of state.values()) t.dispose();
  return { loss: loss / images.count, top1: top1 / images.count, top5: top5 / images.count, kept: masks.reduce((s, m) => s + m.filter((v) => v !== 0).length, 0), numel: masks.reduce((s, m) => s + m.length, 0) };
}

function expectMatches(r: { loss: number; top1: number; top5: number; sparsity: { kept: number; numel: number } }, ref: ReturnType<typeof reference>): void {
  expect(r.top1).toBeCloseTo(ref.top1, 12);
  expect(r.top5).toBeCloseTo(ref.top5, 12);
  expect(Math.abs(r.loss - ref.loss)).toBeLessThan(1e-4 * Math.max(1, ref.loss));
  expect(r.sparsity).toEqual({ kept: ref.kept, numel: ref.numel, sparsity: 1 - ref.kept / ref.numel });
}

describe('evaluateRun', () => {
  it("the newest checkpoint gives the float64 forward's loss and accuracy, and the run's own final accuracy", async () => {
    const r = await evaluateRun(run);
    expect(r).toMatchObject({ checkpoint: path.join(run, 'checkpoint.safetensors'), position: { epoch: 3 }, split: 'test', dataset: 'fashion_mnist', examples: split.test.count });
    expectMatches(r, reference(r.checkpoint, split.test));
    expect(r.sparsity.sparsity).toBeCloseTo(0.6, 2);
    const final = readFinal(run)!;
    expect(r.top1).toBe(final.testAcc);
    expect(r.recordedTop1).toBe(final.testAcc);
  });

  it("a kept epoch's checkpoint (--epoch) matches the reference and that epoch's metrics row", async () => {
    const r = await evaluateRun(run, { epoch: 1 });
    expect(r.checkpoint).toBe(keptCheckpointPath(run, 1));
    expect(r.position.epoch).toBe(1);
    expectMatches(r, reference(r.checkpoint, split.test));
    expect(r.recordedTop1).toBe(readMetrics(run).find((m) => m.epoch === 1)!.testAcc);
    // The rolling one before the last holds epoch 2.
    expect((await evaluateRun(run, { epoch: 2 })).checkpoint).toBe(path.join(run, 'checkpoint.prev.safetensors'));
  });

  it('the training split is evaluated without augmentation, and a checkpoint file can be given', async () => {
    const copy = path.join(dir, 'copy.safetensors');
    fs.copyFileSync(keptCheckpointPath(run, 1), copy);
    const r = await evaluateRun(run, { split: 'train', checkpoint: copy });
    expect(r).toMatchObject({ split: 'train', examples: split.train.count, checkpoint: copy });
    expect(r.recordedTop1).toBeUndefined();
    expectMatches(r, reference(copy, split.train));
  });

  it('bad arguments are named before anything is loaded', async () => {
    expect((await rejectionOf(evaluateRun(run, { epoch: 7 }))).message).toBe(`Expected one of the epochs whose end ${run} holds a checkpoint of (1, 2, 3: its last two, and those checkpoint.keepEpochs / keepEvery kept) for epoch but received 7 of type number`);
    expect((await rejectionOf(evaluateRun(run, { epoch: 1, checkpoint: keptCheckpointPath(run, 1) }))).message).toMatch(/^Expected no epoch when a checkpoint file is given .* for epoch but received 1 of type number$/);
    expect((await rejectionOf(evaluateRun(run, { checkpoint: path.join(dir, 'none.safetensors') }))).message).toMatch(/^Expected an existing checkpoint file for checkpoint but received '.*none\.safetensors' of type string$/);
    expect((await rejectionOf(evaluateRun(run, { checkpoint: path.join(run, 'config.json', 'x') }))).message).toMatch(/^Expected a path that can be read \(ENOTDIR: .*\) for checkpoint but received/);
    expect((await rejectionOf(evaluateRun(run, { split: 'val' as never }))).message).toBe("Expected one of test, train for split but received 'val' of type string");
    expect((await rejectionOf(evaluateRun(data))).message).toBe(`Expected a run directory (a folder holding config.json) for runDir but received '${data}' of type string`);
    expect((await rejectionOf(evaluateRun(run, null as never))).code).toBe('ERR_INVALID_ARG');
    const gpu = await rejectionOf(evaluateRun(run, { device: 'cuda:99' }));
    expect(gpu.code).toBe('ERR_INVALID_ARG');
    expect(gpu.message).toMatch(/^Cannot evaluate on device 'cuda:99':\n\tdevice: Expected .* but received 'cuda:99' \(libtorch sees \d+ CUDA devices?/);
    const fresh = createRunDir(path.join(dir, 'runs'), config({ seed: 4 })).dir;
    expect((await rejectionOf(evaluateRun(fresh))).message).toMatch(/^Expected a run directory with a checkpoint \(this run has saved none yet: train it first\) for runDir/);
  });

  it("another model's checkpoint is refused, naming what does not fit", async () => {
    const other = createRunDir(path.join(dir, 'runs'), config({ model: { name: 'mlp', options: { hidden: [HIDDEN + 1] } }, seed: 5 })).dir;
    const e = await rejectionOf(evaluateRun(other, { checkpoint: path.join(run, 'checkpoint.safetensors') }));
    expect(e.code).toBe('ERR_STATE_DICT');
    expect(e.message).toMatch(/fc1\.(weight|m|w|mask)/);
  });
});

describe('signin-torch evaluate', () => {
  it('--json prints what evaluateRun returns; the text names the checkpoint, top-1 and the recorded top-1', async () => {
    const json = await cli(['evaluate', run, '--epoch', '1', '--json']);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.out) as { top1: number; recordedTop1: number; checkpoint: string };
    expect(r).toEqual(JSON.parse(JSON.stringify(await evaluateRun(run, { epoch: 1 }))));
    const textOut = await cli(['evaluate', run]);
    expect(textOut.code).toBe(0);
    const final = readFinal(run)!;
    const pct = `${(100 * final.testAcc).toFixed(2)}%`;
    expect(textOut.out).toContain(`${path.join(run, 'checkpoint.safetensors')} (epoch 3, step `);
    expect(textOut.out).toContain(`on the test split of fashion_mnist, ${split.test.count} examples\ntop-1 ${pct}  top-5 `);
    expect(textOut.out).toContain(`the run recorded test top-1 ${pct} at this step`);
  });

  it('a bad flag is one ERR_INVALID_ARG line naming it', async () => {
    const r = await cli(['evaluate', run, '--epoch', '0']);
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toBe("ERR_INVALID_ARG: Expected --epoch to be a positive integer but received '0'\n");
    const missing = await cli(['evaluate', path.join(dir, 'nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`ERR_INVALID_ARG: Expected a run directory (a folder holding config.json) for runDir but received '${path.join(dir, 'nowhere')}' of type string\n`);
  });
});
