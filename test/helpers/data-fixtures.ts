/**
 * Files in the exact dataset formats, made from real Fashion-MNIST images (Debian's
 * dataset-fashion-mnist) when installed, else from deterministic synthetic images. The readers
 * here are deliberately independent of src/data (plain zlib + byte slicing).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { tempDir } from './temp';

export const FMNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const hasFashionMnist = fs.existsSync(path.join(FMNIST_DIR, 'train-images-idx3-ubyte.gz'));

export interface GreyImages {
  count: number;
  /** count × 28 × 28 */
  images: Uint8Array;
  labels: Uint8Array;
  real: boolean;
}

/** The first n Fashion-MNIST test images (real when installed, synthetic otherwise). */
export function fashionImages(n: number): GreyImages {
  if (hasFashionMnist) {
    const img = zlib.gunzipSync(fs.readFileSync(path.join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz')));
    const lbl = zlib.gunzipSync(fs.readFileSync(path.join(FMNIST_DIR, 't10k-labels-idx1-ubyte.gz')));
    return { count: n, images: new Uint8Array(img.subarray(16, 16 + n * 784)), labels: new Uint8Array(lbl.subarray(8, 8 + n)), real: true };
  }
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  let s = 12345;
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    images[i] = s >>> 24;
  }
  for (let i = 0; i < n; i++) labels[i] = (i * 7) % 10;
  return { count: n, images, labels, real: false };
}

export function tmpDir(prefix = 'signin-data-'): string {
  return tempDir(prefix);
}

export function idxImagesBytes(images: Uint8Array, count: number, rows = 28, cols = 28, magic = 2051): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(magic, 0);
  h.writeUInt32BE(count, 4);
  h.writeUInt32BE(rows, 8);
  h.writeUInt32BE(cols, 12);
  return Buffer.concat([h, Buffer.from(images.buffer, images.byteOffset, images.byteLength)]);
}

export function idxLabelsBytes(labels: Uint8Array, magic = 2049): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(magic, 0);
  h.writeUInt32BE(labels.length, 4);
  return Buffer.concat([h, Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength)]);
}

/** Writes the four IDX files (train = first half, t10k = second half) into dir. */
export function writeIdxSet(dir: string, src: GreyImages, gzip: boolean): { train: GreyImages; test: GreyImages } {
  fs.mkdirSync(dir, { recursive: true });
  const half = Math.floor(src.count / 2);
  const part = (a: number, b: number): GreyImages => ({ count: b - a, images: src.images.slice(a * 784, b * 784), labels: src.labels.slice(a, b), real: src.real });
  const train = part(0, half);
  const test = part(half, src.count);
  const ext = gzip ? '.gz' : '';
  const w = (name: string, data: Buffer) => fs.writeFileSync(path.join(dir, name + ext), gzip ? zlib.gzipSync(data) : data);
  w('train-images-idx3-ubyte', idxImagesBytes(train.images, train.count));
  w('train-labels-idx1-ubyte', idxLabelsBytes(train.labels));
  w('t10k-images-idx3-ubyte', idxImagesBytes(test.images, test.count));
  w('t10k-labels-idx1-ubyte', idxLabelsBytes(test.labels));
  return { train, test };
}

/** A 32×32 RGB version of grey image i (padded 2 px, channels made distinct): HWC. */
export function rgb32(src: GreyImages, i: number): Uint8Array {
  const out = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
      const g = inside ? src.images[i * 784 + (y - 2) * 28 + (x - 2)] : (x * 8 + y) & 255;
      const o = (y * 32 + x) * 3;
      out[o] = g;
      out[o + 1] = 255 - g;
      out[o + 2] = (g * 3 + i) & 255;
    }
  }
  return out;
}

/** One CIFAR record: label bytes then 1024 R, 1024 G, 1024 B (CHW). */
export function cifarRecord(labels: number[], hwc: Uint8Array): Buffer {
  const rec = Buffer.alloc(labels.length + 3072);
  labels.forEach((l, k) => (rec[k] = l));
  for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) rec[labels.length + c * 1024 + p] = hwc[p * 3 + c];
  return rec;
}

export interface RgbSet {
  /** HWC 32×32×3 per sample, in file order. */
  images: Uint8Array[];
  labels: number[];
  coarse?: number[];
}

