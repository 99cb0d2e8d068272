/**
 * downloadDataset: MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 (binary version) fetched into the
 * layout their loaders read, each file checked against the md5 its authors or torchvision publish.
 * ImageNet is not offered: its terms ask each user to obtain it from image-net.org.
 *
 * Every file is streamed (a CIFAR tarball is 162 MB) into a staging folder inside root, hashed as
 * it arrives, and moved into place only once every file of the dataset is fetched, verified and
 * unpacked, by rename: a failure at any point leaves root as it was. What is renamed in is fsync'd
 * first, and root after (a rename alone is not durable: after a power loss the files could be
 * there empty or short, under a download that reported success). Files already in root are never
 * replaced: a damaged copy is reported, for the user to remove.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { InvalidArgumentError, UnknownNameError } from '../errors';
import { childLogger } from '../logger';
import { makeDir, removeStaleTemps, syncFolders, syncPath, tempPathFor, writeError } from '../atomic';
import { statIfAny } from '../bounded-read';
import { func, int, keysOf, knownKeys, obj, options as optionsOf } from '../validate';
import { DatasetError } from './base';
import { fetchFromMirrors, type DownloadProgress } from './download-fetch';
import { DATASET_SOURCES, DOWNLOADABLE_DATASETS, MIB, type DownloadableDataset, type DownloadSource, type SourceFile } from './download-sources';
import { unpack } from './download-unpack';

export { DownloadError, type DownloadProgress } from './download-fetch';
export { DATASET_SOURCES, DOWNLOADABLE_DATASETS, type DownloadableDataset, type DownloadSource, type SourceFile, type UnpackSpec } from './download-sources';

export interface DownloadOptions {
  /** The folder to fill (created if missing): what createDataset's `root` is then given. */
  root: string;
  /**
   * A copy that replaces the dataset's mirrors (a cluster without internet), holding the files
   * under their usual names: an http(s) base URL, or a local folder (a shared file system) as a
   * file:// URL or an absolute path; a relative path is refused. Default:
   * $SIGNIN_TORCH_DATASET_MIRROR/<dataset name>/ when that is set (one folder per dataset: MNIST
   * and Fashion-MNIST share file names), else the published mirrors.
   */
  mirror?: string;
  /** An HTTP connection that sends nothing for this long fails (default 60000); a local mirror has no timeout. */
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
  /** The URLs fetched (file:// for a local mirror); empty when root already held the whole dataset. */
  fetched: string[];
  bytes: number;
}

export const MIRROR_ENV = 'SIGNIN_TORCH_DATASET_MIRROR';
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * A mirror as a base URL ending in '/'; `what` names the option or variable it came from. An
 * absolute folder path becomes a file:// URL. A relative path is refused: it would mean another
 * folder in each process that reads it (a sweep's workers, a batch job started elsewhere), and
 * `file:data` would mean /data. A file:// URL naming a host is refused too (the path would be
 * read on this machine).
 */
export function mirrorUrl(what: string, v: unknown): string {
  const expected = 'an http://, https:// or file:// URL, or an absolute folder path';
  if (typeof v !== 'string') throw new InvalidArgumentError(what, expected, v);
  let url: URL;
  try {
    url = path.isAbsolute(v) ? pathToFileURL(v) : new URL(v);
  } catch {
    throw new InvalidArgumentError(what, expected, v);
  }
  const local = url.protocol === 'file:' && (path.isAbsolute(v) || /^file:\/\//i.test(v)) && (url.hostname === '' || url.hostname === 'localhost');
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && !local) throw new InvalidArgumentError(what, expected, v);
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
  knownKeys('options', o, keysOf<DownloadOptions>({ root: true, mirror: true, timeoutMs: true, logger: true, onProgress: true }));
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

  // A killed download's staging folder (up to 170 MB).
  if (rootStat !== undefined) {
    try {
      removeStaleTemps(root);
    } catch (e) {
      throw writeError(root, e);
    }
  }
  const missing = missingFiles(source, root);
  if (missing.length === 0) {
    log.info({ dataset: source.name, root }, 'already complete: nothing fetched');
    return { root, fetched: [], bytes: 0 };
  }
  const staging = tempPathFor(path.join(root, 'download'));
  let created: string[];
  try {
    created = makeDir(root);
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
      if (missingFiles(source, root).length > 0) {
        const folder = path.join(staging, source.unpack.folder);
        for (const name of fs.readdirSync(folder)) syncPath(path.join(folder, name));
        syncPath(folder);
        moveIn(folder, path.join(root, source.unpack.folder));
      }
    } else {
      for (const file of missing) {
        syncPath(path.join(staging, file.name));
        moveIn(path.join(staging, file.name), path.join(root, file.name));
      }
    }
    syncFolders(root, created);
    log.info({ dataset: source.name, root, files: fetched.length, bytes }, 'downloaded and verified');
    done = true;
    return { root, fetched, bytes };
  } finally {
    removeStaging(staging, log);
    if (!done) for (const dir of created.reverse()) removeIfEmpty(dir);
  }
}

/**
 * The staging folder removed, retrying while a write still lands in it. A failure is a warning,
 * not an error: it must not take the place of the download's own error, and a download into root
 * after this process has ended removes the folder (removeStaleTemps).
 */
function removeStaging(staging: string, log: Logger): void {
  try {
    fs.rmSync(staging, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  } catch (e) {
    log.warn({ folder: staging, error: (e as Error).message }, 'could not remove the staging folder; a download into root after this process has ended removes it');
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

/** statIfAny, a failure a DatasetError naming the path. */
function statOrError(file: string, what = 'dataset file'): fs.Stats | undefined {
  return statIfAny(file, (e) => new DatasetError(`Cannot read ${what} ${file} (${(e as Error).message})`, file, { cause: e }));
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

