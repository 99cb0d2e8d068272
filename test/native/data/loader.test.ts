import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ArrayDataset, DataLoader, DatasetError, DistributedSampler, ImageFolder, normalize, randomCrop, randomHorizontalFlip, randomResizedCrop,
  toTensor, type Batch, type Dataset,
} from '../../../src/data';
import { memory, Generator } from '../../../src/tensor';
import { setLogger } from '../../../src/logger';
import { fashionImages, rgb32, tmpDir, writeImageFolder } from '../../helpers/data-fixtures';

const src = fashionImages(103);
const logLines: string[] = [];
beforeAll(() => {
  const pino = require('pino') as typeof import('pino').default;
  setLogger(pino({ level: 'warn' }, { write: (s: string) => logLines.push(s) }));
});
const grey = new ArrayDataset({ images: src.images, labels: src.labels, width: 28, height: 28, channels: 1, numClasses: 10, name: 'fmnist_subset' });
const rgbImages = new Uint8Array(103 * 3072);
for (let i = 0; i < 103; i++) rgbImages.set(rgb32(src, i), i * 3072);
const rgb = new ArrayDataset({ images: rgbImages, labels: src.labels, width: 32, height: 32, channels: 3, numClasses: 10, name: 'cifar_like' });
const cifarTransforms = [randomCrop(32, { padding: 4 }), randomHorizontalFlip(), toTensor(), normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])];

interface Plain {
  x: Float32Array;
  y: number[];
  indices: number[];
  shape: number[];
}

async function collect(loader: DataLoader): Promise<Plain[]> {
  const out: Plain[] = [];
  for await (const b of loader) {
    expect(b.x.dtype).toBe('float32');
    expect(b.y.dtype).toBe('int64');
    out.push({ x: b.x.data() as Float32Array, y: b.y.toArray(), indices: [...b.indices], shape: b.x.shape });
    b.x.dispose();
    b.y.dispose();
  }
  return out;
}

function sameBatches(a: Plain[], b: Plain[]): boolean {
  return a.length === b.length && a.every((p, k) => Buffer.compare(Buffer.from(p.x.buffer), Buffer.from(b[k].x.buffer)) === 0 && p.y.join() === b[k].y.join() && p.indices.join() === b[k].indices.join());
}

