/**
 * registerDataset's registration.sizes: a registered dataset whose split sizes are stated is bounded
 * by checkRunnable (SNIP's pruning.dataSamples, RiGL's deltaT, ...) before a run directory exists,
 * in the words a built-in of the same size gets; a split its factory builds with another length is
 * an ERR_DATASET naming registration.sizes and both numbers, before anything is pruned or trained.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { setLogger } from '../../../src';
import { ArrayDataset, createDataset, DatasetError, registerDataset, type DatasetRegistration } from '../../../src/data';
import { IssuesError } from '../../../src/errors';
import { createRunDir, parseConfig } from '../../../src/experiments';
import { checkRunnable, trainFromConfig } from '../../../src/experiments/runner';
import { cli } from '../../helpers/cli';
import { errorOf } from '../../helpers/error-of';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';

const dir = tmpDir('registered-sizes-');
const data = path.join(dir, 'fashion');
// 96 images: 48 in each split, as the registered sets below hold.
const { train, test: testSplit } = writeIdxSet(data, fashionImages(96), false);
beforeAll(() => setLogger(pino({ level: 'silent' })));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const INFO = { numClasses: 10, inChannels: 1, inputSize: 28 };
const split = (o: { train?: boolean }) => new ArrayDataset({ ...(o.train === false ? testSplit : train), width: 28, height: 28, channels: 1, numClasses: 10 });
/** A name createDataset takes as a run-time string, as a config's. */
const named = (name: string): string => name;
const register = (name: string, sizes?: DatasetRegistration['sizes']) => registerDataset(name, split, { info: INFO, ...(sizes && { sizes }) });

const SNIP = { pruning: { method: 'snip', sparsity: 0.9 } };
const RIGL = { sparsify: { method: 'rigl', sparsity: 0.9 } };
// Batch 16: 3 steps per epoch, so RiGL's default deltaT (100) leaves no mask update.
type Extra = { dataset?: object; [field: string]: unknown };
const config = (name: string, extra: Extra, root?: string) => parseConfig({
  model: { name: 'lenet5' }, epochs: 1, batchSize: 16, threads: 1, device: 'cpu', ...extra, dataset: { name, ...(root && { root }), ...extra.dataset },
});

/** The issues checkRunnable raises, each as "path: message" with the dataset's name made neutral; [] when it passes. */
function issues(name: string, extra: Extra, root?: string): string[] {
  try {
    checkRunnable(config(name, extra, root));
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(IssuesError);
    return (e as IssuesError).issues.map((i) => `${i.path}: ${i.message.replaceAll(name, '<dataset>')}`);
  }
}

test('stated sizes: refused as a built-in of the same size is (same messages); without them, as before: not until the run', () => {
  register('sized48', { train: 48, test: 48 });
  register('unsized48');
  const cases: [Extra, string][] = [[SNIP, 'pruning.dataSamples'], [RIGL, 'sparsify.deltaT'], [{ hessian: { samples: 49 } }, 'hessian.samples'], [{ dataset: { dropLast: true }, batchSize: 64 }, 'batchSize']];
  for (const [extra, field] of cases) {
    const builtIn = issues('fashion_mnist', extra, data);
    expect({ extra, fields: builtIn.map((i) => i.split(':')[0]) }).toEqual({ extra, fields: [field] });
    expect({ extra, issues: issues('sized48', extra) }).toEqual({ extra, issues: builtIn });
    expect({ extra, issues: issues('unsized48', extra) }).toEqual({ extra, issues: [] });
  }
  // The words themselves, from the counts: 48 examples, batch 16.
  expect(issues('sized48', SNIP)).toEqual(["pruning.dataSamples: Expected at most 48 (the examples of <dataset>'s training set; snip scores on them at initialization) but received 128"]);
  expect(issues('sized48', RIGL)[0]).toMatch(/^sparsify\.deltaT: Expected at most 1 step between mask updates \(below T_end = 2, stopFraction 0\.75 of the 3 training steps \(1 epoch of 3 steps per epoch: 48 training examples, batch 16\)\) but received 100/);
  // The bounds themselves pass.
  expect(issues('sized48', { pruning: { method: 'snip', sparsity: 0.9, dataSamples: 48 } })).toEqual([]);
  expect(issues('sized48', { sparsify: { method: 'rigl', sparsity: 0.9, deltaT: 1 } })).toEqual([]);
});

test('a function of the root: called with dataset.root, so a folder-based set counts its files', () => {
  const folder = path.join(dir, 'files');
  fs.mkdirSync(folder);
  for (let i = 0; i < 48; i++) fs.writeFileSync(path.join(folder, `${i}.png`), '');
  const roots: unknown[] = [];
  register('counted', ({ root }) => {
    roots.push(root);
    return { train: fs.readdirSync(root!).length };
  });
  expect(issues('counted', SNIP, folder)).toEqual(["pruning.dataSamples: Expected at most 48 (the examples of <dataset>'s training set; snip scores on them at initialization) but received 128"]);
  expect(roots).toEqual([folder]);
  // What it returns is checked where it is called.
  register('counted', () => ({ train: 0 }));
  expect(() => checkRunnable(config('counted', SNIP))).toThrow("Expected positive integer for registration.sizes({ root }).train of dataset 'counted' but received 0 of type number");
});

