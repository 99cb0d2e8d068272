/**
 * The dataset interface shared by every dataset in src/data.
 *
 * Images travel as uint8 pixels in HWC order (`RawImage`): that is what the files hold (IDX, CIFAR
 * after one transposition at load, decoded JPEG/PNG), what the geometric transforms work on, and
 * what a worker thread can read straight out of shared memory. The float CHW tensor layout is
 * produced once, by the last transform stage, directly into the batch buffer (no per-sample float
 * allocation).
 */
import * as fs from 'node:fs';
import type { Stats } from 'node:fs';
import { kindOf, openRegular } from '../bounded-read';
import { InvalidArgumentError, ToolkitError } from '../errors';
import { shellWord } from '../quote';

/** Decoded pixels: `data[(y * width + x) * channels + c]`, values 0..255. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface Sample {
  image: RawImage;
  label: number;
}

/** [channels, height, width] of a decoded image, as the tensor layout names it. */
export type ImageShape = readonly [number, number, number];

/**
 * What a worker thread needs to rebuild a dataset without copying its pixels: in-memory datasets
 * pass SharedArrayBuffer-backed arrays, file datasets pass their (shared, packed) file list, and a
 * Dataset class of one's own names its module (moduleSpec, src/data/module-dataset.ts).
 */
export type DatasetSpec = ArrayDatasetSpec | ImageFolderSpec | ModuleDatasetSpec;

export interface ArrayDatasetSpec {
  kind: 'array';
  name: string;
  images: Uint8Array;
  labels: Int32Array;
  width: number;
  height: number;
  channels: number;
  numClasses: number;
  classes: string[];
}

export interface ImageFolderSpec {
  kind: 'image_folder';
  name: string;
  dir: string;
  /** UTF-8 relative paths, concatenated; path i is bytes [offsets[i], offsets[i+1]). */
  pathBytes: Uint8Array;
  pathOffsets: Uint32Array;
  labels: Int32Array;
  classes: string[];
  strict: boolean;
  maxPixels: number;
  libjpeg: boolean;
}

/** A Dataset class of one's own: each worker requires `module` and constructs `new exports[export](args)`. */
export interface ModuleDatasetSpec {
  kind: 'module';
  /** The module that exports the class: an absolute path (__filename), a file: URL (import.meta.url) or a package name. */
  module: string;
  /** The class's export name. */
  export: string;
  /** The constructor's argument, structured-cloned to each worker. */
  args: unknown;
}

export interface Dataset {
  /** Registry name or a descriptive name (used in logs and errors). */
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  /** Class names, index = label. */
  readonly classes: readonly string[];
  /** [C, H, W] shared by every image, or null when sizes vary (ImageFolder). */
  readonly shape: ImageShape | null;
  /** The label of sample i (no decoding). */
  label(i: number): number;
  /**
   * Sample i: pixels and label. In-memory datasets (IDX, CIFAR, ArrayDataset) answer
   * synchronously with a view into their storage (do not write into it); ImageFolder decodes and
   * answers with a Promise. `await ds.get(i)` works for both.
   */
  get(i: number): Sample | Promise<Sample>;
  /** A structured-cloneable description for worker threads (see DatasetSpec). */
  toSpec(): DatasetSpec;
}

/** Whether `v` has what the DataLoader reads of a Dataset. */
export function isDataset(v: unknown): v is Dataset {
  const d = v as Dataset;
  return !!d && typeof d.label === 'function' && typeof d.get === 'function' && Number.isInteger(d.length)
    && Number.isInteger(d.numClasses) && d.numClasses >= 1;
}

/**
 * What to pass as a dataset's root when its files are missing or unreadable. The message says it
 * in the library's words (`pass root, <expected>`); a caller that names root otherwise, such as
 * the CLI's --data-root, restates it with DatasetError.messageNaming.
 */
export interface RootFix {
  /** What root must be, e.g. 'a folder with the four MNIST IDX files'. */
  expected: string;
  /** Another way to get the files, e.g. 'install it with "sudo apt-get install -y dataset-fashion-mnist"'. */
  install?: string;
}

/** RootFix.install for a dataset that `signin-torch download` fetches (src/data/download.ts), into `root` when one was given. */
export function downloadHint(dataset: string, root?: string): string {
  return `fetch it with "signin-torch download ${dataset}${root === undefined ? '' : ` --root ${shellWord(root)}`}"`;
}

/** Checks a RootFix argument. */
export function rootFix(name: string, v: unknown): RootFix {
  const f = v as RootFix;
  if (typeof v !== 'object' || v === null || typeof f.expected !== 'string' || (f.install !== undefined && typeof f.install !== 'string')) {
    throw new InvalidArgumentError(name, '{ expected: string, install?: string }', v);
  }
  return f;
}

function rootFixText(fix: RootFix, option: string): string {
  return `${fix.install === undefined ? 'pass' : `${fix.install} or pass`} ${option}, ${fix.expected}`;
}

/** ERR_DATASET: a dataset file is missing, corrupt or in the wrong format. */
export class DatasetError extends ToolkitError {
  /** The offending file (or folder). */
  readonly file: string | undefined;
  /** The root to pass, when passing another one is the fix. */
  readonly fix: RootFix | undefined;
  private readonly problem: string;

  /** `problem` is the message, followed by the fix when there is one. */
  constructor(problem: string, file?: string, options?: { cause?: unknown; fix?: RootFix }) {
    const fix = options?.fix;
    super('ERR_DATASET', fix === undefined ? problem : `${problem}: ${rootFixText(rootFix('options.fix', fix), 'root')}`, options);
    if (file !== undefined && typeof file !== 'string') throw new InvalidArgumentError('file', 'the path of the offending file (string) or undefined', file);
    this.file = file;
    this.fix = fix;
    this.problem = problem;
  }

  /** The message with root called `option`. */
  messageNaming(option: string): string {
    return this.fix === undefined ? this.message : `${this.problem}: ${rootFixText(this.fix, option)}`;
  }
}

/** What a path is when it is not a regular file (bounded-read's kindOf), for messages; undefined for a regular file. */
export function notRegularFile(st: Stats): string | undefined {
  return st.isFile() ? undefined : kindOf(st);
}

/**
 * Runs `use` on a dataset file, opened, and its size. Opened without blocking and used only when
 * it is a regular file: open(2) on a FIFO waits for a writer for ever, and a device such as
 * /dev/zero never ends (a stat before opening left a FIFO swapped in afterwards to hang the read).
 * `what` names the file in errors ('dataset', 'CIFAR-10').
 */
export function withDatasetFile<T>(file: string, what: string, fix: RootFix | undefined, use: (fd: number, size: number) => T): T {
  const cannot = (e: unknown) => new DatasetError(`Cannot read ${what} file ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, file, { cause: e, fix });
  const refuse = (kind: string) => new DatasetError(`${what[0].toUpperCase()}${what.slice(1)} file ${file} is ${kind}, not a regular file`, file, { fix });
  const { fd, size } = openRegular(file, refuse, cannot);
  try {
    return use(fd, size);
  } catch (e) {
    throw e instanceof DatasetError ? e : cannot(e);
  } finally {
    fs.closeSync(fd);
  }
}

/** Checks a sample index (shared by every dataset). */
export function checkIndex(ds: { length: number; name: string }, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.length) {
    throw new InvalidArgumentError('index', `integer in [0, ${ds.length - 1}] (${ds.name} has ${ds.length} samples)`, i);
  }
}
