/**
 * The per-layer β of a Sign-In run's metrics rows against PyTorch computing mean(m² − w²) over
 * each layer's kept weights in float64 from the checkpoints: `betaPerLayer` at the end of the
 * last epoch (no reset there) from the run's checkpoint, and `betaBeforeResetPerLayer` of epoch 1
 * from the checkpoint of a twin run that stops after epoch 1 (same seed, constant learning rate:
 * the same first epoch, checked, and no reset after its last epoch). Weighted by the layers' kept
 * counts, both give the row's mean over all layers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { createRunDir, parseConfig, readMetrics, runPaths, type ExperimentConfig, type MetricsRow } from '../../../src/experiments';
import { trainFromConfig } from '../../../src/experiments/runner';
import { setLogger } from '../../../src';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';
import { describeWithTorch } from '../../helpers/torch-ref';
import { runPython } from '../../helpers/torchvision';

/** Per masked layer of a checkpoint: the float64 mean of m² − w² over mask ≠ 0, and the kept count. */
function referenceBeta(checkpoint: string): Record<string, { beta: number; kept: number }> {
  return JSON.parse(runPython(`
import sys
_NP.update({'I8': np.int8, 'BOOL': np.bool_})  # sign snapshots in the checkpoint, not read here
t = load(sys.argv[1])
out = {}
for k in t:
    if k.startswith('model.') and k.endswith('.weight_m'):
        p = k[:-len('_m')]
        keep = t[p + '_mask'] != 0
        b = (t[p + '_m'].double() ** 2 - t[p + '_w'].double() ** 2)[keep]
        out[p[len('model.'):-len('.weight')]] = {'beta': b.mean().item(), 'kept': int(keep.sum().item())}
print(json.dumps(out))
`, [checkpoint]).trim()) as Record<string, { beta: number; kept: number }>;
}

/** Σ kept · β / Σ kept over the layers of `perLayer`. */
function keptWeighted(perLayer: Record<string, number>, ref: Record<string, { kept: number }>): number {
  const names = Object.keys(perLayer);
  return names.reduce((a, n) => a + perLayer[n] * ref[n].kept, 0) / names.reduce((a, n) => a + ref[n].kept, 0);
}

function expectLayers(got: Record<string, number> | undefined, ref: Record<string, { beta: number }>): void {
  expect(Object.keys(got ?? {}).sort()).toEqual(Object.keys(ref).sort());
  for (const [name, r] of Object.entries(ref)) expect(Math.abs(got![name] - r.beta)).toBeLessThan(1e-12);
}

describeWithTorch('per-layer β of a Sign-In MLP run', () => {
  const dir = tmpDir('signin-layer-beta-');
  writeIdxSet(path.join(dir, 'data'), fashionImages(600), false); // 300 training images
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => setLogger(pino({ level: 'silent' })));

  const base = {
    dataset: { name: 'mnist', root: path.join(dir, 'data'), augment: false, dropLast: true },
    model: { name: 'mlp', options: { hidden: [32, 16] } },
    pruning: { method: 'random', sparsity: 0.8 },
    signin: { enabled: true, resetPeriod: 1 },
    optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 5e-3 },
    schedule: { name: 'constant' },
    batchSize: 64,
    threads: 1,
  };

  async function run(config: ExperimentConfig): Promise<{ rows: MetricsRow[]; checkpoint: string }> {
    const { dir: runDir } = createRunDir(path.join(dir, 'runs'), config);
    await trainFromConfig(config, runDir);
    return { rows: readMetrics(runDir), checkpoint: runPaths(runDir).checkpoint };
  }

  test('rows hold each layer’s mean over its kept weights, before the reset and at the end', async () => {
    const full = await run(parseConfig({ ...base, epochs: 2 }));
    const first = await run(parseConfig({ ...base, epochs: 1 }));
    // The twin trained the same first epoch.
    expect(first.rows[0].trainLoss).toBe(full.rows[0].trainLoss);
    expect(first.rows[0].signFlips).toEqual(full.rows[0].signFlips);
    expect(first.rows[0].betaBeforeReset).toBeUndefined();

    const [r1, r2] = full.rows;
    const layers = Object.keys(r1.signFlips!.perLayer);
    expect(layers).toEqual(['fc1', 'fc2', 'fc3']);
    for (const r of [r1, r2]) expect(Object.keys(r.betaPerLayer!)).toEqual(layers);
    expect(Object.keys(r1.betaBeforeResetPerLayer!)).toEqual(layers);
    expect(r2.betaBeforeResetPerLayer).toBeUndefined();

    const before = referenceBeta(first.checkpoint);
    const end = referenceBeta(full.checkpoint);
    expectLayers(r1.betaBeforeResetPerLayer, before);
    expectLayers(first.rows[0].betaPerLayer, before);
    expectLayers(r2.betaPerLayer, end);
    // SGD and weight decay wore every layer's β down from 1 in the epoch before the reset.
    for (const b of Object.values(before)) expect(b.beta).toBeLessThan(0.999);

    // Weighted by the kept counts, the layers give the row's mean over all of them.
    expect(Math.abs(keptWeighted(r1.betaBeforeResetPerLayer!, before) - r1.betaBeforeReset!)).toBeLessThan(1e-12);
    expect(Math.abs(keptWeighted(r2.betaPerLayer!, end) - r2.meanBeta!)).toBeLessThan(1e-12);
    expect(Math.abs(keptWeighted(r1.betaPerLayer!, before) - r1.meanBeta!)).toBeLessThan(1e-12);
  }, 120_000);
});
