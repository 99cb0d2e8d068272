/**
 * downloadDataset: MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 (binary version) fetched into the
 * layout their loaders read, each file checked against the md5 its authors or torchvision publish.
 * ImageNet is not offered: its terms ask each user to obtain it from image-net.org.
 *
 * Every file is streamed (a CIFAR tarball is 162 MB) into a staging folder inside root, hashed as
 * it arrives, and moved into place only once every file of the dataset is fetched, verified and
 * unpacked, by rename: a failure at any point leaves root as it was. Files already in root are
 * never replaced: a damaged copy is reported, for the user to remove.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import * as tar from 'tar';
import { InvalidArgumentError, ToolkitError, UnknownNameError } from '../errors';
import { childLogger } from '../logger';
import { writeError } from '../atomic';
import { isAlive } from '../pid';
import { quoteText } from '../quote';
import { func, int, obj, options as optionsOf } from '../validate';
import { DatasetError } from './base';

export const DOWNLOADABLE_DATASETS = ['mnist', 'fashion_mnist', 'cifar10', 'cifar100'] as const;
export type DownloadableDataset = (typeof DOWNLOADABLE_DATASETS)[number];

/** One file fetched from a mirror: its name there, the md5 published for it, and a bound on its size. */
export interface SourceFile {
  name: string;
  md5: string;
  /** A mirror that sends more is refused as it sends (a file of the wrong dataset, or endless). */
  maxBytes: number;
}

/**
 * The members of a tarball that are kept: each under `folder` in the archive and in root. A member
 * with a `size` is required and must have exactly that size; one without (the class names) is
 * kept when the archive has it, up to 64 KiB.
 */
export interface UnpackSpec {
  folder: string;
  members: { name: string; size?: number }[];
}

/**
 * Where a dataset comes from. Internal: the tests pass their own (fixtures' md5s) to downloadFrom;
 * users name a dataset of DATASET_SOURCES.
 */
export interface DownloadSource {
  name: string;
  /** Base URLs, tried in order for each file. */
  mirrors: string[];
  files: SourceFile[];
  /** Absent: the files are kept as fetched (the IDX loaders read .gz). */
  unpack?: UnpackSpec;
}

const MIB = 1024 * 1024;
const MAX_NAMES_BYTES = 64 * 1024;

const idxFiles = (md5: [string, string, string, string]): SourceFile[] =>
  ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
    .map((name, i) => ({ name, md5: md5[i], maxBytes: 64 * MIB }));

/** CIFAR-10's record files hold 10000 records of 1 label byte + 3072 pixels (the CIFAR page). */
const CIFAR10_BIN = 10000 * 3073;

