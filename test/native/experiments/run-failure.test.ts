/**
 * How a run that fails is reported and recorded. A coded error (ToolkitError: the user's data,
 * config or machine) is said once, as the CLI's one line, with no stack on stderr (the run's log
 * keeps it at debug level); an uncoded one (a bug) is logged with its stack. Data the loader cannot
 * open is refused before a run directory exists; a run failing after its directory exists is
 * recorded in failed.json, which `list runs` shows as failed with that reason, not as new.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { setLogger } from '../../../src';
import { registerDataset } from '../../../src/data';
import { createRunDir, parseConfig } from '../../../src/experiments';
import { runState } from '../../../src/experiments/run-scan';
import { trainFromConfig } from '../../../src/experiments/runner';
import { cli } from '../../helpers/cli';
import { fashionImages, writeCifar10 } from '../../helpers/data-fixtures';
import { tempDir } from '../../helpers/temp';

interface LogRecord { level: number; msg: string; err?: { code?: string; message?: string; stack?: string } }

let records: LogRecord[] = [];
/** What the runner logs, as the JSON lines a non-TTY stderr would show, at `level` and above. */
function captureLogs(level: pino.Level): void {
  records = [];
  setLogger(pino({ level, base: undefined }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) }));
}
afterAll(() => setLogger(pino({ level: 'silent' })));

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

/** A CIFAR-10 folder whose files exist (the pre-run check passes) but are 100 bytes: the loader refuses them. */
function truncatedCifar(dir: string): string {
  const root = path.join(dir, 'cifar');
  fs.mkdirSync(root);
  for (const f of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) fs.writeFileSync(path.join(root, `${f}.bin`), Buffer.alloc(100));
  return root;
}
const cifarArgs = (root: string): string[] => ['--dataset', 'cifar10', '--data-root', root, '--model', 'cifar_resnet_20', '--epochs', '1', '--device', 'cpu', '--threads', '1'];

test('train: an ImageFolder whose train/ has no class folders is one ERR_DATASET line, and no run directory', async () => {
  captureLogs('info');
  const dir = tempDir('run-failure-');
  const data = path.join(dir, 'imagenet');
  for (const split of ['train', 'val']) fs.mkdirSync(path.join(data, split), { recursive: true });
  const runs = path.join(dir, 'runs');
  const r = await cli(['train', '--dataset', 'imagenet', '--data-root', data, '--model', 'cifar_resnet_20', '--epochs', '1', '--device', 'cpu', '--runs-dir', runs]);
  expect(r.code).toBe(1);
  const train = path.join(data, 'train');
  expect(lines(r.err)).toEqual([expect.stringMatching(new RegExp(`^ERR_DATASET: Couldn't find any class folder in ${train}: expected ${train}/<class>/<image>`))]);
  expect(records).toEqual([]);
  expect(fs.existsSync(runs) ? fs.readdirSync(runs) : []).toEqual([]);
});

test('train: data the loader refuses after the run directory exists is one line, and the run lists as failed with it', async () => {
  captureLogs('info');
  const dir = tempDir('run-failure-');
  const runs = path.join(dir, 'runs');
  fs.mkdirSync(runs);
  const r = await cli(['train', ...cifarArgs(truncatedCifar(dir)), '--runs-dir', runs]);
  expect(r.code).toBe(1);
  const [start, error, ...rest] = lines(r.err);
  expect(start).toMatch(/^training cifar10 cifar_resnet_20 /);
  expect(error).toMatch(/^ERR_DATASET: .*data_batch_1\.bin has 100 bytes, not a positive multiple of the 3073-byte CIFAR-10 record/);
  expect(rest).toEqual([]);
  expect(records.filter((l) => l.msg === 'run failed')).toEqual([]);

  const [name] = fs.readdirSync(runs);
  expect(runState(path.join(runs, name)).state).toBe('failed');
  const list = await cli(['list', 'runs', '--runs-dir', runs, '--json']);
  expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ run: name, status: 'failed', reason: error })]);
  const table = await cli(['list', 'runs', '--runs-dir', runs]);
  expect(table.out).toMatch(new RegExp(`^${name} +failed +0/1 `, 'm'));
  expect(table.out).toContain(`${name} failed: ${error}\n`);
});

test('sweep: the failed run is its FAILED line and the summary, no logged error', async () => {
  captureLogs('info');
  const dir = tempDir('run-failure-');
  const grid = path.join(dir, 'grid.json');
  fs.writeFileSync(grid, JSON.stringify({
    base: { dataset: { name: 'cifar10', root: truncatedCifar(dir) }, model: { name: 'cifar_resnet_20' }, epochs: 1, device: 'cpu', threads: 1 },
    grid: { 'signin.enabled': [false] },
  }));
  const r = await cli(['sweep', '--grid', grid, '--runs-dir', path.join(dir, 'runs')]);
  expect(r.code).toBe(1);
  expect(lines(r.err)).toEqual([
    expect.stringMatching(/^\[1\/1\] start train_/),
    expect.stringMatching(/^\[1\/1\] FAILED train_\w+: ERR_DATASET: .*has 100 bytes/),
    'sweep: 0 done, 0 skipped, 1 failed of 1',
  ]);
  expect(records.filter((l) => l.msg === 'run failed')).toEqual([]);
});

test('a coded error is kept at debug level (with its stack), an uncoded one logged as an error with its stack', async () => {
  const dir = tempDir('run-failure-');
  const root = truncatedCifar(dir);
  const coded = parseConfig({ dataset: { name: 'cifar10', root, maxTrainBatches: 1 }, model: { name: 'cifar_resnet_20' }, batchSize: 4, epochs: 1, device: 'cpu', threads: 1 });
  captureLogs('debug');
  const codedDir = createRunDir(path.join(dir, 'runs'), coded).dir;
  await expect(trainFromConfig(coded, codedDir)).rejects.toMatchObject({ code: 'ERR_DATASET' });
  const failed = records.filter((l) => l.msg === 'run failed');
  expect(failed).toEqual([expect.objectContaining({ level: pino.levels.values.debug, err: expect.objectContaining({ code: 'ERR_DATASET', stack: expect.stringContaining('    at ') }) })]);

  // The data fixed, the same run trains again: its failure is no longer its state.
  writeCifar10(root, fashionImages(8), 8, 4);
  await trainFromConfig(coded, codedDir);
  expect(fs.existsSync(path.join(codedDir, 'failed.json'))).toBe(false);
  expect(runState(codedDir).state).toBe('finished');

  registerDataset('h3_broken', () => {
    throw new Error('a bug in the dataset factory');
  });
  const bug = parseConfig({ dataset: { name: 'h3_broken' }, model: { name: 'lenet5', options: { numClasses: 10, inChannels: 1, inputSize: 28 } }, epochs: 1, device: 'cpu' });
  captureLogs('info');
  const runDir = createRunDir(path.join(dir, 'runs'), bug).dir;
  await expect(trainFromConfig(bug, runDir)).rejects.toThrow('a bug in the dataset factory');
  expect(records.filter((l) => l.msg === 'run failed')).toEqual([
    expect.objectContaining({ level: pino.levels.values.error, err: expect.objectContaining({ message: 'a bug in the dataset factory', stack: expect.stringContaining('    at ') }) }),
  ]);
  expect(JSON.parse(fs.readFileSync(path.join(runDir, 'failed.json'), 'utf8'))).toEqual({ message: 'a bug in the dataset factory' });
  expect(runState(runDir)).toEqual({ state: 'failed', reason: 'error: a bug in the dataset factory' });

});
