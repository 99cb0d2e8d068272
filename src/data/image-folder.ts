/**
 * ImageFolder (torchvision.datasets.ImageFolder): root/<class>/**\/<image>, classes are the
 * sub-folder names sorted by code point, label = index in that list; files are found recursively,
 * links followed, and ordered like torchvision (sorted folder paths, then sorted file names; a
 * name that is not UTF-8 reads as Python's os.fsdecode gives it). Decoding uses sharp
 * (libvips); every image becomes 3-channel uint8 (PIL's convert('RGB'): alpha dropped, grey
 * expanded, an embedded ICC profile ignored, CMYK by Pillow's formula). In the loader
 * (decodeInto), a JPEG whose transforms start with a crop or a resize is decoded by the addon's
 * libjpeg path instead (jpeg.ts: torchvision's exact pixels, in the worker's own thread; when the
 * rest is crops and flips, one call writes the sample's floats into the batch); CMYK/YCCK JPEGs,
 * other formats, and an addon without libjpeg use sharp.
 *
 * Unreadable images (truncated or corrupt JPEG, unsupported format, missing file, not a regular
 * file):
 *  - strict: false (default): a warning names the file (logged once per file) and the sample is
 *    REPLACED by the next readable sample (i+1, i+2, ... wrapping around), with that sample's label,
 *    so batches keep their size and every rank keeps the same number of batches;
 *  - strict: true: DatasetError (ERR_DATASET) naming the file.
 * A read that fails for the process's limits (EMFILE, ENFILE, ENOMEM) is an error in both modes.
 *
 * Images larger than maxPixels (default 64 megapixels, about 8000×8000) are unreadable in the same
 * sense: a small PNG can declare 16000² pixels and cost a gigabyte to decode. The size is read from
 * the header before decoding, and sharp's limitInputPixels holds for every other format. A file
 * larger than such an image can be (maxImageBytes) is unreadable without being read.
 *
 * Extensions: .jpg .jpeg .png .webp .tif .tiff (case-insensitive). torchvision also accepts
 * .bmp/.ppm/.pgm, which sharp cannot decode: such files are left out here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { isMainThread } from 'node:worker_threads';
import { InvalidArgumentError, ToolkitError } from '../errors';
import { keysOf, options } from '../validate';
import { childLogger } from '../logger';
import { checkIndex, DatasetError, notRegularFile, type Dataset, type ImageFolderSpec, type RawImage, type Sample } from './base';
import { decodeJpegInto, decodeJpegPlan, isJpeg, jpegDecoder, jpegPlan, jpegWindow } from './jpeg';
import type { Pipeline, SharpPlan } from './transforms';
import { sharpPlan } from './transforms';
import { cropCopy, resizeBilinear } from './resample';
import type { Rng } from './rng';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'] as const;

/** The default bound on width × height of a decoded image (ImageNet's largest are ~20 megapixels). */
export const DEFAULT_MAX_PIXELS = 64 * 2 ** 20;

/**
 * The largest image file read for `maxPixels` pixels: 16 bytes a pixel (four channels of 32-bit
 * float samples stored uncompressed, a TIFF's most) and 16 MiB of metadata (EXIF, ICC, XMP, a
 * thumbnail). A larger file cannot hold an image within the limit, and is not read.
 */
export function maxImageBytes(maxPixels: number): number {
  return maxPixels * 16 + 16 * 2 ** 20;
}

type SharpModule = typeof import('sharp').default;
let sharpModule: SharpModule | undefined;

/** sharp, loaded on first use (the IDX/CIFAR paths never need it). */
export function loadSharp(): SharpModule {
  if (!sharpModule) {
    try {
      sharpModule = require('sharp') as SharpModule;
    } catch (e) {
      throw new DatasetError(`Cannot load sharp, needed to decode images (${(e as Error).message}): run "npm install sharp"`, undefined, { cause: e });
    }
  }
  return sharpModule;
}