test('a function of the root that throws: ERR_DATASET naming the dataset, the function and the root, with its error as cause', () => {
  const missing = path.join(dir, 'no-such-folder');
  register('counted_missing', ({ root }) => ({ train: fs.readdirSync(root!).length }));
  const e = errorOf(() => checkRunnable(config('counted_missing', SNIP, missing)));
  expect(e).toMatchObject({ code: 'ERR_DATASET', file: missing });
  expect(e.message).toBe(`registration.sizes({ root }) of dataset 'counted_missing' threw for root '${missing}': ENOENT: no such file or directory, scandir '${missing}'`);
  expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  // A DatasetError of its own (with its fix) goes through as thrown.
  const own = new DatasetError('my files are elsewhere', missing);
  register('counted_own', () => { throw own; });
  expect(errorOf(() => checkRunnable(config('counted_own', SNIP, missing)))).toBe(own);
});

test('train and train --dry-run --import <module>: refused before a runs directory exists', async () => {
  const ext = path.join(dir, 'sized-ext.js');
  fs.writeFileSync(ext, `const { ArrayDataset, registerDataset } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/data'))});
registerDataset('cli_sized', () => new ArrayDataset({ images: new Uint8Array(48 * 784), labels: new Uint8Array(48), width: 28, height: 28, channels: 1, numClasses: 10 }),
  { info: ${JSON.stringify(INFO)}, sizes: { train: 48 } });`);
  for (const dry of [['--dry-run'], []]) {
    const runs = path.join(dir, `runs-cli-${dry.length}`);
    const r = await cli(['train', '--import', ext, '--dataset', 'cli_sized', '--model', 'lenet5', '--threads', '1', '--epochs', '1', '--runs-dir', runs, '--set', 'pruning.method=snip', '--set', 'pruning.sparsity=0.9', ...dry]);
    expect({ dry, code: r.code, out: r.out, err: r.err }).toEqual({
      dry, code: 1, out: '',
      err: "ERR_CONFIG: Invalid experiment config (1 issue): pruning.dataSamples: Expected at most 48 (the examples of cli_sized's training set; snip scores on them at initialization) but received 128\n",
    });
    expect(fs.existsSync(runs)).toBe(false);
  }
});

test('stated sizes the factory does not build: ERR_DATASET naming registration.sizes and both numbers, before the run prunes or trains', async () => {
  register('misstated', { train: 50, test: 48 });
  expect(issues('misstated', { pruning: { method: 'snip', sparsity: 0.9, dataSamples: 49 } })).toEqual([]);
  const e = errorOf(() => createDataset(named('misstated'), { train: true }));
  expect({ code: e?.code, message: e?.message }).toEqual({
    code: 'ERR_DATASET',
    message: "Dataset 'misstated' built a train split of 48 examples, but its registration.sizes.train states 50: registration.sizes must count what the factory builds (checkRunnable bounds a config by it before a run directory is made)",
  });
  expect(createDataset(named('misstated'), { train: false }).length).toBe(48);
  register('misstated', { train: 48, test: 47 });
  expect(() => createDataset(named('misstated'), { train: false })).toThrow("Dataset 'misstated' built a test split of 48 examples, but its registration.sizes.test states 47");

  register('misstated', { train: 50 });
  const c = config('misstated', { pruning: { method: 'snip', sparsity: 0.9, dataSamples: 49 } });
  checkRunnable(c);
  const run = createRunDir(path.join(dir, 'runs'), c).dir;
  await expect(trainFromConfig(c, run)).rejects.toThrow("Dataset 'misstated' built a train split of 48 examples, but its registration.sizes.train states 50");
  expect(fs.readdirSync(run).filter((f) => f.startsWith('checkpoint'))).toEqual([]);
  expect(JSON.parse(fs.readFileSync(path.join(run, 'failed.json'), 'utf8')).code).toBe('ERR_DATASET');
});

test('registration.sizes is checked at registerDataset, naming the field; the name stays unregistered', () => {
  const cases: [unknown, string][] = [
    [{ train: 0 }, 'Expected positive integer for registration.sizes.train but received 0 of type number'],
    [{ train: 4.5 }, 'Expected positive integer for registration.sizes.train but received 4.5 of type number'],
    [{ test: 4 }, 'Expected positive integer for registration.sizes.train but received undefined'],
    [{ train: 4, test: -1 }, 'Expected positive integer for registration.sizes.test but received -1 of type number'],
    [{ train: 4, val: 2 }, "Unknown option 'val' in registration.sizes; valid options: train, test"],
    [48, 'Expected { train, test? } (positive integers) or a function ({ root }) => { train, test? } for registration.sizes but received 48 of type number'],
    [[48], 'Expected { train, test? } (positive integers) or a function ({ root }) => { train, test? } for registration.sizes'],
  ];
  for (const [sizes, message] of cases) {
    const e = errorOf(() => registerDataset('sizes_bad', split, { sizes } as never));
    expect({ sizes, code: e?.code, message: e?.message }).toEqual({ sizes, code: 'ERR_INVALID_ARG', message: expect.stringContaining(message) });
  }
  expect(() => createDataset(named('sizes_bad'))).toThrow(/^Unknown dataset 'sizes_bad'/);
});
