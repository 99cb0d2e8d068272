/**
 * A config as a file holds it (no defaults filled in) is accepted by createRunDir, which hashes
 * and stores it, and the experiment functions check it with parseConfig's rules; trainFromConfig,
 * checkRunnable and the resolve helpers then read its fields without the defaults and failed on
 * the first one missing ("Expected string for device but received undefined", for a config that
 * named no device). They now use the parsed config, and train the run the parsed one trains.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { ArrayDataset, checkRunnable, createRunDir, parseConfig, registerDataset, runSweep, scheduleFor, setLogger, trainFromConfig, type ExperimentConfig } from '../../../src';
import { removeDir, tempDir } from '../../unit/experiments/fixtures';

const N = 12;
registerDataset('raw_config_tiny', (o) => new ArrayDataset({
  images: Uint8Array.from({ length: N * 28 * 28 }, (_, i) => (i * 37 + (o.train === false ? 11 : 0)) % 256),
  labels: Array.from({ length: N }, (_, i) => i % 10), width: 28, height: 28, channels: 1, numClasses: 10,
}), { mean: [0.5], std: [0.25], info: { numClasses: 10, inChannels: 1, inputSize: 28 } });

const RAW = { dataset: { name: 'raw_config_tiny' }, model: { name: 'lenet5' }, epochs: 2, batchSize: 6, threads: 1 };

let dir: string;
beforeAll(() => setLogger(pino({ level: 'silent' })));
beforeEach(() => { dir = tempDir('raw-config'); });
afterEach(() => removeDir(dir));

test('scheduleFor reads the defaults of a raw config: cosine from lr 0.1, half of it half-way', () => {
  // The default schedule is cosine from the default lr 0.1 to 0 over the 2 epochs: 0.1 · (1 + cos(π/2)) / 2.
  expect(scheduleFor(RAW as unknown as ExperimentConfig)(1)).toBeCloseTo(0.05, 12);
});

test('checkRunnable checks a raw config as the parsed one: valid, and gradAccumSteps over the batch refused', () => {
  expect(() => checkRunnable(RAW as unknown as ExperimentConfig)).not.toThrow();
  expect(() => checkRunnable({ ...RAW, gradAccumSteps: 7 } as unknown as ExperimentConfig)).toThrow(/gradAccumSteps: Expected at most the per-process batch 6/);
});

test('trainFromConfig trains a raw config as it trains the parsed one', async () => {
  const runs = path.join(dir, 'raw');
  const raw = createRunDir(runs, RAW as unknown as ExperimentConfig).dir;
  const parsedRuns = path.join(dir, 'parsed');
  const parsed = createRunDir(parsedRuns, parseConfig(RAW)).dir;
  expect(path.basename(raw)).toBe(path.basename(parsed));
  const a = await trainFromConfig(RAW as unknown as ExperimentConfig, raw);
  const b = await trainFromConfig(parseConfig(RAW), parsed);
  expect(a).toEqual(b);
  const rows = (d: string) => fs.readFileSync(path.join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; trainLoss: number });
  expect(rows(raw).map((r) => [r.epoch, r.trainLoss])).toEqual(rows(parsed).map((r) => [r.epoch, r.trainLoss]));
}, 60000);

test('trainFromConfig and runSweep refuse a misspelled option (sigal, proceses) before anything runs', async () => {
  const run = createRunDir(path.join(dir, 'runs'), parseConfig(RAW)).dir;
  await expect(trainFromConfig(parseConfig(RAW), run, { sigal: new AbortController().signal } as never)).rejects.toThrow(/^Unknown option 'sigal' in options; valid options: backend, signal$/);
  expect(fs.readdirSync(run)).toEqual(['config.json']);
  const runsDir = path.join(dir, 'sweep');
  await expect(runSweep([parseConfig(RAW)], { runsDir, proceses: 2 } as never)).rejects.toThrow(/^Unknown option 'proceses' in options; valid options: runsDir, prefix, runOne, check, processes,/);
  expect(fs.existsSync(runsDir)).toBe(false);
});