describe('DataLoader (in-process)', () => {
  test('batches: shapes, dtypes, values and labels of every sample, in order', async () => {
    const loader = new DataLoader(grey, { batchSize: 10, transforms: [toTensor(), normalize(0.5, 0.25)] });
    expect(loader.length).toBe(11);
    expect(loader.sampleShape).toEqual([1, 28, 28]);
    const batches = await collect(loader);
    expect(batches.map((b) => b.shape[0])).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    expect(batches[0].shape).toEqual([10, 1, 28, 28]);
    const idx = batches.flatMap((b) => b.indices);
    expect(idx).toEqual([...Array(103).keys()]);
    const ys = batches.flatMap((b) => b.y);
    expect(ys).toEqual([...src.labels]);
    const x = batches[3].x;
    for (const k of [0, 100, 783, 784 * 7 + 400]) {
      const i = 30 + Math.floor(k / 784);
      const v = src.images[i * 784 + (k % 784)];
      expect(x[k]).toBe(Math.fround(Math.fround(Math.fround(v / 255) - 0.5) / 0.25));
    }
  });

  test('shuffle: same seed ⇒ same order; each loop advances the epoch; setEpoch replays', async () => {
    const make = () => new DataLoader(rgb, { batchSize: 16, shuffle: true, seed: 9, transforms: cifarTransforms });
    const a = make();
    const a0 = await collect(a);
    const a1 = await collect(a);
    expect(a.epoch).toBe(2);
    const b = make();
    expect(sameBatches(await collect(b), a0)).toBe(true);
    expect(sameBatches(await collect(b), a1)).toBe(true);
    expect(a0.flatMap((p) => p.indices).join()).not.toBe(a1.flatMap((p) => p.indices).join());
    expect(a0.flatMap((p) => p.indices).sort((x, y) => x - y)).toEqual([...Array(103).keys()]);
    a.setEpoch(1);
    expect(sameBatches(await collect(a), a1)).toBe(true);
    const other = await collect(new DataLoader(rgb, { batchSize: 16, shuffle: true, seed: 10, transforms: cifarTransforms }));
    expect(sameBatches(other, a0)).toBe(false);
    // A torch Generator as the seed source.
    const g1 = await collect(new DataLoader(rgb, { batchSize: 50, shuffle: true, generator: new Generator(4) }));
    const g2 = await collect(new DataLoader(rgb, { batchSize: 50, shuffle: true, generator: new Generator(4) }));
    expect(sameBatches(g1, g2)).toBe(true);
  });

  test('dropLast', async () => {
    const loader = new DataLoader(grey, { batchSize: 10, dropLast: true });
    expect(loader.length).toBe(10);
    const batches = await collect(loader);
    expect(batches.length).toBe(10);
    expect(batches.every((b) => b.shape[0] === 10)).toBe(true);
  });

  test('DistributedSampler: equal batch counts per rank, union = all, only padding repeats', async () => {
    const W = 3;
    const perRank = await Promise.all(
      Array.from({ length: W }, async (_, rank) => {
        const loader = new DataLoader(rgb, { batchSize: 8, sampler: new DistributedSampler(rgb.length, { rank, worldSize: W, seed: 1 }), transforms: cifarTransforms });
        return collect(loader);
      }),
    );
    const counts = perRank.map((r) => r.flatMap((b) => b.indices).length);
    expect(counts).toEqual([35, 35, 35]);
    expect(perRank.map((r) => r.length)).toEqual([5, 5, 5]);
    const all = perRank.flatMap((r) => r.flatMap((b) => b.indices));
    expect(new Set(all).size).toBe(103);
    expect(all.length - 103).toBe(2);
  });

  test('the loader disposes nothing: batch tensors belong to the caller', async () => {
    const before = memory().numTensors;
    const kept: Batch[] = [];
    for await (const b of new DataLoader(grey, { batchSize: 50 })) kept.push(b);
    expect(memory().numTensors).toBe(before + 6);
    expect(kept.every((b) => !b.x.isDisposed && !b.y.isDisposed)).toBe(true);
    expect(kept[2].y.toArray()).toEqual([...src.labels.subarray(100)]);
    for (const b of kept) {
      b.x.dispose();
      b.y.dispose();
    }
    expect(memory().numTensors).toBe(before);
  });

  test('a custom dataset works in-process and is refused for workers', async () => {
    const custom: Dataset = {
      name: 'custom', length: 4, numClasses: 2, classes: ['a', 'b'], shape: [1, 2, 2],
      label: (i) => i % 2,
      get: (i) => ({ image: { data: new Uint8Array([i, i, i, i]), width: 2, height: 2, channels: 1 }, label: i % 2 }),
      toSpec: () => {
        throw new Error('not shareable');
      },
    };
    const b = await collect(new DataLoader(custom, { batchSize: 4 }));
    expect(b[0].y).toEqual([0, 1, 0, 1]);
    expect(b[0].x[4]).toBe(Math.fround(1 / 255));
    expect(() => new DataLoader(custom, { numWorkers: 1 })).toThrow('Expected 0 for a dataset that cannot be sent to worker threads (not shareable) for numWorkers but received 1 of type number');
  });

  test('numWorkers is bounded by the CPUs this process may use, with an error that says so', () => {
    const cpus = os.availableParallelism();
    const ds = grey;
    for (const n of [2 * cpus + 1, 1000000]) {
      expect(() => new DataLoader(ds, { numWorkers: n })).toThrow(`Expected integer in [0, ${2 * cpus}] (twice this machine's ${cpus} logical CPUs) for numWorkers`);
    }
    expect(new DataLoader(ds, { numWorkers: 2 * cpus }).numWorkers).toBe(2 * cpus);
  });
});