export const DATASET_SOURCES: Readonly<Record<DownloadableDataset, DownloadSource>> = {
  // Mirrors and md5s from torchvision/datasets/mnist.py (class MNIST); its list has
  // yann.lecun.com first, swapped here as pytorch/vision#8865 proposed: that host answers 403 to many
  // since 2024 (red-data-tools/red-datasets#195, ludwig-ai/ludwig#4009).
  mnist: {
    name: 'MNIST',
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    files: idxFiles(['f68b3c2dcbeaaa9fbdd348bbdeb94873', 'd53e105ee54ea40749a09fcbcd1e9432', '9fb629c4189551a2d022fa330f9573f3', 'ec29112dd5afa0611ce80d1b7f02629c']),
  },
  // torchvision/datasets/mnist.py, class FashionMNIST: its one mirror and md5s.
  fashion_mnist: {
    name: 'Fashion-MNIST',
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    files: idxFiles(['8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310']),
  },
  // https://www.cs.toronto.edu/~kriz/cifar.html, "CIFAR-10 binary version (suitable for C
  // programs)": the md5 in its table. torchvision fetches the python version, not this one.
  cifar10: {
    name: 'CIFAR-10',
    mirrors: ['https://www.cs.toronto.edu/~kriz/'],
    files: [{ name: 'cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', maxBytes: 256 * MIB }],
    unpack: {
      folder: 'cifar-10-batches-bin',
      members: [
        ...[1, 2, 3, 4, 5].map((i) => ({ name: `data_batch_${i}.bin`, size: CIFAR10_BIN })),
        { name: 'test_batch.bin', size: CIFAR10_BIN },
        { name: 'batches.meta.txt' },
      ],
    },
  },
  // The CIFAR page's "CIFAR-100 binary version" md5; the page's copy read for this was cut before
  // that row, so it was taken from a public loader that fetches the same URL (see docs/errors.md,
  // ERR_DOWNLOAD). Records: 2 label bytes + 3072 pixels; 50000 train, 10000 test.
  cifar100: {
    name: 'CIFAR-100',
    mirrors: ['https://www.cs.toronto.edu/~kriz/'],
    files: [{ name: 'cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', maxBytes: 256 * MIB }],
    unpack: {
      folder: 'cifar-100-binary',
      members: [
        { name: 'train.bin', size: 50000 * 3074 },
        { name: 'test.bin', size: 10000 * 3074 },
        { name: 'coarse_label_names.txt' },
        { name: 'fine_label_names.txt' },
      ],
    },
  },
};

/** ERR_DOWNLOAD: a file could not be fetched, did not verify, or its archive held what it must not. */
export class DownloadError extends ToolkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DOWNLOAD', message, options);
  }
}

export interface DownloadProgress {
  url: string;
  /** Bytes received so far of this file. */
  bytes: number;
  /** The size the server announced, when it did. */
  total: number | undefined;
}

export interface DownloadOptions {
  /** The folder to fill (created if missing): what createDataset's `root` is then given. */
  root: string;
  /**
   * A base URL that replaces the dataset's mirrors (a copy on a cluster without internet), holding
   * the files under their usual names. Default: $SIGNIN_TORCH_DATASET_MIRROR/<dataset name>/ when
   * that is set (one folder per dataset: MNIST and Fashion-MNIST share file names), else the
   * published mirrors.
   */
  mirror?: string;
  /** A connection that sends nothing for this long fails (default 60000). */
  timeoutMs?: number;
  /** Where the progress lines go (default: the library logger). */
  logger?: Logger;
  /** Called for every piece received (a progress bar). */
  onProgress?: (p: DownloadProgress) => void;
}

export interface DownloadResult {
  dataset: DownloadableDataset;
  /** The root to pass to createDataset (the CLI's --data-root). */
  root: string;
  /** The URLs fetched; empty when root already held the whole dataset. */
  fetched: string[];
  bytes: number;
}

export const MIRROR_ENV = 'SIGNIN_TORCH_DATASET_MIRROR';
const DEFAULT_TIMEOUT_MS = 60_000;
/** A log line at most this often while a file arrives (a 162 MB tarball takes minutes on a slow link). */
const PROGRESS_LOG_MS = 10_000;

