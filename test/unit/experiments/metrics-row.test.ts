/** metrics.jsonl rows written before the rename (`time`) still read, as epochSeconds. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPaths } from '../../../src/experiments/paths';
import { readMetrics } from '../../../src/experiments/runs';
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
});
