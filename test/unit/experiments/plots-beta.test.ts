/**
 * The report's β plot: per epoch, β before that epoch's reset (betaBeforeReset), or the
 * end-of-epoch meanBeta where no reset ran; only Sign-In runs; one SVG per table that has them.
 * And its per-layer heatmap, drawn only where rows have per-layer β.
 */
import * as fs from 'node:fs';
import { betaBeforeReset, betaBeforeResetPerLayer, betaLayerPoints, betaPerLayerSpec, betaPoints, betaSpec } from '../../../src/experiments/plots-beta';
import { loadRuns, writeReport } from '../../../src/experiments/report';
import { appendMetrics, createRunDir, writeFinal } from '../../../src/experiments/runs';
import { parseConfig } from '../../../src/experiments/schema';
import { base, removeDir, tempDir } from './fixtures';

let root: string;
// Two seeds of Random + Sign-In at 90%: β before the resets of epochs 1 and 2, then the un-reset
// meanBeta of the last epoch (no reset after training). Means per epoch: 0.85, 0.75, 0.7.
const BETAS = [[0.8, 0.7, 0.65], [0.9, 0.8, 0.75]];

beforeAll(() => {
  root = tempDir('beta');
  for (const signin of [false, true]) {
    BETAS.forEach((betas, seed) => {
      const config = parseConfig({ ...base, pruning: { method: 'random', sparsity: 0.9 }, signin: { enabled: signin }, seed });
      const { dir } = createRunDir(root, config);
      betas.forEach((b, i) => {
        const epoch = i + 1;
        const row = { epoch, step: 10 * epoch, trainLoss: 1, trainAcc: 0.5, testAcc: 0.5, lr: 0.1, epochSeconds: 1 };
        if (!signin) appendMetrics(dir, row);
        else if (epoch < 3) appendMetrics(dir, { ...row, betaBeforeReset: b, betaAfterReset: 1, meanBeta: 1 });
        else appendMetrics(dir, { ...row, meanBeta: b });
      });
      writeFinal(dir, { epoch: 3, step: 30, testAcc: 0.5 });
    });
  }
});
afterAll(() => removeDir(root));

test('the value per epoch: before the reset, else the un-reset end-of-epoch β', () => {
  const row = { epoch: 1, step: 1, trainLoss: 1, trainAcc: 0.5, lr: 0.1, epochSeconds: 1 };
  expect(betaBeforeReset({ ...row, betaBeforeReset: 0.6, meanBeta: 1 })).toBe(0.6);
  expect(betaBeforeReset({ ...row, meanBeta: 0.7 })).toBe(0.7);
  expect(betaBeforeReset(row)).toBeUndefined();
});

test('points of Sign-In runs only, labelled, per seed and epoch; the spec averages them', () => {
  const runs = loadRuns(root);
  const points = betaPoints(runs, (name) => (runs.find((r) => r.name === name)!.config.signin.enabled ? 'Random + Sign-In' : undefined), (s) => `${s * 100}%`);
  expect(points).toHaveLength(6);
  expect(points.every((p) => p.method === 'Random + Sign-In' && p.sparsity === '90%')).toBe(true);
  for (let seed = 0; seed < 2; seed++) {
    expect(points.filter((p) => p.seed === seed).sort((a, b) => a.epoch - b.epoch).map((p) => p.value)).toEqual(BETAS[seed]);
  }
  const spec = betaSpec(points, 't', { methods: ['Random', 'Random + Sign-In'], sparsities: ['90%'] }) as { spec: { layer: { encoding: { y: { aggregate?: string } } }[] } };
  expect(spec.spec.layer[1].encoding.y.aggregate).toBe('mean');
});

test('writeReport writes the β plot of the table with Sign-In runs', async () => {
  const res = await writeReport(root, `${root}/report`);
  const svg = res.files.filter((f) => /signin-beta_.*\.svg$/.test(f));
  expect(svg).toHaveLength(1);
  const text = fs.readFileSync(svg[0], 'utf8');
  expect(text.startsWith('<svg')).toBe(true);
  expect(text).toContain('Sign-In inner scaling');
  expect(res.markdown).toContain('signin-beta_');
  // These rows predate per-layer β: no per-layer plot.
  expect(res.files.filter((f) => /signin-beta-per-layer_/.test(f))).toEqual([]);
  expect(fs.readdirSync(`${root}/report`).filter((f) => f.includes('per-layer') && f.includes('beta'))).toEqual([]);
});

