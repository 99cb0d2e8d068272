/**
 * What trainFromConfig records about Sign-In and pruning data: β before each reset in
 * metrics.jsonl (and no reset after the last epoch, so the last row's meanBeta is the worn-down
 * value), the pruning-data options and dropLast in config.json, and dropLast's step count. The
 * last meanBeta is recomputed in PyTorch from the checkpoint's m, w and mask (float64).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRunDir, parseConfig, readMetrics, runPaths } from '../../../src/experiments';
import { trainFromConfig } from '../../../src/experiments/runner';
import { setLogger } from '../../../src';
import pino from 'pino';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';
import { describeWithTorch } from '../../helpers/torch-ref';
import { runPython } from '../../helpers/torchvision';

describeWithTorch('a Sign-In run with SNIP on balanced pruning data', () => {
  const dir = tmpDir('signin-run-stats-');
  writeIdxSet(path.join(dir, 'data'), fashionImages(600), false); // 300 training images
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => setLogger(pino({ level: 'silent' })));

  const config = parseConfig({
    dataset: { name: 'mnist', root: path.join(dir, 'data'), augment: false, dropLast: true },
    model: { name: 'lenet5', options: { batchNorm: true } },
    pruning: { method: 'snip', sparsity: 0.8, dataSamples: 30, dataBalanced: true },
    signin: { enabled: true, resetPeriod: 1 },
    optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 5e-3 },
    epochs: 2,
    batchSize: 64,
    threads: 1,
  });

  test('metrics, config and checkpoint agree', async () => {
    const { dir: runDir } = createRunDir(path.join(dir, 'runs'), config);
    await trainFromConfig(config, runDir);
    const rows = readMetrics(runDir);
    // 300 examples, batches of 64, the incomplete last batch dropped: 4 steps per epoch.
    expect(rows.map((r) => r.step)).toEqual([4, 8]);
    expect(rows[0].betaBeforeReset).toBeLessThan(0.999);
    expect(Math.abs(rows[0].betaAfterReset! - 1)).toBeLessThan(1e-5);
    expect(rows[1].betaBeforeReset).toBeUndefined();
    expect(rows[1].signinResets).toBe(1);
    expect(rows[1].meanBeta).toBeLessThan(0.999);

    const saved = JSON.parse(fs.readFileSync(runPaths(runDir).config, 'utf8'));
    expect(saved.pruning).toMatchObject({ dataSamples: 30, dataBalanced: true, synflowDtype: 'float64' });
    expect(saved.dataset.dropLast).toBe(true);

    const ref = JSON.parse(runPython(`
import sys
_NP.update({'I8': np.int8, 'BOOL': np.bool_})  # sign snapshots in the checkpoint, not read here
t = load(sys.argv[1])
tot, cnt = 0.0, 0
for k in t:
    if k.startswith('model.') and k.endswith('.weight_m'):
        p = k[:-len('_m')]
        keep = t[p + '_mask'] != 0
        tot += (t[p + '_m'].double() ** 2 - t[p + '_w'].double() ** 2)[keep].sum().item()
        cnt += int(keep.sum().item())
print(json.dumps({'mean': tot / cnt, 'cnt': cnt}))
`, [runPaths(runDir).checkpoint]).trim()) as { mean: number; cnt: number };
    expect(ref.cnt).toBeGreaterThan(0);
    expect(Math.abs(rows[1].meanBeta! - ref.mean)).toBeLessThan(1e-9);
  });
});
