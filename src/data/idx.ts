/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a big-endian
 * header (magic 0x00000803 = 2051 for images with dims n, rows, cols; 0x00000801 = 2049 for labels
 * with dim n) followed by unsigned bytes. Files may be gzipped (detected by content, not name).
 */
import { constants as bufferConstants } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ArrayDataset, sharedBytes } from './array-dataset';
import { readAt, readInto } from '../bounded-read';
import { DatasetError, rootFix, withDatasetFile, type RootFix } from './base';
import { gunzipShared, type GunzipReply } from './gunzip-shared';
import { InvalidArgumentError } from '../errors';
import { bool, int, list, obj, str } from '../validate';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols bytes (shared memory). */
  data: Uint8Array;
}

/**
 * Deflate's best ratio is 1032:1, so a gzip file of n bytes cannot inflate to more than about
 * 1032·n bytes: a header that declares more belongs to a truncated file.
 */
const GZIP_MAX_RATIO = 1032;

/** What a dataset accepts from its IDX files, so a header cannot make the loader inflate gigabytes. */
export interface IdxLimits {
  /** Exact image height and width (MNIST-family files are 28×28). */
  rows?: number;
  cols?: number;
  /** The most records the split can hold (60000 for the MNIST training split). */
  maxCount?: number;
}

function corruptGzip(file: string, e: unknown, fix?: RootFix): DatasetError {
  return new DatasetError(`Corrupt gzip data in ${file} (${(e as Error).message}): the file is truncated or damaged`, file, { cause: e, fix });
}

const isGzip = (raw: Uint8Array) => raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;

