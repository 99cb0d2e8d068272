/**
 * One dataset file fetched from its mirrors (http(s), or a local folder as a file:// URL), streamed
 * to disk and hashed as it arrives, with a size bound and, over HTTP, a stall timeout
 * (src/data/download.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { systemErrorText, writeError } from '../atomic';
import { openRegular } from '../bounded-read';
import { ToolkitError } from '../errors';
import { MIB, type DownloadSource, type SourceFile } from './download-sources';

/** ERR_DOWNLOAD: a file could not be fetched, did not verify, or its archive held what it must not. */
export class DownloadError extends ToolkitError {
  /** The connection closed before the response began: the same request on a new connection may succeed. */
  readonly reset: boolean;

  constructor(message: string, options?: { cause?: unknown; reset?: boolean }) {
    super('ERR_DOWNLOAD', message, options);
    this.reset = options?.reset === true;
  }
}

/**
 * Socket errors of a connection closed under a request. Node's fetch reuses a kept-alive connection
 * that the server may have just closed (its keep-alive timeout) and fails the request rather than
 * sending it again (nodejs/undici#3492): a GET that got no response is safe to send again.
 */
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export interface DownloadProgress {
  url: string;
  /** Bytes received so far of this file. */
  bytes: number;
  /** The size the server announced, when it did. */
  total: number | undefined;
}

/** A log line at most this often while a file arrives (a 162 MB tarball takes minutes on a slow link). */
const PROGRESS_LOG_MS = 10_000;

export interface FetchOptions {
  timeoutMs: number;
  log: Logger;
  onProgress?: (p: DownloadProgress) => void;
}

/** Each mirror in turn until one serves the file with its md5; an error listing every mirror's failure otherwise. */
export async function fetchFromMirrors(source: DownloadSource, file: SourceFile, dest: string, o: FetchOptions): Promise<{ url: string; bytes: number }> {
  const failures: string[] = [];
  for (const mirror of source.mirrors) {
    const url = `${mirror}${file.name}`;
    for (let attempt = 1; ; attempt++) {
      try {
        o.log.info({ url }, 'downloading');
        const bytes = await fetchTo(url, dest, file, o);
        return { url, bytes };
      } catch (e) {
        fs.rmSync(dest, { force: true });
        if (!(e instanceof DownloadError)) throw e;
        if (e.reset && attempt === 1) {
          o.log.warn({ url, error: e.message }, 'the connection closed before the response, sending the request again');
          continue;
        }
        failures.push(e.message);
        o.log.warn({ url, error: e.message }, source.mirrors.length > failures.length ? 'failed, trying the next mirror' : 'failed');
        break;
      }
    }
  }
  throw new DownloadError(failures.length === 1 ? failures[0] : `Could not download ${file.name} of ${source.name} from any mirror: ${failures.join('; ')}`);
}

/** What a failed fetch or stream says: Node's fetch puts the socket's reason ('other side closed') in the cause. */
export function reasonOf(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = err?.cause?.message ?? err?.cause?.code;
  return cause && cause !== err.message ? `${err.message} (${cause})` : String(err?.message ?? e);
}

/**
 * Streams `url` into `dest` (a new file), hashing it; the bytes received. A file:// URL is a local
 * mirror (a shared file system), read from there.
 */
async function fetchTo(url: string, dest: string, file: SourceFile, o: FetchOptions): Promise<number> {
  const fail: Fail = (why, cause, reset = false) => new DownloadError(`Download of ${url} failed: ${why}`, { cause, reset });
  return url.startsWith('file:') ? copyTo(url, dest, file, o, fail) : httpTo(url, dest, file, o, fail);
}

type Fail = (why: string, cause?: unknown, reset?: boolean) => DownloadError;

