import {
  centerCrop, compose, normalize, Pipeline, randomCrop, randomHorizontalFlip, randomResizedCrop,
  resize, Rng, toTensor, type RawImage,
} from '../../../src/data';
import { resizeBilinear } from '../../../src/data/resample';
import { randomResizedCropParams, resizeOutputSize, roundHalfEven, sharpPlan, type Step } from '../../../src/data/transforms';
import { pythonHas, runPythonJson } from '../../helpers/pytorch';

function randomImage(w: number, h: number, c: number, seed: number): RawImage {
  const r = new Rng(seed);
  const data = new Uint8Array(w * h * c);
  // Smooth structure plus noise, so resampling errors would show.
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    data[(y * w + x) * c + k] = Math.min(255, Math.max(0, Math.round(128 + 100 * Math.sin((x + 3 * k) / 5) * Math.cos(y / 7) + r.int(-20, 21))));
  }
  return { data, width: w, height: h, channels: c };
}

/** Reference: float CHW of pixels (no normalize). */
function chw(img: RawImage): Float32Array {
  const { width: w, height: h, channels: c } = img;
  const out = new Float32Array(w * h * c);
  for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[k * w * h + y * w + x] = Math.fround(img.data[(y * w + x) * c + k] / 255);
  return out;
}

/** Exact equality of float arrays (fast: compares bytes). */
function expectBytesEqual(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const diff = Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  if (diff !== 0) {
    const k = a.findIndex((v, i) => v !== b[i]);
    throw new Error(`arrays differ first at ${k}: ${a[k]} vs ${b[k]}`);
  }
}

function naiveCrop(img: RawImage, x0: number, y0: number, w: number, h: number, fill: number, flip: boolean): RawImage {
  const c = img.channels;
  const data = new Uint8Array(w * h * c).fill(fill);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const sx = x0 + x;
    const sy = y0 + y;
    if (sx < 0 || sy < 0 || sx >= img.width || sy >= img.height) continue;
    const dx = flip ? w - 1 - x : x;
    for (let k = 0; k < c; k++) data[(y * w + dx) * c + k] = img.data[(sy * img.width + sx) * c + k];
  }
  return { data, width: w, height: h, channels: c };
}

describe('Rng', () => {
  test('seeded, reproducible, per-sample streams independent of call order', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const xs = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xs);
    expect(new Rng(8).random()).not.toBe(xs[0]);
    expect(Rng.forSample(1, 2, 0, 3).nextU32()).toBe(Rng.forSample(1, 2, 0, 3).nextU32());
    expect(Rng.forSample(1, 2, 0, 3).nextU32()).not.toBe(Rng.forSample(1, 3, 0, 3).nextU32());
    expect(Rng.forSample(1, 2, 0, 3).nextU32()).not.toBe(Rng.forSample(1, 2, 1, 3).nextU32());
    expect(() => new Rng(-1)).toThrow('Expected non-negative integer for seed but received -1 of type number');
  });

  test('uniform and int cover their ranges evenly', () => {
    const r = new Rng(1);
    const hist = new Array(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100000; i++) {
      const v = r.int(0, 10);
      if (v >= 0 && v < 10) hist[v]++;
      else outside++;
    }
    expect(outside).toBe(0);
    for (const h of hist) expect(Math.abs(h - 10000)).toBeLessThan(500);
    let sum = 0;
    for (let i = 0; i < 100000; i++) sum += r.uniform(2, 4);
    expect(Math.abs(sum / 100000 - 3)).toBeLessThan(0.01);
  });
});

