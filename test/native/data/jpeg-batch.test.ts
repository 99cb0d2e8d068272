/**
 * The loader's one-call JPEG path (jpegDecodeCropResize writing float32 CHW into the batch: decode,
 * crop, resize, then the crop/flip after the resize and the normalization) against the per-sample
 * path it replaced (the same call to uint8 pixels, then Pipeline.execute) and against PIL +
 * torchvision's ToTensor/Normalize on the same files, for a DataLoader batch of each pipeline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  centerCrop, compose, DataLoader, ImageFolder, normalize, randomHorizontalFlip, randomResizedCrop, resize, Rng, toTensor, type Transform,
} from '../../../src/data';
import { headerSize } from '../../../src/data/image-folder';
import { decodeJpegPlan, jpegDecoder, jpegPlan, jpegWindow, type JpegPlan, type JpegWindow } from '../../../src/data/jpeg';
import { resizeBilinear } from '../../../src/data/resample';
import { runPythonJson } from '../../helpers/pytorch';
import { tmpDir } from '../../helpers/data-fixtures';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

// JPEGs of odd sizes and kinds (4:2:0, progressive 4:4:4, grey), written by PIL.
const MAKE = String.raw`
import json, os, sys
import numpy as np
from PIL import Image
d = json.load(sys.stdin)['dir']
rng = np.random.default_rng(1)
def pattern(w, h, c):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 / w), (y * 255 / h), ((x + y) * 127 / (w + h)) + 64][:c], -1)
    return np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
for k, (w, h) in enumerate([(120, 90), (77, 101), (200, 64), (96, 96)]):
    os.makedirs(os.path.join(d, f'c{k % 2}'), exist_ok=True)
    Image.fromarray(pattern(w, h, 3)).save(os.path.join(d, f'c{k % 2}', f'rgb{k}.jpg'), quality=90)
Image.fromarray(pattern(90, 70, 3)).save(os.path.join(d, 'c0', 'prog.jpg'), quality=95, subsampling=0, progressive=True)
Image.fromarray(pattern(81, 63, 1)[..., 0], 'L').save(os.path.join(d, 'c1', 'grey.jpg'), quality=85)
print('[]')
`;

// PIL's crop + resize (what torchvision's RandomResizedCrop / Resize compute), then the crop and
// flip after it, then ToTensor and Normalize.
const REFERENCE = String.raw`
import json, sys
import torch
import torchvision.transforms.functional as F
from PIL import Image
a = json.load(sys.stdin)
out = []
for s in a['samples']:
    x, y, w, h = s['box']
    im = Image.open(s['file']).convert('RGB').crop((x, y, x + w, y + h)).resize((s['width'], s['height']), Image.BILINEAR)
    wx, wy, ww, wh, flip = s['window']
    im = im.crop((wx, wy, wx + ww, wy + wh))
    if flip:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    out.append(F.normalize(F.to_tensor(im), a['mean'], a['std']).flatten().tolist())
print(json.dumps(out))
`;

let root: string;
const decode = jpegDecoder();

beforeAll(() => {
  root = tmpDir();
  runPythonJson(MAKE, { dir: root });
});

interface Sample {
  plan: JpegPlan;
  window: JpegWindow;
  /** The per-sample path's floats. */
  perSample: Float32Array;
}

/** Each sample of a batch the way the loader plans it, decoded by the per-sample path. */
function perSamplePath(ds: ImageFolder, transforms: Transform[], seed: number): Sample[] {
  const pipeline = compose(transforms);
  return Array.from({ length: ds.length }, (_, b) => {
    const bytes = fs.readFileSync(ds.path(b));
    const [w, h] = headerSize(bytes)!;
    const { steps, width, height } = pipeline.plan(w, h, Rng.forSample(seed, 0, 0, b));
    const plan = jpegPlan(steps, w, h)!;
    const window = jpegWindow(plan)!;
    const perSample = new Float32Array(3 * width * height);
    pipeline.execute(decodeJpegPlan(decode!, bytes, plan, ds.maxPixels)!, plan.rest, perSample, 0);
    return { plan, window, perSample };
  });
}

async function oneBatch(ds: ImageFolder, transforms: Transform[], seed: number): Promise<Float32Array> {
  for await (const b of new DataLoader(ds, { batchSize: ds.length, seed, transforms })) {
    const x = b.x.data() as Float32Array;
    b.x.dispose();
    b.y.dispose();
    return x;
  }
  throw new Error('no batch');
}

const PIPELINES: [string, Transform[]][] = [
  ['randomResizedCrop + flip + normalize', [randomResizedCrop(48), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)]],
  ['resize + centerCrop + flip + normalize', [resize(56), centerCrop([40, 48]), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)]],
  ['randomResizedCrop, enlarging', [randomResizedCrop(150, { scale: [0.2, 0.5] }), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)]],
];

