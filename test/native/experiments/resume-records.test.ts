/**
 * What a resumed run does with the records its earlier sessions left: metrics rows lost before the
 * checkpoint (a cut or removed metrics.jsonl) are named by a warning in log.jsonl and the run goes
 * on; a run whose loss went NaN resumes, keeps its NaN rows and says once that it diverged.
 * Each case trains LeNet-5 for a few batches, then stages the interruption by hand: final.json and
 * the last checkpoint removed, so the run resumes from the checkpoint of the epoch before.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { createRunDir, parseConfig, readMetrics, runPaths, type ExperimentConfig } from '../../../src/experiments';
import { trainFromConfig } from '../../../src/experiments/runner';
import { setLogger } from '../../../src';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';

const dir = tmpDir('signin-resume-records-');
const data = path.join(dir, 'data');
writeIdxSet(data, fashionImages(400), false);
beforeAll(() => setLogger(pino({ level: 'silent' })));

const configWith = (lr: number): ExperimentConfig => parseConfig({
  dataset: { name: 'mnist', root: data, augment: false, maxTrainBatches: 2 },
  model: { name: 'lenet5' },
  optimizer: { lr },
  epochs: 3,
  batchSize: 32,
  threads: 1,
});

/** Trains the config to the end, then leaves it as if killed just before epoch 3's checkpoint. */
async function interruptedAfterEpoch2(config: ExperimentConfig): Promise<string> {
  const { dir: runDir } = createRunDir(path.join(dir, 'runs'), config);
  await trainFromConfig(config, runDir);
  fs.rmSync(runPaths(runDir).final);
  fs.rmSync(runPaths(runDir).checkpoint);
  return runDir;
}

const warnings = (runDir: string): string[] => fs.readFileSync(runPaths(runDir).runLog, 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === pino.levels.values.warn).map((l) => l.msg);

describe('resuming over damaged or diverged records', () => {
  test('a metrics row lost before the checkpoint is named in a warning; the run goes on', async () => {
    const runDir = await interruptedAfterEpoch2(configWith(0.01));
    const file = runPaths(runDir).metrics;
    fs.truncateSync(file, fs.readFileSync(file, 'utf8').split('\n').slice(0, 2).join('\n').length - 30); // row 2 cut short
    await trainFromConfig(configWith(0.01), runDir);
    expect(readMetrics(runDir).map((r) => r.epoch)).toEqual([1, 3]);
    expect(warnings(runDir)).toContainEqual(`${file} has no row for epoch(s) 2 of the 2 before the checkpoint the run resumes from: ` +
      'the file was cut or removed, those rows are lost (the run goes on; its curves will have a gap there)');
  });

  test('a removed metrics.jsonl names every epoch before the checkpoint', async () => {
    const runDir = await interruptedAfterEpoch2(configWith(0.02));
    fs.rmSync(runPaths(runDir).metrics);
    await trainFromConfig(configWith(0.02), runDir);
    expect(readMetrics(runDir).map((r) => r.epoch)).toEqual([3]);
    expect(warnings(runDir)).toContainEqual(expect.stringMatching(/has no row for epoch\(s\) 1–2 of the 2 before the checkpoint/));
  });

  test('a run whose loss went NaN resumes, keeps its NaN rows and warns once per session that it diverged', async () => {
    const runDir = await interruptedAfterEpoch2(configWith(1e30));
    await trainFromConfig(configWith(1e30), runDir);
    const rows = readMetrics(runDir);
    expect(rows.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(rows.every((r) => Number.isNaN(r.trainLoss))).toBe(true);
    const diverged = warnings(runDir).filter((w) => w.startsWith('training diverged'));
    expect(diverged).toEqual([expect.stringMatching(/^training diverged: loss NaN at epoch 1 /), expect.stringMatching(/^training diverged: loss NaN at epoch 3 /)]);
    expect(warnings(runDir).filter((w) => /ln\(10\)/.test(w))).toEqual([]);
  });
});