describe('transform factories validate their arguments', () => {
  test('messages name the argument', () => {
    expect(() => randomCrop(0)).toThrow('Expected positive integer or [height, width] for size but received 0 of type number');
    expect(() => randomCrop(32, { padding: [1, 2, 3] })).toThrow('Expected non-negative integer or array of 2 or 4 of them for padding but received an array of length 3');
    expect(() => randomHorizontalFlip(2)).toThrow('Expected number in [0, 1] for p but received 2 of type number');
    expect(() => normalize([0.5, 0.5], [1])).toThrow('Expected positive number or array of 2 positive numbers for std but received an array of length 1');
    expect(() => randomResizedCrop(224, { scale: [1, 0.5] })).toThrow('Expected [min, max] with min <= max for scale but received an array of length 2');
    expect(() => compose([normalize(0, 1)])).toThrow("Expected normalize after toTensor() for transforms[0] but received an object");
    expect(() => compose([toTensor(), resize(3)])).toThrow('Expected resize before toTensor() (geometric transforms run on pixels) for transforms[1]');
    expect(() => compose([{ op: 'blur' } as never])).toThrow(/^Expected a transform \(op one of to_tensor, normalize, .*\) for transforms\[0\]/);
    expect(() => compose([toTensor(), normalize([0, 0], [1, 1])]).outputShape([3, 8, 8])).toThrow('Expected 1 or 3 values (the images have 3 channels) for normalize mean but received an array of length 2');
  });
});