/** CIFAR-10 binaries: train split over 5 batch files (sizes differ), test_batch. */
export function writeCifar10(dir: string, src: GreyImages, nTrain: number, nTest: number): { train: RgbSet; test: RgbSet } {
  fs.mkdirSync(dir, { recursive: true });
  const train: RgbSet = { images: [], labels: [] };
  const test: RgbSet = { images: [], labels: [] };
  const recs: Buffer[][] = [[], [], [], [], []];
  for (let i = 0; i < nTrain; i++) {
    const img = rgb32(src, i % src.count);
    train.images.push(img);
    train.labels.push(src.labels[i % src.count]);
  }
  // File b gets a contiguous slice, so file order = sample order.
  const bounds = [0, 1, 2, 3, 4, 5].map((b) => Math.floor((b * nTrain) / 5));
  for (let b = 0; b < 5; b++) for (let i = bounds[b]; i < bounds[b + 1]; i++) recs[b].push(cifarRecord([train.labels[i]], train.images[i]));
  recs.forEach((r, b) => fs.writeFileSync(path.join(dir, `data_batch_${b + 1}.bin`), Buffer.concat(r)));
  const t: Buffer[] = [];
  for (let i = 0; i < nTest; i++) {
    const k = (i + nTrain) % src.count;
    const img = rgb32(src, k);
    test.images.push(img);
    test.labels.push(src.labels[k]);
    t.push(cifarRecord([src.labels[k]], img));
  }
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.concat(t));
  return { train, test };
}

/** CIFAR-100 binaries (train.bin, test.bin): coarse = label * 2 % 20, fine = label * 10 + i % 10. */
export function writeCifar100(dir: string, src: GreyImages, nTrain: number, nTest: number): { train: RgbSet; test: RgbSet } {
  fs.mkdirSync(dir, { recursive: true });
  const make = (n: number, off: number, file: string): RgbSet => {
    const set: RgbSet = { images: [], labels: [], coarse: [] };
    const recs: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const k = (i + off) % src.count;
      const img = rgb32(src, k);
      const fine = src.labels[k] * 10 + (i % 10);
      const coarse = (src.labels[k] * 2 + (i % 2)) % 20;
      set.images.push(img);
      set.labels.push(fine);
      set.coarse!.push(coarse);
      recs.push(cifarRecord([coarse, fine], img));
    }
    fs.writeFileSync(path.join(dir, file), Buffer.concat(recs));
    return set;
  };
  return { train: make(nTrain, 0, 'train.bin'), test: make(nTest, nTrain, 'test.bin') };
}

export interface FolderImage {
  rel: string;
  label: number;
  /** The pixels encoded (RGB HWC). */
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** A width × height RGB image from grey image i (nearest upscaling, channels made distinct). */
export function rgbScaled(src: GreyImages, i: number, width: number, height: number, noiseSeed = 0): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  let s = (noiseSeed * 2654435761 + i) >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = src.images[(i % src.count) * 784 + Math.floor((y * 28) / height) * 28 + Math.floor((x * 28) / width)];
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const n = noiseSeed ? (s >>> 28) - 8 : 0;
      const o = (y * width + x) * 3;
      out[o] = Math.min(255, Math.max(0, g + n));
      out[o + 1] = Math.min(255, Math.max(0, 255 - g + n));
      out[o + 2] = Math.min(255, Math.max(0, ((x + y) & 63) + g / 2 + n));
    }
  }
  return out;
}

export interface FolderOptions {
  classes: string[];
  perClass: number;
  format: 'png' | 'jpeg';
  width?: number;
  height?: number;
  /** File extension (default .png / .JPEG). */
  ext?: string;
  /** Add mild noise (bench images). */
  noise?: boolean;
  /** Put every other file of a class into a nested sub-folder. */
  nested?: boolean;
}

/** An ImageFolder tree root/<class>/<file> encoded with sharp; returns the images in no particular order. */
export async function writeImageFolder(root: string, src: GreyImages, opts: FolderOptions): Promise<FolderImage[]> {
  const sharp = require('sharp') as typeof import('sharp').default;
  const width = opts.width ?? 28;
  const height = opts.height ?? 28;
  const out: FolderImage[] = [];
  let k = 0;
  for (const [label, cls] of opts.classes.entries()) {
    fs.mkdirSync(path.join(root, cls), { recursive: true });
    for (let j = 0; j < opts.perClass; j++, k++) {
      const pixels = rgbScaled(src, k, width, height, opts.noise ? k + 1 : 0);
      const ext = opts.ext ?? (opts.format === 'png' ? '.png' : '.JPEG');
      const sub = opts.nested && j % 2 === 1 ? 'sub' : '';
      if (sub) fs.mkdirSync(path.join(root, cls, sub), { recursive: true });
      const rel = path.join(cls, sub, `img_${String(j).padStart(4, '0')}${ext}`);
      const img = sharp(Buffer.from(pixels), { raw: { width, height, channels: 3 } });
      const buf = opts.format === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
      fs.writeFileSync(path.join(root, rel), buf);
      out.push({ rel, label, pixels, width, height });
    }
  }
  return out;
}