/** The first `want` inflated bytes (fewer when the stream is shorter), inflating only a prefix. */
function gunzipHead(raw: Buffer, want: number, file: string, fix?: RootFix): Buffer {
  for (let n = Math.min(1024, raw.length); ; n = Math.min(n * 4, raw.length)) {
    let head: Buffer;
    try {
      head = zlib.gunzipSync(raw.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw corruptGzip(file, e, fix);
    }
    if (head.length >= want || n === raw.length) return head;
  }
}

/**
 * What the header is looked for in: a gzip member's own header and its first deflate block's
 * header take far less.
 */
const PREFIX_BYTES = 64 * 1024;

/**
 * The most bytes gzip can take to hold `declared` bytes: zlib's deflateBound, plus room for the
 * gzip header's optional name and comment. A longer file is not the IDX file its header says.
 */
const gzipBound = (declared: number) => declared + Math.floor(declared / 2 ** 12) + Math.floor(declared / 2 ** 14) + Math.floor(declared / 2 ** 25) + PREFIX_BYTES;

/**
 * From this inflated size on, a gzip file is inflated in a worker (src/data/gunzip-shared.ts): its
 * garbage would stay resident for the whole run. A label file's few KiB are not worth the worker's
 * ~35 ms start.
 */
export const WORKER_GUNZIP_BYTES = 1 << 20;

/**
 * Reads an IDX file (gzipped or not): checks the magic number, reads the header's dims, lets
 * `check` validate them and return the total size they declare, and only then reads the file
 * (raw: when its size is that; gzip: when it is no more than that can take) and inflates it, never
 * beyond that size. `length` is the file's (raw) or the inflated size; `buf` holds the bytes when
 * `length` is the declared size.
 */
function readIdx(file: string, magic: number, dims: number, check: (d: number[]) => number, fix?: RootFix): { dims: number[]; buf: Uint8Array; length: number } {
  str('file', file);
  if (fix !== undefined) rootFix('fix', fix);
  return withDatasetFile(file, 'dataset', fix, (fd, size) => {
    const prefix = readAt(fd, Math.min(size, PREFIX_BYTES), 0);
    const headerBytes = 4 + 4 * dims;
    const gz = isGzip(prefix);
    const d = header(gz ? gunzipHead(prefix, headerBytes, file, fix) : prefix, file, magic, dims);
    const declared = check(d);
    if (!gz) {
      if (size !== declared) return { dims: d, buf: prefix, length: size };
      const buf = sharedBytes(size);
      const got = readInto(fd, buf, 0);
      return { dims: d, buf: buf.subarray(0, got), length: got };
    }
    if (size > gzipBound(declared)) {
      throw new DatasetError(`${file} is ${size} bytes of gzip, more than the ${declared} bytes its header declares can take: the file is damaged or not an IDX file`, file);
    }
    if (declared > size * GZIP_MAX_RATIO + headerBytes) {
      throw new DatasetError(`${file} is ${size} bytes of gzip, too few to hold the ${declared} bytes its header declares: the file is truncated`, file);
    }
    const buf = declared >= WORKER_GUNZIP_BYTES ? gunzipInWorker(fd, size, declared, file, fix) : gunzipAtMost(readAt(fd, size, 0), declared, file, fix);
    return { dims: d, buf, length: buf.length };
  });
}

/** One output piece of the declared size plus a byte: no pieces to concatenate, and a longer stream still shows. */
function gunzipAtMost(raw: Buffer, declared: number, file: string, fix?: RootFix): Buffer {
  try {
    return zlib.gunzipSync(raw, { maxOutputLength: declared, chunkSize: Math.max(declared + 1, zlib.constants.Z_MIN_CHUNK) });
  } catch (e) {
    throw gunzipFailure(e as GunzipError, declared, file, fix);
  }
}

function gunzipInWorker(fd: number, size: number, declared: number, file: string, fix?: RootFix): Uint8Array {
  const { bytes, reply } = gunzipShared(fd, size, declared);
  if ('error' in reply) throw gunzipFailure(reply.error, declared, file, fix);
  return bytes;
}

type GunzipError = Extract<GunzipReply, { error: unknown }>['error'];

function gunzipFailure(e: GunzipError, declared: number, file: string, fix?: RootFix): DatasetError {
  if (e.worker) return new DatasetError(`Could not inflate ${file}: ${e.message}`, file);
  if (e.reading) return new DatasetError(`Cannot read dataset file ${file} (${e.code ?? e.message})`, file, { cause: e, fix });
  if (e.code === 'ERR_BUFFER_TOO_LARGE') {
    return new DatasetError(`${file} inflates to more than the ${declared} bytes its header declares: the file is damaged or not an IDX file`, file, { cause: e });
  }
  return corruptGzip(file, e, fix);
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

function checkCount(file: string, count: number, what: string, limits: IdxLimits): void {
  if (count === 0) throw new DatasetError(`${file} holds no ${what}: its header declares 0`, file);
  if (limits.maxCount !== undefined && count > limits.maxCount) {
    throw new DatasetError(`${file} declares ${count} ${what}, more than the ${limits.maxCount} this dataset holds: the file belongs to another dataset or is damaged`, file);
  }
}

/** Reads an IDX image file (idx3-ubyte, gzipped or not), within the dataset's limits. */
export function readIdxImages(file: string, fix?: RootFix, limits: IdxLimits = {}): IdxImages {
  const { dims, buf, length } = readIdx(file, IDX_IMAGES_MAGIC, 3, ([count, rows, cols]) => {
    if (rows === 0 || cols === 0) throw new DatasetError(`${file} declares images of ${rows}×${cols} pixels: an image needs at least one row and one column`, file);
    if ((limits.rows !== undefined && rows !== limits.rows) || (limits.cols !== undefined && cols !== limits.cols)) {
      throw new DatasetError(`${file} holds ${rows}×${cols} images but this dataset's images are ${limits.rows ?? rows}×${limits.cols ?? cols}`, file);
    }
    checkCount(file, count, 'images', limits);
    const total = 16 + count * rows * cols;
    if (total > bufferConstants.MAX_LENGTH) {
      throw new DatasetError(`${file} declares ${count} images of ${rows}×${cols} (${total} bytes), more than one buffer can hold`, file);
    }
    return total;
  }, fix);
  const [count, rows, cols] = dims;
  const expected = 16 + count * rows * cols;
  if (length !== expected) {
    throw new DatasetError(
      `${file} has ${length} bytes but its header (${count} images of ${rows}×${cols}) needs ${expected}: the file is ${length < expected ? 'truncated' : 'longer than its header says'}`,
      file,
    );
  }
  return { count, rows, cols, data: sharedBytes(buf.subarray(16)) };
}

/** Reads an IDX label file (idx1-ubyte, gzipped or not), within the dataset's limits. */
export function readIdxLabels(file: string, fix?: RootFix, limits: IdxLimits = {}): Uint8Array {
  const { dims, buf, length } = readIdx(file, IDX_LABELS_MAGIC, 1, ([count]) => {
    checkCount(file, count, 'labels', limits);
    return 8 + count;
  }, fix);
  const [count] = dims;
  if (length !== 8 + count) {
    throw new DatasetError(
      `${file} has ${length} bytes but its header (${count} labels) needs ${8 + count}: the file is ${length < 8 + count ? 'truncated' : 'longer than its header says'}`,
      file,
    );
  }
  return buf.subarray(8);
}

/** `base.gz` or `base` in root, whichever exists (gz first); a DatasetError naming both otherwise. */
export function findFile(root: string, base: string, fix: RootFix): string {
  for (const name of [`${base}.gz`, base]) {
    const p = path.join(root, name);
    if (fs.existsSync(p)) return p;
  }
  const p = path.join(root, `${base}.gz`);
  throw new DatasetError(`Missing dataset file ${p} (nor ${path.join(root, base)})`, p, { fix });
}

export interface IdxDatasetOptions {
  root: string;
  train: boolean;
  name: string;
  numClasses: number;
  classes: readonly string[];
  /** What to tell the user when a file is missing or unreadable. */
  fix: RootFix;
  /** Image size and per-split record counts: { train: 60000, test: 10000 } for MNIST. */
  limits?: { rows: number; cols: number; train: number; test: number };
}

/** The image and label files of an IDX split (a DatasetError naming the first one missing). */
export function idxFiles(root: string, train: boolean, fix: RootFix): [string, string] {
  const prefix = train ? 'train' : 't10k';
  return [findFile(root, `${prefix}-images-idx3-ubyte`, fix), findFile(root, `${prefix}-labels-idx1-ubyte`, fix)];
}

/** An IDX image/label pair as an in-memory dataset (1 channel). */
export function loadIdxDataset(opts: IdxDatasetOptions): ArrayDataset {
  obj('options', opts, 'IDX dataset options ({ root, train, name, numClasses, classes, fix, limits? })');
  str('root', opts.root);
  bool('train', opts.train);
  str('name', opts.name);
  const numClasses = int('numClasses', opts.numClasses, 1);
  const classes = list('classes', opts.classes, `array of ${numClasses} class names`, (c) => typeof c === 'string');
  if (classes.length !== numClasses) throw new InvalidArgumentError('classes', `array of ${numClasses} class names`, classes);
  rootFix('fix', opts.fix);
  if (opts.limits !== undefined) {
    const limits = obj<Required<IdxDatasetOptions>['limits']>('limits', opts.limits, '{ rows, cols, train, test }');
    for (const k of ['rows', 'cols', 'train', 'test'] as const) int(`limits.${k}`, limits[k], 1);
  }
  const [imgFile, lblFile] = idxFiles(opts.root, opts.train, opts.fix);
  const l = opts.limits;
  const limits: IdxLimits = l ? { rows: l.rows, cols: l.cols, maxCount: opts.train ? l.train : l.test } : {};
  const images = readIdxImages(imgFile, opts.fix, limits);
  const labels = readIdxLabels(lblFile, opts.fix, limits);
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