describe('geometry', () => {
  test('roundHalfEven is Python round()', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6, 3].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, 3, 3]);
  });

  test('resizeOutputSize is torchvision Resize for int and pair sizes', () => {
    expect(resizeOutputSize(400, 300, 256)).toEqual([341, 256]);
    expect(resizeOutputSize(300, 400, 256)).toEqual([256, 341]);
    expect(resizeOutputSize(500, 500, 256)).toEqual([256, 256]);
    expect(resizeOutputSize(400, 300, [10, 20])).toEqual([20, 10]);
  });

  test('randomResizedCropParams: crops inside the image with area and aspect in range', () => {
    const r = new Rng(3);
    const bad: number[][] = [];
    let minArea = 1;
    for (let k = 0; k < 2000; k++) {
      const [i, j, h, w] = randomResizedCropParams(400, 300, [0.08, 1], [3 / 4, 4 / 3], r);
      const area = (h * w) / (400 * 300);
      minArea = Math.min(minArea, area);
      const ok = i >= 0 && j >= 0 && i + h <= 300 && j + w <= 400 && area > 0.07 && area <= 1.01 && w / h > 0.7 && w / h < 1.4;
      if (!ok) bad.push([i, j, h, w]);
    }
    expect(bad).toEqual([]);
    expect(minArea).toBeLessThan(0.1);
  });

  test('randomResizedCropParams falls back to a center crop after 10 failed attempts', () => {
    // No crop of a 100×100 image has an aspect ratio in [10, 20] at >= 50% of the area.
    expect(randomResizedCropParams(100, 100, [0.5, 1], [10, 20], new Rng(1))).toEqual([45, 0, 10, 100]);
    expect(randomResizedCropParams(100, 100, [0.5, 1], [0.05, 0.1], new Rng(1))).toEqual([0, 45, 100, 10]);
    expect(randomResizedCropParams(400, 100, [2, 3], [0.5, 5], new Rng(1))).toEqual([0, 0, 100, 400]);
  });

  test('randomCrop with padding equals pad-then-crop, flip equals mirroring', () => {
    const img = randomImage(32, 32, 3, 1);
    const p = compose([randomCrop(32, { padding: 4, fill: 7 }), randomHorizontalFlip(0.5)]);
    let flips = 0;
    for (let s = 0; s < 200; s++) {
      const { steps } = p.plan(32, 32, new Rng(s));
      const crop = steps.find((x) => x.t === 'crop') as (Step & { t: 'crop' }) | undefined;
      const flip = steps.some((x) => x.t === 'flip');
      if (flip) flips++;
      const x0 = crop ? crop.x : 0;
      const y0 = crop ? crop.y : 0;
      if (!(x0 >= -4 && x0 <= 4 && y0 >= -4 && y0 <= 4)) throw new Error(`offset ${x0}, ${y0} outside the padding`);
      const out = p.apply(img, new Rng(s));
      expectBytesEqual(out.data, chw(naiveCrop(img, x0, y0, 32, 32, 7, flip)));
    }
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
  });

  test('crop of a padded crop, flips before crops: composed views equal step-by-step pixels', () => {
    const img = randomImage(20, 15, 2, 2);
    const steps: Step[] = [
      { t: 'flip' },
      { t: 'crop', x: -3, y: 2, w: 18, h: 16, fill: 9 },
      { t: 'crop', x: 2, y: -2, w: 20, h: 10, fill: 200 },
      { t: 'flip' },
      { t: 'crop', x: 1, y: 1, w: 12, h: 8, fill: 0 },
    ];
    let ref = img;
    for (const s of steps) {
      if (s.t === 'flip') ref = naiveCrop(ref, 0, 0, ref.width, ref.height, 0, true);
      else if (s.t === 'crop') ref = naiveCrop(ref, s.x, s.y, s.w, s.h, s.fill, false);
    }
    const out = new Float32Array(2 * 12 * 8);
    expect(new Pipeline([]).execute(img, steps, out, 0)).toEqual([2, 8, 12]);
    expectBytesEqual(out, chw(ref));
  });

  test('sharpPlan takes a leading in-bounds extract, resize, extract and leaves the rest', () => {
    const steps: Step[] = [
      { t: 'crop', x: 1, y: 2, w: 30, h: 20, fill: 0 },
      { t: 'resize', w: 10, h: 10 },
      { t: 'crop', x: 1, y: 1, w: 8, h: 8, fill: 0 },
      { t: 'flip' },
    ];
    expect(sharpPlan(steps, 40, 40)).toEqual({
      preExtract: { left: 1, top: 2, width: 30, height: 20 },
      resize: { width: 10, height: 10 },
      postExtract: { left: 1, top: 1, width: 8, height: 8 },
      rest: [{ t: 'flip' }],
    });
    expect(sharpPlan([{ t: 'crop', x: -1, y: 0, w: 4, h: 4, fill: 0 }], 10, 10).rest).toHaveLength(1);
  });

  test('outputShape follows the size-fixing transforms', () => {
    expect(compose([randomCrop(24)]).outputShape([3, 32, 32])).toEqual([3, 24, 24]);
    expect(compose([resize(256), centerCrop(224)]).outputShape(null)).toEqual([3, 224, 224]);
    expect(compose([resize(16)]).outputShape(null)).toBeNull();
    expect(compose([resize(14)]).outputShape([1, 28, 56])).toEqual([1, 14, 28]);
    expect(compose([]).outputShape([1, 28, 28])).toEqual([1, 28, 28]);
  });

  test('same seed, same result; the source pixels are never written', () => {
    const img = randomImage(50, 40, 3, 5);
    const before = img.data.slice();
    const p = compose([randomResizedCrop(24), randomHorizontalFlip(), toTensor(), normalize([0.5, 0.4, 0.3], [0.2, 0.3, 0.4])]);
    const a = p.apply(img, 11);
    expectBytesEqual(p.apply(img, 11).data, a.data);
    expect(() => expectBytesEqual(p.apply(img, 12).data, a.data)).toThrow(/differ/);
    expect(img.data).toEqual(before);
  });
});

