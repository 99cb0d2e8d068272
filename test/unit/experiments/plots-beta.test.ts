/**
 * The report's β plot: per epoch, β before that epoch's reset (betaBeforeReset), or the
 * end-of-epoch meanBeta where no reset ran; only Sign-In runs; one SVG per table that has them.
 */
import * as fs from 'node:fs';
import { betaBeforeReset, betaPoints, betaSpec } from '../../../src/experiments/plots-beta';
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
});