describe('per layer', () => {
  const row = { epoch: 1, step: 1, trainLoss: 1, trainAcc: 0.5, lr: 0.1, epochSeconds: 1 };
  // Two seeds, two layers: before the reset of epochs 1 and 2, then the un-reset last epoch.
  const LAYERS = [
    [{ conv1: 0.9, fc: 0.6 }, { conv1: 0.92, fc: 0.62 }, { conv1: 0.95, fc: 0.8 }],
    [{ conv1: 0.8, fc: 0.5 }, { conv1: 0.82, fc: 0.52 }, { conv1: 0.85, fc: 0.7 }],
  ];
  let dir: string;
  beforeAll(() => {
    dir = tempDir('beta-layers');
    LAYERS.forEach((epochs, seed) => {
      const config = parseConfig({ ...base, pruning: { method: 'random', sparsity: 0.9 }, signin: { enabled: true }, seed });
      const { dir: runDir } = createRunDir(dir, config);
      epochs.forEach((layers, i) => {
        const r = { ...row, epoch: i + 1, step: 10 * (i + 1), testAcc: 0.5 };
        if (i < 2) appendMetrics(runDir, { ...r, betaBeforeReset: 0.7, betaBeforeResetPerLayer: layers, betaAfterReset: 1, meanBeta: 1, betaPerLayer: { conv1: 1, fc: 1 } });
        else appendMetrics(runDir, { ...r, meanBeta: 0.9, betaPerLayer: layers });
      });
      writeFinal(runDir, { epoch: 3, step: 30, testAcc: 0.5 });
    });
  });
  afterAll(() => removeDir(dir));

  test('before the reset, else the end of an epoch without one; none after a reset', () => {
    expect(betaBeforeResetPerLayer({ ...row, betaBeforeReset: 0.6, betaBeforeResetPerLayer: { a: 0.6 }, betaPerLayer: { a: 1 } })).toEqual({ a: 0.6 });
    expect(betaBeforeResetPerLayer({ ...row, meanBeta: 0.7, betaPerLayer: { a: 0.7 } })).toEqual({ a: 0.7 });
    // An epoch resumed from a checkpoint without the per-layer sums: its end-of-epoch values are after the reset.
    expect(betaBeforeResetPerLayer({ ...row, betaBeforeReset: 0.6, meanBeta: 1, betaPerLayer: { a: 1 } })).toBeUndefined();
    expect(betaBeforeResetPerLayer(row)).toBeUndefined();
  });

  test('points per seed, epoch and layer in network order; the heatmap averages seeds', () => {
    const runs = loadRuns(dir);
    const { points, layers } = betaLayerPoints(runs, () => 'Random + Sign-In', (s) => `${s * 100}%`);
    expect(layers).toEqual(['conv1', 'fc']);
    expect(points).toHaveLength(12);
    for (const seed of [0, 1]) {
      for (const layer of ['conv1', 'fc'] as const) {
        const got = points.filter((p) => p.seed === seed && p.layer === layer).sort((a, b) => a.epoch - b.epoch).map((p) => p.value);
        expect(got).toEqual(LAYERS[seed].map((l) => l[layer]));
      }
    }
    const spec = betaPerLayerSpec(points, layers, 't', { methods: ['Random', 'Random + Sign-In'], sparsities: ['90%'] }) as { spec: { encoding: { color: { aggregate: string }; y: { sort: string[] } } } };
    expect(spec.spec.encoding.color.aggregate).toBe('mean');
    expect(spec.spec.encoding.y.sort).toEqual(['conv1', 'fc']);
  });

  test('one column per epoch up to 40 epochs, then neighbouring epochs share one', () => {
    type X = { spec: { encoding: { x: { title: string; scale: { domain: number[] }; axis: { values?: number[] } } } } };
    const at = (epochs: number) => (betaPerLayerSpec(Array.from({ length: epochs }, (_, i) => ({ method: 'm', sparsity: '90%', seed: 0, epoch: i + 1, layer: 'fc', value: 1 })), ['fc'], 't', { methods: ['m'], sparsities: ['90%'] }) as X).spec.encoding.x;
    expect(at(3)).toMatchObject({ title: 'epoch', scale: { domain: [0.5, 3.5] }, axis: { values: [1, 2, 3] } });
    expect(at(40)).toMatchObject({ title: 'epoch', scale: { domain: [0.5, 40.5] } });
    // 160 epochs: 40 columns of 4; 161 would need 41 of 4, so 33 of 5.
    expect(at(160)).toMatchObject({ title: 'epoch (cells of 4)', scale: { domain: [0.5, 160.5] } });
    expect(at(161)).toMatchObject({ title: 'epoch (cells of 5)', scale: { domain: [0.5, 165.5] } });
  });

  test('writeReport writes the per-layer plot beside the β plot', async () => {
    const res = await writeReport(dir, `${dir}/report`);
    const svg = res.files.filter((f) => /signin-beta-per-layer_.*\.svg$/.test(f));
    expect(svg).toHaveLength(1);
    const text = fs.readFileSync(svg[0], 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text).toContain('per layer and epoch');
    expect(res.markdown).toContain('signin-beta-per-layer_');
    expect(res.files.filter((f) => /signin-beta_.*\.svg$/.test(f))).toHaveLength(1);
  });
});
