/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a big-endian
 * header (magic 0x00000803 = 2051 for images with dims n, rows, cols; 0x00000801 = 2049 for labels
 * with dim n) followed by unsigned bytes. Files may be gzipped (detected by content, not name).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ArrayDataset, sharedBytes } from './array-dataset';
import { DatasetError } from './base';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols bytes (shared memory). */
  data: Uint8Array;
}

/** Reads a whole file, gunzipping it when it starts with the gzip magic (1f 8b). */
export function readMaybeGzip(file: string, fix?: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(`Cannot read dataset file ${file} (${code ?? String(e)})${fix ? `: ${fix}` : ''}`, file, { cause: e });
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return zlib.gunzipSync(raw);
    } catch (e) {
      throw new DatasetError(`Corrupt gzip data in ${file} (${(e as Error).message}): the file is truncated or damaged${fix ? `; ${fix}` : ''}`, file, { cause: e });
    }
  }
  return raw;
}

function header(buf: Uint8Array, file: string, magic: number, dims: number): number[] {
  const kind = magic === IDX_IMAGES_MAGIC ? 'IDX images' : 'IDX labels';
  const headerBytes = 4 + 4 * dims;
  if (buf.length < headerBytes) {
    throw new DatasetError(`${file} is not an ${kind} file: ${buf.length} bytes is shorter than its ${headerBytes}-byte header`, file);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const got = view.getUint32(0);
  if (got !== magic) {
    throw new DatasetError(`${file} is not an ${kind} file: magic number ${got} (expected ${magic})`, file);
  }
  const out: number[] = [];
  for (let d = 0; d < dims; d++) out.push(view.getUint32(4 + 4 * d));
  return out;
}

/** Reads an IDX image file (idx3-ubyte, gzipped or not). */
export function readIdxImages(file: string, fix?: string): IdxImages {
  const buf = readMaybeGzip(file, fix);
  const [count, rows, cols] = header(buf, file, IDX_IMAGES_MAGIC, 3);
  const expected = 16 + count * rows * cols;
  if (buf.length !== expected) {
    throw new DatasetError(
      `${file} has ${buf.length} bytes but its header (${count} images of ${rows}×${cols}) needs ${expected}: the file is ${buf.length < expected ? 'truncated' : 'longer than its header says'}`,
      file,
    );
  }
  return { count, rows, cols, data: sharedBytes(buf.subarray(16)) };
}

/** Reads an IDX label file (idx1-ubyte, gzipped or not). */
export function readIdxLabels(file: string, fix?: string): Uint8Array {
  const buf = readMaybeGzip(file, fix);
  const [count] = header(buf, file, IDX_LABELS_MAGIC, 1);
  if (buf.length !== 8 + count) {
    throw new DatasetError(
      `${file} has ${buf.length} bytes but its header (${count} labels) needs ${8 + count}: the file is ${buf.length < 8 + count ? 'truncated' : 'longer than its header says'}`,
      file,
    );
  }
  return buf.subarray(8);
}

/** `base.gz` or `base` in root, whichever exists (gz first); a DatasetError naming both otherwise. */
export function findFile(root: string, base: string, fix: string): string {
  for (const name of [`${base}.gz`, base]) {
    const p = path.join(root, name);
    if (fs.existsSync(p)) return p;
  }
  const p = path.join(root, `${base}.gz`);
  throw new DatasetError(`Missing dataset file ${p} (nor ${path.join(root, base)}): ${fix}`, p);
}

export interface IdxDatasetOptions {
  root: string;
  train: boolean;
  name: string;
  numClasses: number;
  classes: readonly string[];
  /** What to tell the user when a file is missing (install command, or "pass root"). */
  fix: string;
}

/** An IDX image/label pair as an in-memory dataset (1 channel). */
export function loadIdxDataset(opts: IdxDatasetOptions): ArrayDataset {
  const prefix = opts.train ? 'train' : 't10k';
  const imgFile = findFile(opts.root, `${prefix}-images-idx3-ubyte`, opts.fix);
  const lblFile = findFile(opts.root, `${prefix}-labels-idx1-ubyte`, opts.fix);
  const images = readIdxImages(imgFile, opts.fix);
  const labels = readIdxLabels(lblFile, opts.fix);
  if (labels.length !== images.count) {
    throw new DatasetError(`${imgFile} holds ${images.count} images but ${lblFile} holds ${labels.length} labels`, lblFile);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= opts.numClasses) {
      throw new DatasetError(`${lblFile}: label ${labels[i]} of sample ${i} is not in [0, ${opts.numClasses - 1}]`, lblFile);
    }
  }
  return new ArrayDataset({
    images: images.data,
    labels,
    width: images.cols,
    height: images.rows,
    channels: 1,
    numClasses: opts.numClasses,
    classes: opts.classes,
    name: opts.name,
  });
}
