/**
 * A Dataset class of one's own in DataLoader worker threads (toSpec() returns moduleSpec): each
 * worker requires the module and constructs the class. Batches with 1 and 2 workers are byte for
 * byte those built in-process from get() (0 workers), shuffled and augmented, over two epochs;
 * a spec the workers cannot use is a coded error naming the module and export at the first
 * `for await` (or, for args, where the DataLoader is made), and an exception in get() names the
 * sample, with or without workers, and stops the workers.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DataLoader, moduleSpec, randomCrop, randomHorizontalFlip, toTensor, type Dataset, type ModuleDatasetSpec } from '../../../src/data';
import { errorOf } from '../../helpers/error-of';
import { NoiseDataset, type NoiseArgs } from '../../fixtures/datasets/noise-dataset';

const FIXTURE = path.join(__dirname, '../../fixtures/datasets/noise-dataset.ts');
const transforms = [randomCrop(4, { padding: 1 }), randomHorizontalFlip(), toTensor()];

async function drain(loader: DataLoader, epochs = 1): Promise<{ x: Buffer; y: number[]; indices: number[] }[]> {
  const out: { x: Buffer; y: number[]; indices: number[] }[] = [];
  try {
    for (let e = 0; e < epochs; e++) {
      for await (const b of loader) {
        const x = b.x.data() as Float32Array;
        out.push({ x: Buffer.from(x.buffer, x.byteOffset, x.byteLength), y: b.y.toArray().map(Number), indices: [...b.indices] });
        b.x.dispose();
        b.y.dispose();
      }
    }
  } finally {
    await loader.close();
  }
  return out;
}

/** NoiseDataset whose toSpec() says something else. */
function specced(spec: (args: NoiseArgs) => ModuleDatasetSpec, args: NoiseArgs = { n: 10, seed: 1 }): Dataset {
  const ds = new NoiseDataset(args);
  ds.toSpec = () => spec(args);
  return ds;
}

async function firstError(ds: Dataset, numWorkers: number): Promise<{ code: string; message: string }> {
  return drain(new DataLoader(ds, { batchSize: 4, numWorkers })).then(() => ({ code: 'none', message: 'no error' }), (e) => e);
}

describe('a Dataset class of your own in worker threads', () => {
  it.each([1, 2])('gives the batches built in-process from get() (%i workers)', async (numWorkers) => {
    const make = (w: number) => new DataLoader(new NoiseDataset({ n: 23, seed: 5 }), { batchSize: 4, shuffle: true, seed: 9, transforms, numWorkers: w });
    const reference = await drain(make(0), 2);
    expect(reference).toHaveLength(2 * 6);
    expect(await drain(make(numWorkers), 2)).toEqual(reference);
  }, 60_000);

  it('a file: URL (import.meta.url) names the module as its path does', async () => {
    const make = (w: number) => new DataLoader(specced((a) => moduleSpec(pathToFileURL(FIXTURE).href, 'NoiseDataset', a)), { batchSize: 4, transforms, numWorkers: w });
    expect(await drain(make(1))).toEqual(await drain(make(0)));
  }, 60_000);

  it('an exception in get() names the sample, as in-process, and stops the workers', async () => {
    const terminate = jest.spyOn(Worker.prototype, 'terminate');
    try {
      const expected = 'noise: get(6) threw RangeError: sample 6 is cursed';
      expect(await firstError(new NoiseDataset({ n: 10, seed: 1, failAt: 6 }), 0)).toMatchObject({ code: 'ERR_DATASET', message: expected });
      expect(terminate).not.toHaveBeenCalled();
      expect(await firstError(new NoiseDataset({ n: 10, seed: 1, failAt: 6 }), 2)).toMatchObject({ code: 'ERR_DATASET', message: expected });
      expect(terminate).toHaveBeenCalledTimes(2);
    } finally {
      terminate.mockRestore();
    }
  }, 60_000);

  const rebuild = `Cannot rebuild dataset 'noise' in a DataLoader worker from export`;
  it.each([
    ['a missing export', 'Missing', `'Missing' of ${FIXTURE} (its toSpec()): the module has no such export (its exports: NoiseDataset, NotADataset, makeNoise)`],
    ['a factory function', 'makeNoise', `'makeNoise' of ${FIXTURE} (its toSpec()): the export is an arrow function, not a class (the worker constructs new makeNoise(args))`],
    ['a class that is no Dataset', 'NotADataset', `'NotADataset' of ${FIXTURE} (its toSpec()): new NotADataset(args) is not a Dataset (name, length, numClasses, label(i), get(i))`],
  ])('%s is an ERR_DATASET naming the module and export when the loop starts', async (_what, exportName, message) => {
    const e = await firstError(specced((a) => moduleSpec(FIXTURE, exportName, a)), 2);
    expect([e.code, e.message]).toEqual(['ERR_DATASET', `${rebuild} ${message}`]);
  }, 60_000);

  it('args that rebuild another dataset, or a module that does not load, are ERR_DATASET naming them', async () => {
    const other = await firstError(specced((a) => moduleSpec(FIXTURE, 'NoiseDataset', { ...a, n: 12 })), 1);
    expect(other).toMatchObject({
      code: 'ERR_DATASET',
      message: `${rebuild} 'NoiseDataset' of ${FIXTURE} (its toSpec()): it has 12 samples of 3 classes where the DataLoader's has 10 of 3: toSpec()'s args must rebuild the same dataset`,
    });
    const missing = path.join(__dirname, 'no-such-module.js');
    const e = await firstError(specced((a) => moduleSpec(missing, 'NoiseDataset', a)), 1);
    expect(e.code).toBe('ERR_DATASET');
    expect(e.message).toContain(`${rebuild} 'NoiseDataset' of ${missing} (its toSpec()): the module does not load (Error: Cannot find module '${missing}'`);
  }, 60_000);

  it('args that cannot be cloned, or a relative module, are ERR_INVALID_ARG naming toSpec() where the DataLoader is made', () => {
    const args = errorOf(() => new DataLoader(specced((a) => moduleSpec(FIXTURE, 'NoiseDataset', { ...a, open: () => 1 })), { numWorkers: 2 }));
    expect(args.code).toBe('ERR_INVALID_ARG');
    expect(args.message).toMatch(/^Expected structured-cloneable data, which reaches the worker threads \(.*could not be cloned.*\) for toSpec\(\)\.args but received an object$/);
    const relative = errorOf(() => new DataLoader(specced((a) => moduleSpec('./noise-dataset', 'NoiseDataset', a)), { numWorkers: 2 }));
    expect(relative.code).toBe('ERR_INVALID_ARG');
    expect(relative.message).toContain("for toSpec().module but received './noise-dataset'");
    expect(() => new DataLoader(specced((a) => moduleSpec(FIXTURE, 'NoiseDataset', { ...a, open: () => 1 })), { numWorkers: 0 })).not.toThrow();
  });
});
