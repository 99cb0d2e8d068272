/**
 * DataLoader.startAt (a run resumed in an epoch's middle): the batches from batch k on are, byte
 * for byte, those of the whole epoch from k on (order and random crops/flips included), in the
 * main thread and in a worker thread, the images of the batches before k are never read, and
 * the next epoch starts at its first batch again. The reference is the same loader's full epoch.
 */
import { ArrayDataset, DataLoader } from '../../../src/data';
import { transformsFor } from '../../../src/experiments/resolve';
import { parseConfig } from '../../../src/experiments/schema';

const N = 400;
const S = 28;
const B = 32;

const images = new Uint8Array(N * S * S);
for (let i = 0, s = 777; i < images.length; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  images[i] = s >>> 24;
}

/** Counts the images read (the in-process loader reads each sample's pixels through image()). */
class CountingDataset extends ArrayDataset {
  reads = 0;

  override image(i: number): ReturnType<ArrayDataset['image']> {
    this.reads++;
    return super.image(i);
  }
}

const config = parseConfig({ dataset: { name: 'fashion_mnist', augment: { crop: { padding: 2 }, flip: true } }, model: { name: 'lenet5' }, epochs: 1, seed: 3 });

function makeLoader(numWorkers = 0): { loader: DataLoader; dataset: CountingDataset } {
  const dataset = new CountingDataset({ images, labels: Array.from({ length: N }, (_, i) => i % 10), width: S, height: S, channels: 1, numClasses: 10, name: 'noise' });
  const loader = new DataLoader(dataset, { batchSize: B, shuffle: true, seed: config.seed, transforms: transformsFor(config, config.dataset.augment), numWorkers });
  return { loader, dataset };
}

async function drain(loader: DataLoader): Promise<{ x: Buffer; y: number[]; indices: number[] }[]> {
  const out: { x: Buffer; y: number[]; indices: number[] }[] = [];
  for await (const b of loader) {
    const x = b.x.data() as Float32Array;
    out.push({ x: Buffer.from(x.buffer, x.byteOffset, x.byteLength), y: b.y.toArray().map(Number), indices: [...b.indices] });
    b.x.dispose();
    b.y.dispose();
  }
  return out;
}

describe('DataLoader.startAt', () => {
  it.each([0, 1])('gives the epoch from batch k on without reading the images before it (%i workers)', async (workers) => {
    const full = makeLoader();
    full.loader.setEpoch(2);
    const whole = await drain(full.loader);
    expect(whole).toHaveLength(Math.ceil(N / B));

    const { loader, dataset } = makeLoader(workers);
    try {
      loader.setEpoch(2);
      loader.startAt(5);
      const rest = await drain(loader);
      expect(rest).toEqual(whole.slice(5));
      if (workers === 0) expect(dataset.reads).toBe(N - 5 * B);
      // Once: the next epoch starts at its first batch.
      loader.setEpoch(3);
      expect(await drain(loader)).toHaveLength(whole.length);
    } finally {
      await loader.close();
    }
  }, 60_000);

  it('at the last batch + 1 gives nothing; beyond it is refused, naming the argument', async () => {
    const { loader } = makeLoader();
    loader.startAt(loader.length);
    expect(await drain(loader)).toEqual([]);
    expect(() => loader.startAt(loader.length + 1)).toThrow(`Expected integer in [0, ${loader.length}] for batch but received ${loader.length + 1} of type number`);
  });
});