/** An http(s) URL, for a mirror; `what` names the option or variable it came from. */
export function mirrorUrl(what: string, v: unknown): string {
  const expected = 'an http:// or https:// URL';
  if (typeof v !== 'string') throw new InvalidArgumentError(what, expected, v);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new InvalidArgumentError(what, expected, v);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(what, expected, v);
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

function mirrorsFor(name: DownloadableDataset, mirror: unknown): string[] {
  if (mirror !== undefined) return [mirrorUrl('mirror', mirror)];
  const env = process.env[MIRROR_ENV];
  if (env === undefined || env === '') return DATASET_SOURCES[name].mirrors;
  return [`${mirrorUrl(`environment variable ${MIRROR_ENV}`, env)}${name}/`];
}

/**
 * Fetches a dataset into `root`, verified, in the layout its loader reads; nothing is fetched when
 * root already holds it complete (IDX files: their md5; CIFAR: every record file at its size).
 *
 * @example
 * await downloadDataset('cifar10', { root: 'data/cifar10' });
 * const train = createDataset('cifar10', { root: 'data/cifar10' });
 */
export async function downloadDataset(name: DownloadableDataset, opts: DownloadOptions): Promise<DownloadResult> {
  if (!(DOWNLOADABLE_DATASETS as readonly unknown[]).includes(name)) throw new UnknownNameError('downloadable dataset', name, DOWNLOADABLE_DATASETS);
  const o = obj<DownloadOptions>('options', opts, '{ root, mirror?, timeoutMs?, logger?, onProgress? }');
  const source = { ...DATASET_SOURCES[name], mirrors: mirrorsFor(name, o.mirror) };
  const result = await downloadFrom(source, o);
  return { dataset: name, ...result };
}

/** downloadDataset for a source of one's own (internal: the tests' fixtures). */
export async function downloadFrom(source: DownloadSource, opts: Omit<DownloadOptions, 'mirror'>): Promise<Omit<DownloadResult, 'dataset'>> {
  const o = optionsOf<DownloadOptions>('options', opts);
  const root = o.root;
  if (typeof root !== 'string' || root.length === 0) throw new InvalidArgumentError('root', 'folder path (string)', root);
  const rootStat = statOrError(root, 'root');
  if (rootStat !== undefined && !rootStat.isDirectory()) throw new InvalidArgumentError('root', 'a folder, or a path where one can be made', root);
  const timeoutMs = int('timeoutMs', o.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, 2 ** 31 - 1);
  const log = o.logger ?? childLogger({ module: 'download' });
  if (typeof log?.info !== 'function' || typeof log.warn !== 'function') throw new InvalidArgumentError('logger', 'a pino Logger', o.logger);
  const onProgress = o.onProgress === undefined ? undefined : func<(p: DownloadProgress) => void>('onProgress', o.onProgress);

  if (rootStat !== undefined) removeStaleStaging(root);
  const missing = missingFiles(source, root);
  if (missing.length === 0) {
    log.info({ dataset: source.name, root }, 'already complete: nothing fetched');
    return { root, fetched: [], bytes: 0 };
  }
  const staging = path.join(root, `.download.${process.pid}.${Math.random().toString(36).slice(2, 10)}.part`);
  let created: string[];
  try {
    created = makeDirs(root);
    fs.mkdirSync(staging);
  } catch (e) {
    throw writeError(staging, e);
  }
  let done = false;
  try {
    const fetched: string[] = [];
    let bytes = 0;
    for (const file of missing) {
      const got = await fetchFromMirrors(source, file, path.join(staging, file.name), { timeoutMs, log, onProgress });
      fetched.push(got.url);
      bytes += got.bytes;
    }
    if (source.unpack) {
      await unpack(path.join(staging, source.files[0].name), staging, source.unpack);
      // Another download may have put a complete folder there meanwhile: that one stays.
      if (missingFiles(source, root).length > 0) moveIn(path.join(staging, source.unpack.folder), path.join(root, source.unpack.folder));
    } else {
      for (const file of missing) moveIn(path.join(staging, file.name), path.join(root, file.name));
    }
    log.info({ dataset: source.name, root, files: fetched.length, bytes }, 'downloaded and verified');
    done = true;
    return { root, fetched, bytes };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!done) for (const dir of created.reverse()) removeIfEmpty(dir);
  }
}

function moveIn(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    throw writeError(to, e);
  }
}

/** A folder this download made, taken back after a failure unless something else was put in it meanwhile. */
function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty (another writer) or already gone: left as it is.
  }
}