/** Python's order of str (sorted() in torchvision): by code point. */
function byCodePoint(a: string, b: string): number {
  for (let i = 0; i < a.length && i < b.length; ) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Sorts by code point. JS's < compares UTF-16 code units, which differs only where a surrogate
 * meets U+E000..U+FFFF (an emoji and a full-width letter sort the other way), so names without
 * surrogates keep the faster native comparison.
 */
function sortByCodePoint<T>(items: T[], key: (t: T) => string): T[] {
  if (items.some((t) => SURROGATE.test(key(t)))) return items.sort((a, b) => byCodePoint(key(a), key(b)));
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The length of the well-formed UTF-8 sequence at b[i] (Unicode's table 3-7), 0 if there is none. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) return cont(1, c === 0xe0 ? 0xa0 : 0x80, c === 0xed ? 0x9f : 0xbf) && cont(2) ? 3 : 0;
  if (c >= 0xf0 && c <= 0xf4) return cont(1, c === 0xf0 ? 0x90 : 0x80, c === 0xf4 ? 0x8f : 0xbf) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/**
 * A file name as torchvision sees it (Python's os.fsdecode): UTF-8, with each byte that is not
 * part of a well-formed sequence read as the lone surrogate U+DC80..U+DCFF (surrogateescape). A
 * name that is not UTF-8 (from an old archive, say) then sorts, names a class and prints as in
 * torchvision, while the file is opened by its bytes.
 */
export function fsDecode(b: Uint8Array): string {
  if (isUtf8(b)) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  let out = '';
  for (let i = 0; i < b.length; ) {
    const n = utf8Length(b, i);
    out += n === 0 ? String.fromCharCode(0xdc00 + b[i]) : Buffer.from(b.buffer, b.byteOffset + i, n).toString('utf8');
    i += n || 1;
  }
  return out;
}

const SEP = Buffer.from(path.sep);

function joinBytes(a: Buffer, b: Buffer): Buffer {
  return Buffer.concat([a, SEP, b]);
}

function isImage(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** A directory's entries, named by their bytes (a name need not be UTF-8). */
function listDir(dir: Buffer): fs.Dirent<Buffer>[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    throw new DatasetError(`Cannot read image folder ${fsDecode(dir)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, fsDecode(dir), { cause: e, fix: { expected: 'a folder with one sub-folder per class' } });
  }
}

/** A folder's identity (dev:ino), which a link to it shares. */
function folderIdentity(p: Buffer): string {
  try {
    const st = fs.statSync(p, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch (e) {
    throw new DatasetError(`Cannot read image folder ${fsDecode(p)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, fsDecode(p), { cause: e });
  }
}

/** Whether an entry is a folder, itself or through a symbolic link (a broken link is not). */
function isFolder(dir: Buffer, d: fs.Dirent<Buffer>): boolean {
  if (d.isDirectory()) return true;
  if (!d.isSymbolicLink()) return false;
  try {
    return fs.statSync(joinBytes(dir, d.name)).isDirectory();
  } catch {
    return false;
  }
}

interface Folder {
  bytes: Buffer;
  name: string;
}

function classFolderEntries(dir: Buffer): Folder[] {
  const folders = listDir(dir).filter((d) => isFolder(dir, d)).map((d) => ({ bytes: d.name, name: fsDecode(d.name) }));
  return sortByCodePoint(folders, (f) => f.name);
}

/** The class folders of an ImageFolder root, in label order (torchvision's: sorted by name). */
export function classFolders(dir: string): string[] {
  return classFolderEntries(Buffer.from(dir)).map((f) => f.name);
}

/**
 * Every image under classDir, relative to base, in torchvision's order (sorted os.walk, links
 * followed). A link to a folder that contains it would make the walk endless (os.walk's too):
 * that is an error naming the link.
 */
function walk(base: Buffer, classDir: Folder): Buffer[] {
  const dirs: Folder[] = [];
  const stack = [{ dir: classDir, ancestors: [{ id: folderIdentity(base), path: base }] }];
  while (stack.length) {
    const { dir, ancestors } = stack.pop()!;
    const abs = joinBytes(base, dir.bytes);
    const id = folderIdentity(abs);
    const loop = ancestors.find((a) => a.id === id);
    if (loop) {
      throw new DatasetError(`${fsDecode(abs)} is a link to ${fsDecode(loop.path)}, a folder that contains it: the folder tree would loop forever; remove the link`, fsDecode(abs));
    }
    dirs.push(dir);
    const inside = [...ancestors, { id, path: abs }];
    for (const e of listDir(abs)) {
      if (isFolder(abs, e)) stack.push({ dir: { bytes: joinBytes(dir.bytes, e.name), name: `${dir.name}${path.sep}${fsDecode(e.name)}` }, ancestors: inside });
    }
  }
  const out: Buffer[] = [];
  for (const d of sortByCodePoint(dirs, (f) => f.name)) {
    const abs = joinBytes(base, d.bytes);
    const files = listDir(abs).filter((e) => !isFolder(abs, e)).map((e) => ({ bytes: e.name, name: fsDecode(e.name) })).filter((f) => isImage(f.name));
    for (const f of sortByCodePoint(files, (x) => x.name)) out.push(joinBytes(d.bytes, f.bytes));
  }
  return out;
}

export interface ImageFolderOptions {
  /** Throw on an unreadable image instead of warning and replacing it (default false). */
  strict?: boolean;
  name?: string;
  /** The largest width × height decoded (default DEFAULT_MAX_PIXELS); larger images are unreadable. */
  maxPixels?: number;
  /** Decode JPEGs in the loader with the addon's libjpeg path where it is built (default true); false: sharp. */
  libjpeg?: boolean;
}

/**
 * One image that cannot be decoded (corrupt, too large, no size, not RGB): ERR_DATASET like every
 * dataset failure, and the one kind of error that lenient mode replaces by the next sample.
 */
export class ImageDecodeError extends DatasetError {
  /** What is wrong with the image, without the file name. */
  readonly reason: string;

  constructor(reason: string, file?: string, options?: { cause?: unknown }) {
    super(`Cannot decode image${file === undefined ? '' : ` ${file}`} (${reason})`, file, options);
    this.reason = reason;
  }
}

/**
 * Read errors that are the process's or the system's, not the file's: replacing the sample would
 * drop readable images (a batch of 300 under a 128-descriptor limit lost most of them).
 */
const SYSTEM_LIMITS: Record<string, string> = {
  EMFILE: 'this process has too many open files: raise its limit (ulimit -n) or lower batchSize or prefetch',
  ENFILE: 'the system has too many open files',
  ENOMEM: 'the system is out of memory',
};

/** The first line of what a failed read or decode said (an errno code such as ENOENT, or sharp's message). */
function errorReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  return String(err?.code ?? err?.message ?? e).split('\n')[0];
}

function tooLarge(w: number, h: number, maxPixels: number, file?: string): ImageDecodeError {
  return new ImageDecodeError(`${w}×${h} pixels, more than the limit of ${maxPixels} (maxPixels)`, file);
}

/**
 * The bytes of an image file, opened without blocking and read only when it is a regular file of
 * at most maxImageBytes: opening a FIFO waits for a writer forever, reading a device such as
 * /dev/zero never ends, and a 1 GiB sparse .jpg was read whole, in each worker that drew it,
 * before failing to decode. The size comes from the fstat made anyway. `shown` names the file in
 * errors; a system error (ENOENT, EMFILE) is thrown as it is.
 */
async function readImageFile(file: Buffer | string, shown: string, maxPixels: number): Promise<Buffer> {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;
  const regular = (st: fs.Stats) => {
    const kind = notRegularFile(st);
    if (kind) throw new ImageDecodeError(`${kind}, not a regular file`, shown);
    const most = maxImageBytes(maxPixels);
    if (st.size > most) throw new ImageDecodeError(`${st.size} bytes, more than the ${most} an image of at most ${maxPixels} pixels (maxPixels) can take`, shown);
  };
  // A loader worker thread does nothing but build batches, so it reads files blocking: ~0.08 CPU ms
  // per 100 kB JPEG against ~0.15-0.3 through fs.promises' thread-pool round trips. The main
  // thread keeps reading asynchronously, so that the reads of a batch overlap each other.
  if (!isMainThread) {
    const fd = fs.openSync(file, flags);
    try {
      regular(fs.fstatSync(fd));
      return fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  const handle = await fs.promises.open(file, flags);
  try {
    regular(await handle.stat());
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * Decodes an encoded image to 3-channel uint8 HWC (sharp), optionally with a sharp plan; images
 * of more than maxPixels pixels are refused before they are decoded.
 */
export async function decodeImage(given: Buffer | string, plan?: Omit<SharpPlan, 'rest'>, maxPixels = DEFAULT_MAX_PIXELS): Promise<RawImage> {
  if (typeof given !== 'string' && !Buffer.isBuffer(given)) throw new InvalidArgumentError('input', 'Buffer or file path (string)', given);
  const sharp = loadSharp();
  const file = typeof given === 'string' ? given : undefined;
  // Read here, not by sharp: libvips opens a FIFO blocking, and reads /dev/zero without end.
  const input = typeof given === 'string'
    ? await readImageFile(given, given, maxPixels).catch((e: unknown) => {
      throw e instanceof ImageDecodeError ? e : new ImageDecodeError(errorReason(e), given, { cause: e });
    })
    : given;
  const size = headerSize(input);
  if (size && size[0] * size[1] > maxPixels) throw tooLarge(size[0], size[1], maxPixels, file);
  const decode = async (): Promise<RawImage> => {
    // PIL's convert('RGB') (torchvision's loader) and the libjpeg path ignore an embedded ICC
    // profile; sharp would convert from it (a Display P3 PNG by up to 68 levels).
    let s = sharp(input, { failOn: 'warning', limitInputPixels: maxPixels, ignoreIcc: true });
    if (await isCmyk(input)) return applyPlan(await cmykToRgb(s), plan);
    if (plan?.preExtract) s = s.extract(plan.preExtract);
    if (plan?.resize) s = s.resize({ ...plan.resize, fit: 'fill', kernel: 'linear' });
    if (plan?.postExtract) s = s.extract(plan.postExtract);
    const { data, info } = await s.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  };
  const img = await decode().catch((e: unknown) => {
    throw new ImageDecodeError(errorReason(e), file, { cause: e });
  });
  if (img.channels !== 3) throw new ImageDecodeError(`decoded to ${img.channels} channels instead of 3`, file);
  return img;
}

const isTiff = (b: Uint8Array) => b.length > 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a));

/** A CMYK image: a JPEG of 4 components (CMYK or YCCK), or a TIFF that sharp reads as CMYK. */
async function isCmyk(input: Buffer): Promise<boolean> {
  const frame = jpegFrame(input);
  if (frame) return frame[2] === 4;
  if (!isTiff(input)) return false;
  return (await loadSharp()(input).metadata()).space === 'cmyk';
}

/**
 * A CMYK image as PIL's convert('RGB') gives it: the file's own CMYK values, without a colour
 * profile (sharp's would differ by 18 levels on average), each of R, G, B = (255 − C, M, Y)·(255 − K)/255
 * rounded as Pillow's cmyk2rgb (Convert.c) rounds it.
 */
async function cmykToRgb(s: import('sharp').Sharp): Promise<RawImage> {
  const { data, info } = await s.pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const C = info.channels;
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const nk = 255 - data[p * C + 3];
    for (let c = 0; c < 3; c++) {
      const t = data[p * C + c] * nk + 128;
      rgb[p * 3 + c] = nk - ((t + (t >> 8)) >> 8);
    }
  }
  return { data: rgb, width: info.width, height: info.height, channels: 3 };
}

/** A sharp plan run on decoded pixels, with Pillow's bilinear filter (PIL resamples after converting). */
function applyPlan(img: RawImage, plan?: Omit<SharpPlan, 'rest'>): RawImage {
  const e = plan?.preExtract;
  if (plan?.resize) img = resizeBilinear(img, e?.left ?? 0, e?.top ?? 0, e?.width ?? img.width, e?.height ?? img.height, plan.resize.width, plan.resize.height);
  else if (e) img = cropCopy(img, e.left, e.top, e.width, e.height);
  const post = plan?.postExtract;
  return post ? cropCopy(img, post.left, post.top, post.width, post.height) : img;
}

/** Width, height and component count from a JPEG's frame header (SOFn); undefined when there is none. */
function jpegFrame(b: Uint8Array): [number, number, number] | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let p = 2;
  while (p + 9 < b.length) {
    if (b[p] !== 0xff) return undefined;
    const m = b[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      p += 2;
      continue;
    }
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return [(b[p + 7] << 8) | b[p + 8], (b[p + 5] << 8) | b[p + 6], b[p + 9]];
    if (m === 0xd9 || m === 0xda) return undefined;
    p += 2 + ((b[p + 2] << 8) | b[p + 3]);
  }
  return undefined;
}

/** Width and height from a JPEG (SOFn) or PNG (IHDR) header without decoding; undefined otherwise. */
export function headerSize(b: Uint8Array): [number, number] | undefined {
  if (b.length > 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    const w = ((b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19]) >>> 0;
    const h = ((b[20] << 24) | (b[21] << 16) | (b[22] << 8) | b[23]) >>> 0;
    return w > 0 && h > 0 ? [w, h] : undefined;
  }
  const frame = jpegFrame(b);
  return frame && frame[0] > 0 && frame[1] > 0 ? [frame[0], frame[1]] : undefined;
}

export class ImageFolder implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly classes: readonly string[];
  /** Class name → label. */
  readonly classToIdx: ReadonlyMap<string, number>;
  readonly shape = null;
  /** The folder that holds the class folders. */
  readonly dir: string;
  readonly strict: boolean;
  readonly maxPixels: number;
  readonly libjpeg: boolean;
  private readonly pathBytes: Uint8Array;
  private readonly pathOffsets: Uint32Array;
  private readonly labels: Int32Array;
  private readonly warned = new Set<string>();
  /** Called (instead of logging) with each unreadable file in lenient mode; the DataLoader sets it. */
  onWarning: ((file: string, message: string) => void) | undefined;

  /** Scans dir: one sub-folder per class (sorted), images found recursively. */
  constructor(dir: string, opts?: ImageFolderOptions);
  /** @internal Rebuilds from a spec (worker threads): no scan. */
  constructor(spec: ImageFolderSpec);
  constructor(arg: string | ImageFolderSpec, folderOptions: ImageFolderOptions = {}) {
    const opts = options<ImageFolderOptions>('options', folderOptions, keysOf<ImageFolderOptions>({
      strict: true, name: true, maxPixels: true, libjpeg: true,
    }));
    if (typeof arg === 'object' && arg !== null && (arg as ImageFolderSpec).kind === 'image_folder') {
      const spec = arg as ImageFolderSpec;
      this.dir = spec.dir;
      this.name = spec.name;
      this.classes = spec.classes;
      this.pathBytes = spec.pathBytes;
      this.pathOffsets = spec.pathOffsets;
      this.labels = spec.labels;
      this.strict = spec.strict;
      this.maxPixels = spec.maxPixels;
      this.libjpeg = spec.libjpeg;
    } else {
      if (typeof arg !== 'string' || arg.length === 0) throw new InvalidArgumentError('root', 'folder path (string)', arg);
      if (opts.strict !== undefined && typeof opts.strict !== 'boolean') throw new InvalidArgumentError('strict', 'boolean', opts.strict);
      this.dir = path.resolve(arg);
      this.name = opts.name ?? 'image_folder';
      this.strict = opts.strict ?? false;
      const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
      if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) throw new InvalidArgumentError('maxPixels', 'positive integer', opts.maxPixels);
      this.maxPixels = maxPixels;
      if (opts.libjpeg !== undefined && typeof opts.libjpeg !== 'boolean') throw new InvalidArgumentError('libjpeg', 'boolean', opts.libjpeg);
      this.libjpeg = opts.libjpeg ?? true;
      const base = Buffer.from(this.dir);
      const classes = classFolderEntries(base);
      if (classes.length === 0) throw new DatasetError(`Couldn't find any class folder in ${this.dir}: expected ${this.dir}/<class>/<image>`, this.dir);
      const encoded: Buffer[] = [];
      const labels: number[] = [];
      const empty: string[] = [];
      classes.forEach((c, label) => {
        const files = walk(base, c);
        if (files.length === 0) empty.push(c.name);
        for (const f of files) {
          encoded.push(f);
          labels.push(label);
        }
      });
      if (empty.length > 0) {
        throw new DatasetError(`Found no valid file for the classes ${empty.join(', ')} in ${this.dir}. Supported extensions are: ${IMAGE_EXTENSIONS.join(', ')}`, path.join(this.dir, empty[0]));
      }
      this.classes = classes.map((c) => c.name);
      const total = encoded.reduce((a, b) => a + b.length, 0);
      this.pathBytes = new Uint8Array(new SharedArrayBuffer(total));
      this.pathOffsets = new Uint32Array(new SharedArrayBuffer((encoded.length + 1) * 4));
      let o = 0;
      encoded.forEach((b, i) => {
        this.pathOffsets[i] = o;
        this.pathBytes.set(b, o);
        o += b.length;
      });
      this.pathOffsets[encoded.length] = o;
      this.labels = new Int32Array(new SharedArrayBuffer(labels.length * 4));
      this.labels.set(labels);
    }
    this.length = this.labels.length;
    this.numClasses = this.classes.length;
    this.classToIdx = new Map(this.classes.map((c, i) => [c, i]));
  }

  label(i: number): number {
    return this.labels[i];
  }

  private relativeBytes(i: number): Buffer {
    return Buffer.from(this.pathBytes.buffer, this.pathBytes.byteOffset + this.pathOffsets[i], this.pathOffsets[i + 1] - this.pathOffsets[i]);
  }

  /** The path of image i relative to dir (a name that is not UTF-8 as fsDecode reads it). */
  relativePath(i: number): string {
    return fsDecode(this.relativeBytes(i));
  }

  /** The absolute path of image i (a name that is not UTF-8 as fsDecode reads it). */
  path(i: number): string {
    return path.join(this.dir, this.relativePath(i));
  }

  /** Every (relative path, label) pair, in order (torchvision's `samples`). */
  samples(): [string, number][] {
    return Array.from({ length: this.length }, (_, i) => [this.relativePath(i), this.labels[i]]);
  }

  /** Image i decoded to RGB (a replacement in lenient mode when it is unreadable). */
  async get(i: number): Promise<Sample> {
    checkIndex(this, i);
    return this.withFallback(i, async (j) => ({ image: await decodeImage(await this.read(j), undefined, this.maxPixels), label: this.labels[j] }));
  }

  /**
   * Decodes sample i through a transform pipeline into out at offset (the loader's path): sharp
   * does the leading extract/resize while decoding, the pipeline the rest. Returns the label used.
   */
  async decodeInto(i: number, pipeline: Pipeline, makeRng: () => Rng, out: Float32Array, offset: number, expect: readonly number[]): Promise<number> {
    return this.withFallback(i, async (j) => {
      const bytes = await this.read(j);
      let size = headerSize(bytes);
      if (!size) {
        const meta = await loadSharp()(bytes).metadata();
        if (!meta.width || !meta.height) throw new ImageDecodeError('no image size in header', this.path(j));
        size = [meta.width, meta.height];
      }
      const [w0, h0] = size;
      if (w0 * h0 > this.maxPixels) throw tooLarge(w0, h0, this.maxPixels, this.path(j));
      const { steps, width, height } = pipeline.plan(w0, h0, makeRng());
      if (width !== expect[2] || height !== expect[1]) {
        throw new DatasetError(`${this.path(j)}: the transforms give ${height}×${width} images but the batch holds ${expect[1]}×${expect[2]}: end the pipeline with a fixed-size transform (resize([h, w]), centerCrop, randomResizedCrop)`, this.path(j));
      }
      const decode = this.libjpeg && isJpeg(bytes) ? jpegDecoder() : undefined;
      const jp = decode && jpegPlan(steps, w0, h0);
      if (decode && jp) {
        const window = jpegWindow(jp);
        let img: RawImage | undefined;
        let written = false;
        try {
          if (window) written = decodeJpegInto(decode, bytes, jp, window, this.maxPixels, pipeline.lut(3), out, offset);
          else img = decodeJpegPlan(decode, bytes, jp, this.maxPixels);
        } catch (e) {
          // The addon's message is libjpeg's reason (its code, ERR_NATIVE, says nothing about the file).
          throw new ImageDecodeError((e as Error).message, this.path(j), { cause: e });
        }
        if (written) return this.labels[j];
        if (img) {
          pipeline.execute(img, jp.rest, out, offset);
          return this.labels[j];
        }
      }
      const plan = sharpPlan(steps, w0, h0);
      const img = await decodeImage(bytes, plan, this.maxPixels);
      pipeline.execute(img, plan.rest, out, offset);
      return this.labels[j];
    });
  }

  private read(i: number): Promise<Buffer> {
    return readImageFile(joinBytes(Buffer.from(this.dir), this.relativeBytes(i)), this.path(i), this.maxPixels);
  }

  private async withFallback<T>(i: number, fn: (j: number) => Promise<T>): Promise<T> {
    let j = i;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(j);
      } catch (e) {
        // Anything but an unreadable image (a missing sharp, a pipeline of the wrong size) is not the file's fault.
        if (e instanceof ToolkitError && !(e instanceof ImageDecodeError)) throw e;
        const file = this.path(j);
        const code = (e as NodeJS.ErrnoException | undefined)?.code;
        if (typeof code === 'string' && Object.hasOwn(SYSTEM_LIMITS, code)) {
          throw new DatasetError(`Cannot read image ${file} (${code}): ${SYSTEM_LIMITS[code]}; the file itself may be fine`, file, { cause: e });
        }
        const reason = e instanceof ImageDecodeError ? e.reason : errorReason(e);
        if (this.strict) {
          throw new DatasetError(`Cannot decode image ${file} (${reason}); remove or replace the file, or use strict: false to skip it with a warning`, file, { cause: e });
        }
        this.warn(file, `Unreadable image ${file} (${reason}): replaced by the next readable sample`);
        if (attempt >= 100 || attempt >= this.length - 1) {
          throw new DatasetError(`Cannot decode image ${file} (${reason}) nor the ${attempt} samples after it in ${this.dir}`, file, { cause: e });
        }
        j = (j + 1) % this.length;
      }
    }
  }

  private warn(file: string, message: string): void {
    if (this.warned.has(file)) return;
    this.warned.add(file);
    if (this.onWarning) this.onWarning(file, message);
    else childLogger({ module: 'data', dataset: this.name }).warn({ file }, message);
  }

  toSpec(): ImageFolderSpec {
    return {
      kind: 'image_folder',
      name: this.name,
      dir: this.dir,
      pathBytes: this.pathBytes,
      pathOffsets: this.pathOffsets,
      labels: this.labels,
      classes: [...this.classes],
      strict: this.strict,
      maxPixels: this.maxPixels,
      libjpeg: this.libjpeg,
    };
  }
}
