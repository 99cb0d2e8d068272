/**
 * ImageFolder's libjpeg path (native/jpeg/, src/data/jpeg.ts) against PIL on the same files:
 * Image.open(f).convert('RGB').crop(box).resize(size, BILINEAR) is what torchvision's
 * RandomResizedCrop / Resize / CenterCrop compute. The JPEGs and references come from Debian's
 * python3-pil (same libjpeg-turbo), through test/helpers/pytorch.ts's interpreter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compose, DataLoader, DatasetError, ImageFolder, randomResizedCrop, resize, toRng, toTensor, type Batch } from '../../../src/data';
import { jpegDecoder } from '../../../src/data/jpeg';
import { ToolkitError } from '../../../src/errors';
import { runPythonJson } from '../../helpers/pytorch';
import { tmpDir } from '../../helpers/data-fixtures';

interface Case {
  file: string;
  box: [number, number, number, number];
  out: [number, number];
}

// Smooth gradients plus noise (so that the resampling weights matter), in the sizes and kinds the
// cases need: odd sizes, 4:2:0 and progressive 4:4:4 colour, grey, and CMYK (left to sharp).
const MAKE_AND_REFERENCE = String.raw`
import base64, json, os, sys
import numpy as np
from PIL import Image
args = json.load(sys.stdin)
d = args['dir']
rng = np.random.default_rng(0)
def pattern(w, h, c):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 / w), (y * 255 / h), ((x + y) * 127 / (w + h)) + 64][:c], -1)
    return np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
os.makedirs(os.path.join(d, 'a'), exist_ok=True)
os.makedirs(os.path.join(d, 'b'), exist_ok=True)
Image.fromarray(pattern(333, 257, 3)).save(os.path.join(d, 'a', 'rgb.jpg'), quality=90)
Image.fromarray(pattern(101, 77, 1)[..., 0], 'L').save(os.path.join(d, 'a', 'grey.jpg'), quality=85)
Image.fromarray(pattern(64, 48, 3)).save(os.path.join(d, 'b', 'prog.jpg'), quality=95, subsampling=0, progressive=True)
Image.fromarray(pattern(40, 30, 3)).convert('CMYK').save(os.path.join(d, 'cmyk.jpg'), quality=90)
out = []
for c in args['cases']:
    x, y, w, h = c['box']
    im = Image.open(os.path.join(d, c['file'])).convert('RGB').crop((x, y, x + w, y + h)).resize(tuple(c['out']), Image.BILINEAR)
    out.append(base64.b64encode(im.tobytes()).decode())
print(json.dumps(out))
`;

const CASES: Case[] = [
  { file: 'a/rgb.jpg', box: [0, 0, 333, 257], out: [224, 224] }, // the whole image, shrunk unevenly
  { file: 'a/rgb.jpg', box: [17, 31, 200, 150], out: [224, 224] }, // enlarged
  { file: 'a/rgb.jpg', box: [250, 200, 83, 57], out: [31, 19] }, // the bottom-right corner, shrunk
  { file: 'a/rgb.jpg', box: [100, 0, 1, 1], out: [5, 3] }, // one pixel of the top edge
  { file: 'a/grey.jpg', box: [3, 5, 90, 70], out: [150, 120] },
  { file: 'a/grey.jpg', box: [0, 0, 101, 77], out: [13, 77] }, // one axis only
  { file: 'b/prog.jpg', box: [0, 10, 64, 38], out: [64, 38] }, // a crop without resampling
];

let root: string;
let refs: Buffer[];
const decode = jpegDecoder();

beforeAll(() => {
  root = tmpDir();
  refs = runPythonJson<string[]>(MAKE_AND_REFERENCE, { dir: root, cases: CASES }).map((b) => Buffer.from(b, 'base64'));
  fs.renameSync(path.join(root, 'cmyk.jpg'), path.join(root, 'b', 'cmyk.jpg'));
});

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function decodeCase(c: Case): Uint8Array {
  const out = new Uint8Array(c.out[0] * c.out[1] * 3);
  expect(decode!(fs.readFileSync(path.join(root, c.file)), [...c.box, ...c.out], 1e9, out)).toBe(true);
  return out;
}

test('this addon was built with libjpeg (setup.sh installs libjpeg-dev)', () => {
  expect(typeof decode).toBe('function');
});

test.each(CASES.map((c, k) => [k, c] as const))('case %i: crop + resize equals PIL (%j)', (k, c) => {
  const ours = decodeCase(c);
  expect(ours.length).toBe(refs[k].length);
  expect(maxDiff(ours, refs[k])).toBeLessThanOrEqual(1);
});

test('the loader path (ImageFolder.decodeInto) gives PIL\'s pixels; sharp\'s kernel does not', async () => {
  const ds = new ImageFolder(root);
  const i = ds.samples().findIndex(([f]) => f === 'a/rgb.jpg');
  const [pil] = runPythonJson<string[]>(MAKE_AND_REFERENCE, { dir: tmpDir(), cases: [{ file: 'a/rgb.jpg', box: [0, 0, 333, 257], out: [45, 30] }] });
  const ref = Buffer.from(pil, 'base64');
  const run = async (d: ImageFolder) => {
    const out = new Float32Array(3 * 30 * 45);
    await d.decodeInto(i, compose([resize([30, 45]), toTensor()]), () => toRng(0), out, 0, [3, 30, 45]);
    // CHW floats in [0, 1] back to HWC bytes.
    const hwc = new Uint8Array(out.length);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 30 * 45; p++) hwc[p * 3 + c] = Math.round(out[c * 30 * 45 + p] * 255);
    return hwc;
  };
  expect(maxDiff(await run(ds), ref)).toBeLessThanOrEqual(1);
  expect(maxDiff(await run(new ImageFolder(root, { libjpeg: false })), ref)).toBeGreaterThan(1);
});

describe('bad input', () => {
  const good = () => fs.readFileSync(path.join(root, 'a', 'rgb.jpg'));
  const call = (bytes: Uint8Array, maxPixels = 1e9) => decode!(bytes, [0, 0, 333, 257, 20, 20], maxPixels, new Uint8Array(20 * 20 * 3));
  function nativeError(f: () => unknown): ToolkitError {
    try {
      f();
    } catch (e) {
      return e as ToolkitError;
    }
    throw new Error('did not throw');
  }

  test('truncated and corrupt JPEGs throw a coded error with libjpeg\'s reason, and the process goes on', () => {
    const truncated = nativeError(() => call(good().subarray(0, Math.floor(good().length * 0.6))));
    expect(truncated).toBeInstanceOf(ToolkitError);
    expect(truncated.code).toBe('ERR_NATIVE');
    expect(truncated.message).toMatch(/Premature end of JPEG file/);
    const corrupt = good();
    corrupt.fill(0xff, 2000, 2100); // fill bytes (0xFF) in the middle of the entropy-coded data
    corrupt[2100] = 0xd3;
    expect(nativeError(() => call(corrupt)).message).toMatch(/Corrupt JPEG data|marker/);
    const noImage = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    expect(nativeError(() => call(noImage)).code).toBe('ERR_NATIVE');
    expect(nativeError(() => call(good(), 333 * 257 - 1)).message).toBe('333×257 pixels, more than the limit of 85580 (maxPixels)');
    expect(nativeError(() => decode!(good(), [300, 0, 34, 10, 5, 5], 1e9, new Uint8Array(75))).message).toBe('crop box outside the 333×257 image');
    expect(nativeError(() => decode!(good(), [0, 0, 10, 10, 5, 5], 1e9, new Uint8Array(74))).code).toBe('ERR_INVALID_ARG');
    expect(maxDiff(decodeCase(CASES[2]), refs[2])).toBeLessThanOrEqual(1);
  });

  test('in ImageFolder they are an ImageDecodeError naming the file (strict) or a replacement (lenient)', async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'c'));
    fs.writeFileSync(path.join(dir, 'c', '0.jpg'), good().subarray(0, 9000));
    fs.copyFileSync(path.join(root, 'a', 'rgb.jpg'), path.join(dir, 'c', '1.jpg'));
    const pipeline = compose([randomResizedCrop(16), toTensor()]);
    const out = new Float32Array(3 * 16 * 16);
    const strict = new ImageFolder(dir, { strict: true });
    const err = await strict.decodeInto(0, pipeline, () => toRng(1), out, 0, [3, 16, 16]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).message).toMatch(new RegExp(`^Cannot decode image ${path.join(dir, 'c', '0.jpg')} \\(Premature end of JPEG file\\)`));
    const lenient = new ImageFolder(dir);
    lenient.onWarning = () => {};
    await expect(lenient.decodeInto(0, pipeline, () => toRng(1), out, 0, [3, 16, 16])).resolves.toBe(0);
  });

  test('a CMYK JPEG is left to sharp', async () => {
    const cmyk = fs.readFileSync(path.join(root, 'b', 'cmyk.jpg'));
    expect(decode!(cmyk, [0, 0, 40, 30, 8, 6], 1e9, new Uint8Array(8 * 6 * 3))).toBe(false);
    const ds = new ImageFolder(root, { strict: true });
    const i = ds.samples().findIndex(([f]) => f === 'b/cmyk.jpg');
    const out = new Float32Array(3 * 6 * 8);
    await ds.decodeInto(i, compose([resize([6, 8]), toTensor()]), () => toRng(0), out, 0, [3, 6, 8]);
    expect(out.some((v) => v > 0.1)).toBe(true);
  });
});

test('worker threads load the addon and give the in-process batches; sharp\'s would differ', async () => {
  const opts = { batchSize: 2, shuffle: true, seed: 3, transforms: [randomResizedCrop(24), toTensor()] };
  const collect = async (loader: DataLoader) => {
    const xs: Float32Array[] = [];
    for await (const b of loader as AsyncIterable<Batch>) {
      xs.push(b.x.data() as Float32Array);
      b.x.dispose();
      b.y.dispose();
    }
    return Buffer.concat(xs.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength)));
  };
  const inProcess = await collect(new DataLoader(new ImageFolder(root), opts));
  const workers = await collect(new DataLoader(new ImageFolder(root), { ...opts, numWorkers: 2 }));
  const sharp = await collect(new DataLoader(new ImageFolder(root, { libjpeg: false }), opts));
  expect(workers.equals(inProcess)).toBe(true);
  expect(sharp.equals(inProcess)).toBe(false);
});