const PIL_SCRIPT = String.raw`
import sys, json, base64
import numpy as np, torch
from PIL import Image
import torchvision.transforms as T
import torchvision.transforms.functional as F
req = json.load(sys.stdin)
out = []
for c in req:
    arr = np.frombuffer(base64.b64decode(c['img']), dtype=np.uint8).reshape(c['h'], c['w'], c['c'])
    im = Image.fromarray(arr if c['c'] == 3 else arr[:, :, 0])
    kind = c['kind']
    if kind == 'resize':
        r = im.resize((c['ow'], c['oh']), Image.BILINEAR)
        out.append(base64.b64encode(np.asarray(r).tobytes()).decode())
    elif kind == 'resized_crop':
        i, j, h, w = c['params']
        r = F.resized_crop(im, i, j, h, w, [c['oh'], c['ow']], T.InterpolationMode.BILINEAR)
        out.append(base64.b64encode(np.asarray(r).tobytes()).decode())
    elif kind == 'eval':
        t = T.Compose([T.Resize(c['resize']), T.CenterCrop(c['crop']), T.ToTensor(), T.Normalize(c['mean'], c['std'])])
        out.append(base64.b64encode(t(im).numpy().astype(np.float32).tobytes()).decode())
print(json.dumps(out))
`;

function b64(img: RawImage): string {
  return Buffer.from(img.data).toString('base64');
}

function fromB64(s: string, w: number, h: number, c: number): RawImage {
  return { data: new Uint8Array(Buffer.from(s, 'base64')), width: w, height: h, channels: c };
}

(pythonHas('torch, torchvision, PIL') ? describe : describe.skip)('bit-for-bit against Pillow / torchvision (/usr/bin/python3)', () => {
  test('bilinear resize (up, down, non-integer factors, grey and RGB) equals PIL', () => {
    const cases = [
      [37, 23, 3, 16, 50], [100, 80, 3, 224, 224], [400, 300, 3, 341, 256], [64, 64, 1, 21, 17], [28, 28, 1, 28, 56], [9, 5, 3, 9, 2],
    ];
    const imgs = cases.map(([w, h, c], k) => randomImage(w, h, c, k));
    const res = runPythonJson<string[]>(PIL_SCRIPT, cases.map(([w, h, c, ow, oh], k) => ({ kind: 'resize', img: b64(imgs[k]), w, h, c, ow, oh })));
    cases.forEach(([w, h, , ow, oh], k) => {
      const ours = resizeBilinear(imgs[k], 0, 0, w, h, ow, oh);
      expect(Buffer.compare(Buffer.from(ours.data), Buffer.from(fromB64(res[k], ow, oh, imgs[k].channels).data))).toBe(0);
    });
  });

  test('RandomResizedCrop crop+resize with drawn params equals F.resized_crop', () => {
    const img = randomImage(400, 300, 3, 9);
    const p = compose([randomResizedCrop(64)]);
    const params: number[][] = [];
    const ours: Float32Array[] = [];
    for (let s = 0; s < 12; s++) {
      const rng = new Rng(s);
      params.push(randomResizedCropParams(400, 300, [0.08, 1], [3 / 4, 4 / 3], new Rng(s)));
      ours.push(p.apply(img, rng).data);
    }
    const res = runPythonJson<string[]>(PIL_SCRIPT, params.map((pr) => ({ kind: 'resized_crop', img: b64(img), w: 400, h: 300, c: 3, params: pr, ow: 64, oh: 64 })));
    res.forEach((r, k) => expectBytesEqual(ours[k], chw(fromB64(r, 64, 64, 3))));
  });

  test('Resize(256) + CenterCrop(224) + ToTensor + Normalize equals torchvision, float32 for float32', () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const imgs = [randomImage(400, 300, 3, 1), randomImage(300, 451, 3, 2), randomImage(200, 150, 3, 3)];
    const res = runPythonJson<string[]>(PIL_SCRIPT, imgs.map((im) => ({ kind: 'eval', img: b64(im), w: im.width, h: im.height, c: 3, resize: 256, crop: 224, mean, std })));
    const p = compose([resize(256), centerCrop(224), toTensor(), normalize(mean, std)]);
    imgs.forEach((im, k) => {
      const ours = p.apply(im, 0);
      const ref = new Float32Array(new Uint8Array(Buffer.from(res[k], 'base64')).buffer);
      expect(ours.shape).toEqual([3, 224, 224]);
      expectBytesEqual(ours.data, ref);
    });
  });
});
