/** Rows and summaries in older forms still read: `time` as epochSeconds, null losses as NaN. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPaths } from '../../../src/experiments/paths';
import { readFinal, readMetrics } from '../../../src/experiments/runs';
import { removeDir, tempDir } from './fixtures';

describe('metrics rows', () => {
  let root: string;
  beforeEach(() => { root = tempDir('metrics-row'); });
  afterEach(() => removeDir(root));

  it('reads a legacy `time` as epochSeconds and keeps a new row as written', () => {
    const legacy = { epoch: 1, step: 5, trainLoss: 1, trainAcc: 0.5, lr: 0.1, time: 3.25 };
    const current = { epoch: 2, step: 10, trainLoss: 0.9, trainAcc: 0.6, lr: 0.05, epochSeconds: 2.5 };
    fs.writeFileSync(runPaths(root).metrics, `${JSON.stringify(legacy)}\n${JSON.stringify(current)}\n`);
    const rows = readMetrics(root);
    expect(rows).toEqual([
      { epoch: 1, step: 5, trainLoss: 1, trainAcc: 0.5, lr: 0.1, epochSeconds: 3.25 },
      current,
    ]);
    expect(path.basename(runPaths(root).runLog)).toBe('log.jsonl');
  });

  it('reads the null that files written before NaN was kept hold for a diverged loss as NaN; a null accuracy stays an error', () => {
    // What JSON.stringify made of a row and a summary whose losses were NaN.
    const row = { epoch: 1, step: 3, lr: 7.5e29, trainLoss: null, trainAcc: 0.112, epochSeconds: 0.5, testLoss: null, testAcc: 0.1, meanBeta: null };
    fs.writeFileSync(runPaths(root).metrics, `${JSON.stringify(row)}\n`);
    expect(readMetrics(root)).toEqual([{ ...row, trainLoss: NaN, testLoss: NaN, meanBeta: NaN }]);
    fs.writeFileSync(runPaths(root).final, JSON.stringify({ epoch: 2, step: 6, testAcc: 0.1, testTop5: 0.5, testLoss: null }));
    expect(readFinal(root)).toEqual({ epoch: 2, step: 6, testAcc: 0.1, testTop5: 0.5, testLoss: NaN });
    fs.writeFileSync(runPaths(root).metrics, `${JSON.stringify({ ...row, trainAcc: null })}\n`);
    expect(() => readMetrics(root)).toThrow(/line 1: trainAcc: /);
  });

  it('reads per-layer β (a diverged layer\'s null as NaN), rows without it as before, and names a value that is no number', () => {
    const row = { epoch: 1, step: 3, lr: 0.1, trainLoss: 1, trainAcc: 0.5, epochSeconds: 0.5, meanBeta: 0.9 };
    const perLayer = { betaPerLayer: { conv1: 0.95, 'layer1.0.conv1': null }, betaBeforeResetPerLayer: { conv1: 0.8, 'layer1.0.conv1': 0.7 } };
    fs.writeFileSync(runPaths(root).metrics, `${JSON.stringify(row)}\n${JSON.stringify({ ...row, epoch: 2, ...perLayer })}\n`);
    expect(readMetrics(root)).toEqual([row, { ...row, epoch: 2, ...perLayer, betaPerLayer: { conv1: 0.95, 'layer1.0.conv1': NaN } }]);
    fs.writeFileSync(runPaths(root).metrics, `${JSON.stringify({ ...row, betaBeforeResetPerLayer: { fc: '0.5' } })}\n`);
    expect(() => readMetrics(root)).toThrow(/line 1: betaBeforeResetPerLayer\.fc: /);
  });
});
