/**
 * dataset.augment = { crop: { padding }, flip } from a config, through transformsFor and the
 * DataLoader: each training image equals, exactly, a 28×28 window of the zero-padded original,
 * mirrored or not (computed here in plain loops, not by the library), the windows cover all
 * (2p + 1)² offsets about evenly and half the images are mirrored, and the draws depend only on
 * (seed, epoch): two loaders with one seed (the plain and the Sign-In run) see the same batches.
 */
import { ArrayDataset, DataLoader } from '../../../src/data';
import { MEAN_STD } from '../../../src/data/registry';
import { transformsFor } from '../../../src/experiments/resolve';
import { parseConfig } from '../../../src/experiments/schema';

const N = 400;
const S = 28;
const PAD = 2;

// Pixels 1..255, never the padding's 0, so a window's offset is identified by its values.
function noiseImages(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * S * S);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = 1 + (s >>> 24) % 255;
  }
  return out;
}

const images = noiseImages(N, 12345);
const dataset = new ArrayDataset({ images, labels: Array.from({ length: N }, (_, i) => i % 10), width: S, height: S, channels: 1, numClasses: 10, name: 'noise' });
const config = parseConfig({ dataset: { name: 'fashion_mnist', augment: { crop: { padding: PAD }, flip: true } }, model: { name: 'cifar_resnet_20' }, epochs: 1, seed: 3 });

/** Pixel (y, x) of image k after zero padding by PAD, mirrored when flip. */
function paddedPixel(k: number, y: number, x: number, flip: boolean): number {
  const W = S + 2 * PAD;
  const xx = flip ? W - 1 - x : x;
  const sy = y - PAD;
  const sx = xx - PAD;
  return sy < 0 || sy >= S || sx < 0 || sx >= S ? 0 : images[k * S * S + sy * S + sx];
}

/** The (top, left, flip) windows of the padded image k that equal `pixels` (uint8, 28×28). */
function matchingWindows(k: number, pixels: number[]): [number, number, boolean][] {
  const found: [number, number, boolean][] = [];
  for (const flip of [false, true]) {
    for (let top = 0; top <= 2 * PAD; top++) {
      for (let left = 0; left <= 2 * PAD; left++) {
        let same = true;
        for (let y = 0; y < S && same; y++) for (let x = 0; x < S && same; x++) same = pixels[y * S + x] === paddedPixel(k, top + y, left + x, flip);
        if (same) found.push([top, left, flip]);
      }
    }
  }
  return found;
}

function loader(): DataLoader {
  return new DataLoader(dataset, { batchSize: 100, shuffle: true, seed: config.seed, transforms: transformsFor(config, config.dataset.augment) });
}

async function epochOf(l: DataLoader, epoch: number): Promise<{ x: Float32Array; indices: number[] }[]> {
  l.setEpoch(epoch);
  const out: { x: Float32Array; indices: number[] }[] = [];
  for await (const b of l) {
    out.push({ x: (b.x.data() as Float32Array).slice(), indices: [...b.indices] });
    b.x.dispose();
    b.y.dispose();
  }
  return out;
}

describe('dataset.augment { crop: { padding: 2 }, flip: true } (Fashion-MNIST regime of issue 12)', () => {
  test('the config parses; other datasets keep their meaning of true/false; imagenet refuses the object', () => {
    expect(config.dataset.augment).toEqual({ crop: { padding: 2 }, flip: true });
    expect(parseConfig({ dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, epochs: 1 }).dataset.augment).toBe(true);
    expect(() => parseConfig({ dataset: { name: 'imagenet', augment: { flip: true } }, model: { name: 'resnet50' }, epochs: 1 })).toThrow(/dataset\.augment/);
    expect(() => parseConfig({ dataset: { name: 'mnist', augment: { crop: { padding: -1 } } }, model: { name: 'lenet5' }, epochs: 1 })).toThrow(/dataset\.augment\.crop\.padding/);
    expect(() => parseConfig({ dataset: { name: 'mnist', augment: { rotate: 3 } }, model: { name: 'lenet5' }, epochs: 1 })).toThrow(/dataset\.augment\.rotate/);
  });

  test('every image is a padded window, mirrored or not; offsets and flips are spread as the uniform draws say', async () => {
    const { mean, std } = MEAN_STD.fashion_mnist;
    const counts = new Map<string, number>();
    let flips = 0;
    for (const batch of await epochOf(loader(), 0)) {
      batch.indices.forEach((k, b) => {
        // Undo the normalization (float32 x/255 then (x − mean)/std) back to the uint8 value.
        const pixels = Array.from(batch.x.subarray(b * S * S, (b + 1) * S * S), (v) => Math.round((v * std[0] + mean[0]) * 255));
        const windows = matchingWindows(k, pixels);
        expect(windows).toHaveLength(1);
        const [top, left, flip] = windows[0];
        counts.set(`${top},${left}`, (counts.get(`${top},${left}`) ?? 0) + 1);
        if (flip) flips++;
      });
    }
    // 25 offsets, 400 draws: each expected 16 times; a count outside [2, 40] has probability < 1e-4.
    expect(counts.size).toBe((2 * PAD + 1) ** 2);
    for (const c of counts.values()) expect(c).toBeGreaterThanOrEqual(2);
    for (const c of counts.values()) expect(c).toBeLessThanOrEqual(40);
    // Binomial(400, 1/2): mean 200, sd 10; ±50 is 5 sd.
    expect(Math.abs(flips - 200)).toBeLessThan(50);
  });

  test('same seed and epoch: the same order and crops in two loaders; another epoch: other crops', async () => {
    const a = await epochOf(loader(), 1);
    const b = await epochOf(loader(), 1);
    expect(b.map((x) => x.indices)).toEqual(a.map((x) => x.indices));
    b.forEach((batch, i) => expect(Buffer.compare(Buffer.from(batch.x.buffer), Buffer.from(a[i].x.buffer))).toBe(0));
    const c = await epochOf(loader(), 2);
    expect(c.map((x) => x.indices)).not.toEqual(a.map((x) => x.indices));
  });

  test('evaluation (augment off) is the plain normalized image', () => {
    const t = transformsFor(config, false);
    expect(t.map((x) => x.op)).toEqual(['to_tensor', 'normalize']);
  });
});