/** The files still to fetch; a damaged copy already in root is an error, never replaced. */
function missingFiles(source: DownloadSource, root: string): SourceFile[] {
  const fix = 'remove it (a download never replaces files it did not write) and run the download again';
  if (source.unpack) {
    const dir = path.join(root, source.unpack.folder);
    if (statOrError(dir) === undefined) return source.files;
    for (const m of source.unpack.members) {
      if (m.size === undefined) continue;
      const file = path.join(dir, m.name);
      const st = statOrError(file);
      if (!st?.isFile() || st.size !== m.size) {
        const what = st === undefined ? 'is missing' : st.isFile() ? `is ${st.size} bytes, not ${m.size}` : 'is not a regular file';
        throw new DatasetError(`${dir} holds an incomplete ${source.name}: ${m.name} ${what}; ${fix}`, file);
      }
    }
    return [];
  }
  return source.files.filter((f) => {
    const file = path.join(root, f.name);
    const st = statOrError(file);
    if (st === undefined) return true;
    if (!st.isFile()) throw new DatasetError(`${file} is not a regular file; ${fix}`, file);
    const got = md5Of(file);
    if (got !== f.md5) throw new DatasetError(`${file} is not the published ${source.name} file (md5 ${got}, expected ${f.md5}); ${fix}`, file);
    return false;
  });
}

/** fs.statSync, undefined for a missing path; any other failure (EACCES, ENOTDIR) a DatasetError naming the path. */
function statOrError(file: string, what = 'dataset file'): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch (e) {
    throw new DatasetError(`Cannot read ${what} ${file} (${(e as Error).message})`, file, { cause: e });
  }
}

function md5Of(file: string): string {
  const hash = createHash('md5');
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(MIB);
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw new DatasetError(`Cannot read dataset file ${file} (${(e as Error).message})`, file, { cause: e });
  }
  return hash.digest('hex');
}

/** mkdir -p, returning the folders it made (outermost first), so that a failure can take them back. */
function makeDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) fs.mkdirSync(d);
  return missing;
}

const STAGING = /^\.download\.(\d+)\.[0-9a-z]+\.part$/;

/** Staging folders of downloads that were killed (their pid is gone): up to 170 MB each. */
function removeStaleStaging(root: string): void {
  try {
    for (const name of fs.readdirSync(root)) {
      const m = STAGING.exec(name);
      if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  } catch (e) {
    throw writeError(root, e);
  }
}

interface FetchOptions {
  timeoutMs: number;
  log: Logger;
  onProgress?: (p: DownloadProgress) => void;
}

/** Each mirror in turn until one serves the file with its md5; an error listing every mirror's failure otherwise. */
async function fetchFromMirrors(source: DownloadSource, file: SourceFile, dest: string, o: FetchOptions): Promise<{ url: string; bytes: number }> {
  const failures: string[] = [];
  for (const mirror of source.mirrors) {
    const url = `${mirror}${file.name}`;
    try {
      o.log.info({ url }, 'downloading');
      const bytes = await fetchTo(url, dest, file, o);
      return { url, bytes };
    } catch (e) {
      fs.rmSync(dest, { force: true });
      if (!(e instanceof DownloadError)) throw e;
      failures.push(e.message);
      o.log.warn({ url, error: e.message }, source.mirrors.length > failures.length ? 'failed, trying the next mirror' : 'failed');
    }
  }
  throw new DownloadError(failures.length === 1 ? failures[0] : `Could not download ${file.name} of ${source.name} from any mirror: ${failures.join('; ')}`);
}

/** What a failed fetch or stream says: Node's fetch puts the socket's reason ('other side closed') in the cause. */
function reasonOf(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = err?.cause?.message ?? err?.cause?.code;
  return cause && cause !== err.message ? `${err.message} (${cause})` : String(err?.message ?? e);
}

/** Streams `url` into `dest` (a new file), hashing it; the bytes received. */
async function fetchTo(url: string, dest: string, file: SourceFile, o: FetchOptions): Promise<number> {
  const controller = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => { stalled = true; controller.abort(); }, o.timeoutMs);
  };
  const fail = (why: string, cause?: unknown) => new DownloadError(`Download of ${url} failed: ${why}`, { cause });
  let bytes = 0;
  arm();
  try {
    const res = await fetch(url, { signal: controller.signal });
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw fail(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const announced = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(announced) ? announced : undefined;
    if (total !== undefined && total > file.maxBytes) {
      await res.body.cancel();
      throw fail(`the server announces ${total} bytes, more than the ${file.maxBytes} that ${file.name} can be`);
    }
    const hash = createHash('md5');
    let logged = Date.now();
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > file.maxBytes) return done(fail(`more than the ${file.maxBytes} bytes that ${file.name} can be`));
        hash.update(chunk);
        arm();
        o.onProgress?.({ url, bytes, total });
        if (Date.now() - logged >= PROGRESS_LOG_MS) {
          logged = Date.now();
          o.log.info({ url, bytes, total }, 'receiving');
        }
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, fs.createWriteStream(dest, { flags: 'wx' }));
    const md5 = hash.digest('hex');
    if (md5 !== file.md5) throw fail(`md5 ${md5} of the ${bytes} bytes received, expected ${file.md5} (a damaged copy, or another file under that name)`);
    o.log.info({ url, bytes, md5 }, 'verified');
    return bytes;
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    if (stalled) throw fail(`nothing received for ${o.timeoutMs} ms (after ${bytes} bytes)`, e);
    if (typeof (e as NodeJS.ErrnoException)?.syscall === 'string') throw writeError(dest, e);
    throw fail(reasonOf(e), e);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a member's path, as the archive names it, leads outside the folder: absolute, a drive, or a '..' part. */