async function httpTo(url: string, dest: string, file: SourceFile, o: FetchOptions, fail: Fail): Promise<number> {
  const controller = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => { stalled = true; controller.abort(); }, o.timeoutMs);
  };
  let bytes = 0;
  let responded = false;
  arm();
  try {
    const res = await fetch(url, { signal: controller.signal });
    responded = true;
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
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    return await receive(url, body, total, dest, file, o, fail, (n) => { bytes = n; arm(); });
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    if (stalled) throw fail(`nothing received for ${o.timeoutMs} ms (after ${bytes} bytes)`, e);
    if (typeof (e as NodeJS.ErrnoException)?.syscall === 'string') throw writeError(dest, e);
    const code = (e as { cause?: { code?: unknown } })?.cause?.code;
    throw fail(reasonOf(e), e, !responded && typeof code === 'string' && RESET_CODES.has(code));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A local mirror's file, through the same size bound and md5 as a fetched one. Opened without
 * blocking and refused unless it is a regular file (a FIFO there would wait for a writer for
 * ever). No stall timeout: a read(2) that hangs (a dead NFS server) cannot be called off.
 */
async function copyTo(url: string, dest: string, file: SourceFile, o: FetchOptions, fail: Fail): Promise<number> {
  const from = fileURLToPath(url);
  const { fd, size } = openRegular(from, (kind) => fail(`${from} is ${kind}, not a file`), (e) =>
    fail((e as NodeJS.ErrnoException)?.code === 'ENOENT' ? `${from} does not exist` : systemErrorText(e), e));
  if (size > file.maxBytes) {
    fs.closeSync(fd);
    throw fail(`${from} is ${size} bytes, more than the ${file.maxBytes} that ${file.name} can be`);
  }
  // A failed read (EIO) is the mirror's failure, not the write's.
  let pending: Promise<number> = Promise.resolve(0);
  const read = (buf: Buffer): Promise<number> => (pending = new Promise((resolve, reject) =>
    fs.read(fd, buf, 0, buf.length, null, (e, n) => (e ? reject(fail(systemErrorText(e), e)) : resolve(n)))));
  try {
    return await receive(url, Readable.from(pieces(read)), size, dest, file, o, fail);
  } catch (e) {
    throw e instanceof DownloadError ? e : writeError(dest, e);
  } finally {
    // A failed write settles the pipeline while a read may still be pending: it ends first.
    await pending.catch(() => undefined);
    fs.closeSync(fd);
  }
}

/** A file's content, a fresh buffer a piece. */
async function* pieces(read: (buf: Buffer) => Promise<number>): AsyncGenerator<Buffer> {
  for (;;) {
    const buf = Buffer.allocUnsafe(MIB);
    const n = await read(buf);
    if (n === 0) return;
    yield buf.subarray(0, n);
  }
}

/**
 * `body` streamed into `dest` (a new file) through the size bound and the md5, with the progress
 * callback and log lines; `onBytes` is told the bytes so far after each piece. The bytes received.
 */
async function receive(url: string, body: Readable, total: number | undefined, dest: string, file: SourceFile, o: FetchOptions, fail: Fail, onBytes?: (bytes: number) => void): Promise<number> {
  const hash = createHash('md5');
  let bytes = 0;
  let logged = Date.now();
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > file.maxBytes) return done(fail(`more than the ${file.maxBytes} bytes that ${file.name} can be`));
      hash.update(chunk);
      onBytes?.(bytes);
      o.onProgress?.({ url, bytes, total });
      if (Date.now() - logged >= PROGRESS_LOG_MS) {
        logged = Date.now();
        o.log.info({ url, bytes, total }, 'receiving');
      }
      done(null, chunk);
    },
  });
  await pipeline(body, meter, fs.createWriteStream(dest, { flags: 'wx' }));
  const md5 = hash.digest('hex');
  if (md5 !== file.md5) throw fail(`md5 ${md5} of the ${bytes} bytes received, expected ${file.md5} (a damaged copy, or another file under that name)`);
  o.log.info({ url, bytes, md5 }, 'verified');
  return bytes;
}
