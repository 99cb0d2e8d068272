/**
 * A downloaded tarball unpacked: only the members its loader reads, each checked (type, size,
 * path inside the folder) before anything is kept (src/data/download.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import * as tar from 'tar';
import { quoteText } from '../quote';
import { DownloadError, reasonOf } from './download-fetch';
import type { UnpackSpec } from './download-sources';

/** The most bytes a member without a set size (the class names) may have. */
const MAX_NAMES_BYTES = 64 * 1024;

/** What a gzip stream begins with. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Whether a member's path, as the archive names it, leads outside the folder: absolute, a drive, or a '..' part. */
function escapes(p: string): boolean {
  const parts = p.replace(/\\/g, '/').split('/');
  return p.startsWith('/') || /^[a-zA-Z]:/.test(p) || parts.includes('..');
}

/** Whether `file` begins as a gzip stream (a .tar.gz); anything else is read as a plain tar. */
async function isGzip(file: string): Promise<boolean> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(GZIP_MAGIC.length), 0, GZIP_MAGIC.length, 0);
    return bytesRead === GZIP_MAGIC.length && buffer.equals(GZIP_MAGIC);
  } finally {
    await fh.close();
  }
}

/**
 * Extracts the spec's members of `archive` into `into`/<folder>; anything else in the archive is
 * skipped, and a member that would land outside `into`, or a link or folder where a file belongs,
 * refuses the whole archive. It settles only once every file tar opened is closed, failed or not:
 * the caller removes the folder they are in as soon as this rejects.
 */
export async function unpack(archive: string, into: string, spec: UnpackSpec): Promise<void> {
  const file = path.basename(archive);
  const wanted = new Map(spec.members.map((m) => [`${spec.folder}/${m.name}`, m]));
  let failure: DownloadError | undefined;
  const refuse = (why: string): false => {
    failure ??= new DownloadError(`${file} is refused: ${why}; nothing of it was kept`);
    return false;
  };
  const fail = (e: unknown): void => {
    failure ??= new DownloadError(`${file} could not be unpacked: ${reasonOf(e)}`, { cause: e });
  };
  const extract = tar.x({
    cwd: into,
    strict: true,
    preserveOwner: false,
    // What tar is given is already a plain tar (see feed): nothing for it to decompress.
    zstd: false,
    brotli: false,
    filter: (p, entry) => {
      if (failure) return false;
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
  // In strict mode tar reports a damaged archive (a bad header, a truncated member) as an error and
  // goes on; it emits 'close' once its input has ended and every file it opened is closed. A folder
  // it cannot enter (CwdError) stops it for good, but before it opens any file.
  const stopped = new Promise<void>((resolve) => {
    extract.once('close', resolve);
    extract.on('error', (e: Error) => {
      fail(e);
      if (e.name === 'CwdError') resolve();
    });
  });
  const drained = () => new Promise<void>((resolve) => {
    extract.once('drain', resolve);
    void stopped.then(resolve);
  });
  // The tar is handed on until the first failure; then tar's input is ended, and tar finishes the
  // member it is in (short) and ends. Gzip is undone here, not by tar: a decompression error inside
  // tar (its Parser.abort) stops it for good with the file of the member it was in still open. So
  // what tar is given must not begin as gzip either, or tar would undo that layer itself.
  const feed = async (tarStream: AsyncIterable<Buffer>): Promise<void> => {
    let head: Buffer | undefined = Buffer.alloc(0);
    for await (const chunk of tarStream) {
      if (failure) return;
      let data = chunk;
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < GZIP_MAGIC.length) continue;
        if (head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) return void refuse('it is gzipped twice');
        data = head;
        head = undefined;
      }
      if (!extract.write(data)) await drained();
    }
    if (head !== undefined && head.length > 0) extract.write(head);
  };
  try {
    const gzipped = await isGzip(archive);
    const input = fs.createReadStream(archive);
    await (gzipped ? pipeline(input, zlib.createGunzip(), feed) : pipeline(input, feed));
  } catch (e) {
    fail(e);
  }
  extract.end();
  await stopped;
  if (failure) throw failure;
  for (const m of spec.members) {
    if (m.size === undefined) continue;
    const st = fs.statSync(path.join(into, spec.folder, m.name), { throwIfNoEntry: false });
    if (st?.size !== m.size) throw new DownloadError(`${file} has no member ${spec.folder}/${m.name} of ${m.size} bytes; nothing of it was kept`);
  }
}