function escapes(p: string): boolean {
  const parts = p.replace(/\\/g, '/').split('/');
  return p.startsWith('/') || /^[a-zA-Z]:/.test(p) || parts.includes('..');
}

/**
 * Extracts the spec's members of `archive` into `into`/<folder>; anything else in the archive is
 * skipped, and a member that would land outside `into`, or a link or folder where a file belongs,
 * refuses the whole archive.
 */
async function unpack(archive: string, into: string, spec: UnpackSpec): Promise<void> {
  const wanted = new Map(spec.members.map((m) => [`${spec.folder}/${m.name}`, m]));
  const input = fs.createReadStream(archive);
  let refusal: DownloadError | undefined;
  const refuse = (why: string): false => {
    refusal ??= new DownloadError(`${path.basename(archive)} is refused: ${why}; nothing of it was kept`);
    input.destroy(refusal);
    return false;
  };
  const extract = tar.x({
    cwd: into,
    strict: true,
    preserveOwner: false,
    filter: (p, entry) => {
      if (escapes(p)) return refuse(`its member ${quoteText(p)} would be written outside the folder`);
      const name = p.replace(/^(\.\/)+/, '');
      const m = wanted.get(name);
      if (m === undefined) return false;
      const { type, size } = entry as tar.ReadEntry;
      if (type !== 'File') return refuse(`its member ${quoteText(name)} is a ${type}, not a file`);
      if (m.size !== undefined ? size !== m.size : size > MAX_NAMES_BYTES) {
        return refuse(`its member ${quoteText(name)} is ${size} bytes, ${m.size !== undefined ? `not ${m.size}` : `more than ${MAX_NAMES_BYTES}`}`);
      }
      return true;
    },
  });
  try {
    await pipeline(input, extract);
  } catch (e) {
    throw refusal ?? new DownloadError(`${path.basename(archive)} could not be unpacked: ${reasonOf(e)}`, { cause: e });
  }
  if (refusal) throw refusal;
  for (const m of spec.members) {
    if (m.size === undefined) continue;
    const st = fs.statSync(path.join(into, spec.folder, m.name), { throwIfNoEntry: false });
    if (st?.size !== m.size) throw new DownloadError(`${path.basename(archive)} has no member ${spec.folder}/${m.name} of ${m.size} bytes; nothing of it was kept`);
  }
}