test.each(PIPELINES)('%s: the batch equals the per-sample path exactly and torchvision within one level', async (_, transforms) => {
  const ds = new ImageFolder(root, { strict: true });
  const seed = 11;
  const samples = perSamplePath(ds, transforms, seed);
  // Every sample took the one-call path, mirrored or not, and the windows are not all trivial.
  expect(samples.map((s) => s.window[4]).sort().join('')).toMatch(/^0+1+$/);
  const batch = await oneBatch(ds, transforms, seed);
  const n = samples[0].perSample.length;
  expect(batch.length).toBe(n * ds.length);
  samples.forEach((s, b) => expect(Buffer.from(batch.buffer, b * n * 4, n * 4).equals(Buffer.from(s.perSample.buffer))).toBe(true));

  const refs = runPythonJson<number[][]>(REFERENCE, {
    mean: MEAN, std: STD,
    samples: samples.map((s, b) => ({ file: ds.path(b), box: s.plan.box, width: s.plan.width, height: s.plan.height, window: s.window })),
  });
  const plane = n / 3;
  const worst = samples.map((_s, b) => {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(batch[b * n + i] - refs[b][i]) * STD[Math.floor(i / plane)] * 255);
    return m;
  });
  // Levels of the 0..255 scale (float32 rounding adds ~1e-4).
  expect(Math.max(...worst)).toBeLessThanOrEqual(1.001);
});

test('a crop after the resize selects a window of it', () => {
  const ds = new ImageFolder(root);
  const s = perSamplePath(ds, PIPELINES[1][1], 3);
  const i = ds.samples().findIndex(([f]) => f.endsWith('rgb2.jpg')); // 200×64: resized to 175×56
  expect([s[i].plan.width, s[i].plan.height]).toEqual([175, 56]);
  expect(s[i].window.slice(0, 4)).toEqual([64, 8, 48, 40]);
});

test('the native resampling (SSE2 where built) equals the JS port of Pillow\'s bit for bit, shrinking up to 60× and enlarging', () => {
  const ds = new ImageFolder(root);
  let s = 9;
  const rand = (n: number) => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n;
  let cases = 0;
  for (let i = 0; i < ds.length; i++) {
    const bytes = fs.readFileSync(ds.path(i));
    const [W, H] = headerSize(bytes)!;
    // The whole image at its own size: a plain decode, no resampling.
    const whole = new Uint8Array(W * H * 3);
    expect(decode!(bytes, [0, 0, W, H, W, H], 1e9, whole)).toBe(true);
    const img = { data: whole, width: W, height: H, channels: 3 };
    for (let k = 0; k < 12; k++, cases++) {
      const w = 1 + rand(W);
      const h = 1 + rand(H);
      const x = rand(W - w + 1);
      const y = rand(H - h + 1);
      // Sizes from a 60th of the box (the scalar path beyond 32×) to 3 times it.
      const outW = Math.max(1, Math.round((w * (1 + rand(180))) / 60));
      const outH = Math.max(1, Math.round((h * (1 + rand(180))) / 60));
      const ours = new Uint8Array(outW * outH * 3);
      expect(decode!(bytes, [x, y, w, h, outW, outH], 1e9, ours)).toBe(true);
      const ref = resizeBilinear(img, x, y, w, h, outW, outH).data;
      if (!Buffer.from(ours).equals(Buffer.from(ref))) throw new Error(`${ds.path(i)} box ${[x, y, w, h]} → ${outW}×${outH} differs`);
    }
  }
  expect(cases).toBe(72);
});

describe('bad geometry or buffers', () => {
  const bytes = () => fs.readFileSync(path.join(root, 'c0', 'rgb0.jpg'));
  const lut = compose([toTensor()]).lut(3);
  const err = (f: () => unknown): { code?: string; message: string } => {
    try {
      f();
    } catch (e) {
      return e as { code?: string; message: string };
    }
    throw new Error('did not throw');
  };

  test('a window outside the resampled box, a flip other than 0/1', () => {
    const out = new Float32Array(3 * 10 * 10);
    expect(err(() => decode!(bytes(), [0, 0, 120, 90, 20, 20, 15, 0, 10, 10, 0], 1e9, out, lut, 0)).message).toBe('window outside the resampled box');
    expect(err(() => decode!(bytes(), [0, 0, 120, 90, 20, 20, 0, 0, 10, 10, 2], 1e9, out, lut, 0))).toMatchObject({ code: 'ERR_INVALID_ARG', message: "geometry's flip must be 0 or 1" });
  });

  test('a lut of the wrong length, an offset past the end, a float out without lut', () => {
    const out = new Float32Array(3 * 10 * 10);
    const g = [0, 0, 120, 90, 10, 10];
    expect(err(() => decode!(bytes(), g, 1e9, out, lut.subarray(0, 767), 0))).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'lut must be a Float32Array of 768 values' });
    expect(err(() => decode!(bytes(), g, 1e9, out, lut, 1)).code).toBe('ERR_INVALID_ARG');
    expect(err(() => (decode as unknown as (...a: unknown[]) => boolean)(bytes(), g, 1e9, out)).code).toBe('ERR_INVALID_ARG');
    expect(err(() => (decode as unknown as (...a: unknown[]) => boolean)(bytes(), g, 1e9, new Int16Array(300))).code).toBe('ERR_INVALID_ARG');
    // Nothing past the window was touched by the calls that succeed.
    const big = new Float32Array(3 * 10 * 10 + 5).fill(7);
    expect(decode!(bytes(), g, 1e9, big, lut, 5)).toBe(true);
    expect([...big.subarray(0, 5)]).toEqual([7, 7, 7, 7, 7]);
  });
});