describe('DataLoader with worker threads', () => {
  test('workers and in-process give identical batches for the same seed (array data)', async () => {
    const opts = { batchSize: 16, shuffle: true, seed: 3, transforms: cifarTransforms };
    const inProcess = await collect(new DataLoader(rgb, opts));
    const one = await collect(new DataLoader(rgb, { ...opts, numWorkers: 1 }));
    const two = new DataLoader(rgb, { ...opts, numWorkers: 2, prefetch: 1 });
    expect(sameBatches(one, inProcess)).toBe(true);
    expect(sameBatches(await collect(two), inProcess)).toBe(true);
  });

  describe('ImageFolder of JPEGs', () => {
    let root: string;
    let bad: string;
    beforeAll(async () => {
      root = tmpDir();
      await writeImageFolder(root, src, { classes: ['n01', 'n02', 'n03'], perClass: 7, format: 'jpeg', width: 80, height: 60 });
      bad = path.join(root, 'n02', 'img_0003.JPEG');
      fs.writeFileSync(bad, fs.readFileSync(bad).subarray(0, 300));
    });
    const transforms = [randomResizedCrop(32), randomHorizontalFlip(), toTensor(), normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])];

    test('workers = in-process; an unreadable file is replaced and reported once', async () => {
      const ds = new ImageFolder(root);
      const opts = { batchSize: 5, shuffle: true, seed: 1, transforms };
      const a = new DataLoader(ds, opts);
      const inProcess = await collect(a);
      const workers = new DataLoader(ds, { ...opts, numWorkers: 2 });
      const viaWorkers = await collect(workers);
      expect(inProcess.map((b) => b.shape[0])).toEqual([5, 5, 5, 5, 1]);
      expect(inProcess[0].shape).toEqual([5, 3, 32, 32]);
      expect(sameBatches(viaWorkers, inProcess)).toBe(true);
      expect(a.badFiles).toEqual([bad]);
      expect(workers.badFiles).toEqual([bad]);
      const warnings = logLines.map((l) => JSON.parse(l)).filter((l) => l.file === bad);
      expect(warnings).toHaveLength(2); // once per loader
      expect(warnings[1].msg).toMatch(new RegExp(`^Unreadable image ${bad} \\(.+\\): replaced by the next readable sample$`));
      // Labels follow the class folders (the replaced sample takes its replacement's label).
      const labels = inProcess.flatMap((b) => b.y);
      const idx = inProcess.flatMap((b) => b.indices);
      idx.forEach((i, k) => expect(labels[k]).toBe(i === 10 ? ds.label(11) : ds.label(i)));
    });

    test('strict: the error from a worker names the file and the loop ends', async () => {
      const loader = new DataLoader(new ImageFolder(root, { strict: true }), { batchSize: 4, transforms, numWorkers: 1 });
      let err: unknown;
      let seen = 0;
      try {
        for await (const b of loader) {
          seen++;
          b.x.dispose();
          b.y.dispose();
        }
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).code).toBe('ERR_DATASET');
      expect((err as Error).message).toContain(`Cannot decode image ${bad}`);
      expect(seen).toBe(2);
    });

    test.each([0, 1])('strict, numWorkers %i: a failure in a prefetched batch reaches the loop, not the process', (numWorkers) => {
      // The bad file is in batch 2, which fails while the consumer still works on batch 0.
      const script = `
        const { DataLoader, ImageFolder, resize, toTensor } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/data'))});
        (async () => {
          const loader = new DataLoader(new ImageFolder(${JSON.stringify(root)}, { strict: true }), { batchSize: 4, numWorkers: ${numWorkers}, transforms: [resize([8, 8]), toTensor()] });
          let seen = 0;
          try {
            for await (const b of loader) {
              await new Promise((r) => setTimeout(r, 500));
              b.x.dispose(); b.y.dispose(); seen++;
            }
          } catch (e) { process.stdout.write('caught after ' + seen + ': ' + e.message.split(';')[0] + '\\n'); }
        })();
      `;
      const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], { encoding: 'utf8', timeout: 60000, cwd: path.resolve(__dirname, '../../..') });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^caught after 2: Cannot decode image ${bad} \\(.+\\)\\n$`));
      expect(r.status).toBe(0);
    });

    test('images of varying size need a fixed-size pipeline', () => {
      expect(() => new DataLoader(new ImageFolder(root), { transforms: [randomHorizontalFlip()] })).toThrow(
        /^Expected a pipeline ending in a fixed size \(resize\(\[h, w\]\), centerCrop, randomCrop or randomResizedCrop\): image_folder's images vary in size for transforms/,
      );
    });
  });

  test('break, throw and persistent workers leave no thread keeping the process alive', () => {
    const script = `
      const { ArrayDataset, DataLoader, randomCrop } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/data'))});
      const ds = new ArrayDataset({ images: new Uint8Array(64 * 3 * 16 * 16), labels: new Array(64).fill(1), width: 16, height: 16, channels: 3, numClasses: 2 });
      (async () => {
        const a = new DataLoader(ds, { batchSize: 4, numWorkers: 2, transforms: [randomCrop(12, { padding: 2 })] });
        for await (const b of a) { b.x.dispose(); b.y.dispose(); break; }
        try { for await (const b of a) { throw new Error('user error'); } } catch (e) { if (e.message !== 'user error') throw e; }
        const p = new DataLoader(ds, { batchSize: 8, numWorkers: 1, persistentWorkers: true });
        let n = 0;
        for await (const b of p) n += b.y.shape[0];
        for await (const b of p) n += b.y.shape[0];
        process.stdout.write('done ' + n + '\\n');
      })();
    `;
    const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], { encoding: 'utf8', timeout: 60000, cwd: path.resolve(__dirname, '../../..') });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('done 128\n');
    expect(r.status).toBe(0); // exited by itself before the timeout
  });
});
