/**
 * signin.layerBeta: β per layer from a config. At init every Sign-In entry has m² − w² = β of its
 * layer (closed form, float64 from the factors), the split keeps θ, and after a run whose resets
 * restore each layer's own β the checkpoint's factors still hold it; the schema refuses a β that
 * is not positive.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { createModel, loadSafetensors, manualSeed, setLogger, applySignIn, maskedLayers, signinFactors } from '../../../src';
import { createRunDir, parseConfig, safeParseConfig } from '../../../src/experiments';
import { modelOptionsFor, signInOptionsFor } from '../../../src/experiments/resolve';
import { trainFromConfig } from '../../../src/experiments/runner';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';

const dir = tmpDir('layer-beta-');
const data = path.join(dir, 'data');
writeIdxSet(data, fashionImages(64), false);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeAll(() => setLogger(pino({ level: 'silent' })));

const raw = {
  dataset: { name: 'fashion_mnist', root: data },
  model: { name: 'lenet5', options: { batchNorm: true } },
  signin: { enabled: true, beta: 0.5, layerBeta: { fc3: 4, conv1: 2 }, resetPeriod: 1 },
  epochs: 2, batchSize: 8, threads: 1, seed: 2,
  checkpoint: { keepEpochs: [1] },
};
const EXPECTED: Record<string, number> = { conv1: 2, conv2: 0.5, fc1: 0.5, fc2: 0.5, fc3: 4 };

/** Mean and max deviation of m² − w² from β over the mask, in float64. */
function betaOf(m: number[], w: number[], mask: number[]): { mean: number; spread: number } {
  const b = m.flatMap((mi, i) => (mask[i] !== 0 ? [mi * mi - w[i] * w[i]] : []));
  const mean = b.reduce((s, v) => s + v, 0) / b.length;
  return { mean, spread: Math.max(...b.map((v) => Math.abs(v - mean))) };
}

test('at init each layer gets its own β, θ unchanged', () => {
  const config = parseConfig(raw);
  manualSeed(0);
  const model = createModel('lenet5', modelOptionsFor(config));
  const before = new Map(maskedLayers(model).map(([n, l]) => [n, l.weight.toArray()]));
  applySignIn(model, signInOptionsFor(config));
  for (const [name, layer] of maskedLayers(model)) {
    const f = signinFactors(layer)!;
    expect([name, f.beta]).toEqual([name, EXPECTED[name]]);
    const m = f.m.toArray();
    const w = f.w.toArray();
    const b = betaOf(m, w, layer.mask.toArray());
    expect(Math.abs(b.mean - EXPECTED[name])).toBeLessThan(1e-5 * EXPECTED[name]);
    expect(b.spread).toBeLessThan(1e-5 * EXPECTED[name]);
    const theta = before.get(name)!;
    expect(Math.max(...m.map((mi, i) => Math.abs(mi * w[i] - theta[i])))).toBeLessThan(1e-6);
  }
  model.dispose();
});

test("a trained run's resets restore each layer's own β (epoch 1's checkpoint, written after its reset); the last epoch, with no reset after it, drifts from it", async () => {
  const config = parseConfig(raw);
  const run = createRunDir(path.join(dir, 'runs'), config).dir;
  await trainFromConfig(config, run);
  const betas = (file: string) => {
    const state = loadSafetensors(path.join(run, file));
    const get = (name: string, k: string) => state.get(`model.${name}.${k}`)!.toArray();
    const out = Object.keys(EXPECTED).map((name) => [name, betaOf(get(name, 'weight_m'), get(name, 'weight_w'), get(name, 'weight_mask'))] as const);
    for (const t of state.values()) t.dispose();
    return out;
  };
  for (const [name, b] of betas('checkpoint.epoch-1.safetensors')) {
    expect([name, Math.abs(b.mean - EXPECTED[name]) < 1e-4 * EXPECTED[name], b.spread < 1e-4 * EXPECTED[name]]).toEqual([name, true, true]);
  }
  // The drift of one epoch's SGD, much smaller than the gaps between the layers' β.
  for (const [name, b] of betas('checkpoint.safetensors')) expect([name, Math.abs(b.mean - EXPECTED[name]) < 0.05 * EXPECTED[name]]).toEqual([name, true]);
}, 120000);

test('the schema refuses a β that is not positive, and an empty map', () => {
  const issues = (layerBeta: unknown) => {
    const r = safeParseConfig({ ...raw, signin: { ...raw.signin, layerBeta } });
    return r.success ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
  };
  expect(issues({ fc3: 0 })).toEqual([expect.stringMatching(/^signin\.layerBeta\.fc3: /)]);
  expect(issues({ fc3: -1 })).toHaveLength(1);
  expect(issues({})).toEqual([expect.stringMatching(/^signin\.layerBeta: Expected at least one layer/)]);
  expect(issues({ fc3: 3 })).toEqual([]);
});
