/** Fake run directories for experiment tests (written with the real runs.ts helpers). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MetricsRow } from '../../../src/experiments/metrics';
import { appendMetrics, createRunDir, writeFinal } from '../../../src/experiments/runs';
import { parseConfig, type ExperimentConfig } from '../../../src/experiments/schema';
import { tempDir as tempDirWithPrefix } from '../../helpers/temp';

export function tempDir(label = 'exp'): string {
  return tempDirWithPrefix(`signin-${label}-`);
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export const base = {
  dataset: { name: 'cifar10' },
  model: { name: 'cifar_resnet_20' },
  pruning: { method: 'random' },
  epochs: 3,
};

export interface FakeRun {
  sparsity: number;
  signin: boolean;
  seed: number;
  /** Final test accuracy (fraction); undefined = unfinished run. */
  final?: number;
  dataset?: string;
  layers?: string[];
  /** The loss went NaN from epoch 2 on (a diverged run): rows and final.json record NaN losses. */
  diverged?: boolean;
}

/** A run directory with config.json, 3 epochs of metrics and (if finished) final.json. */
export function fakeRun(runsDir: string, r: FakeRun): { dir: string; config: ExperimentConfig } {
  const config = parseConfig({
    ...base,
    dataset: { name: r.dataset ?? 'cifar10' },
    pruning: { method: 'random', sparsity: r.sparsity },
    signin: { enabled: r.signin },
    seed: r.seed,
  });
  const { dir } = createRunDir(runsDir, config);
  const last = r.final ?? 0.5;
  const layers = r.layers ?? ['conv1', 'layer1.0.conv1', 'fc'];
  const loss = (epoch: number, value: number) => (r.diverged && epoch >= 2 ? NaN : value);
  for (let epoch = 1; epoch <= 3; epoch++) {
    const row: MetricsRow = {
      epoch, step: epoch * 10, trainLoss: loss(epoch, 2 / epoch), trainAcc: 0.3 * epoch, testLoss: loss(epoch, 2.1 / epoch),
      testAcc: last - 0.1 * (3 - epoch), testTop5: 0.9, lr: 0.1 / epoch, epochSeconds: 1,
    };
    if (r.signin || r.sparsity > 0) {
      const f = (r.signin ? 0.2 : 0.1) * epoch / 3;
      row.signFlips = { overall: f, fromInit: f, fromPrev: f / 2, perLayer: Object.fromEntries(layers.map((l, i) => [l, f * (i + 1) / layers.length])) };
    }
    appendMetrics(dir, row);
  }
  if (r.final !== undefined) writeFinal(dir, { epoch: 3, step: 30, testAcc: r.final, testLoss: loss(3, 0.7), time: 3 });
  return { dir, config };
}
