/**
 * A corrupt tarball (a gzip stream cut off or damaged, a tar cut off, a header whose checksum
 * fails, a member shorter than its header says): unpack rejects naming the archive and the reason,
 * and only once tar has no file open in the folder, since the caller removes that folder as soon as
 * unpack rejects. The tar is made by Python's tarfile (which gives each member's offset), damaged
 * here; the reason expected for a damaged gzip stream is what zlib says of the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import pino from 'pino';
import { DATASET_SOURCES, downloadFrom, mirrorUrl, type DownloadSource } from '../../../src/data/download';
import { unpack } from '../../../src/data/download-unpack';
import { tempDir } from '../../helpers/temp';
import { md5, tree } from './download-fixtures';

const FOLDER = 'cifar-10-batches-bin';
const CIFAR_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
// Members of 4 MiB: their writes outlast the parsing, so a rejection that does not wait for them
// finds them still being written.
const MEMBER = 4 << 20;
const spec = { folder: FOLDER, members: CIFAR_FILES.map((name) => ({ name, size: MEMBER })) };

/** Bytes of 4 random bits each: deflate codes them (Huffman blocks), a quarter of them as redundancy. */
function noise(n: number): Buffer {
  const aes = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16, 2));
  const b = aes.update(Buffer.alloc(n));
  for (let i = 0; i < n; i++) b[i] &= 0x0f;
  return b;
}

const data = noise(MEMBER);

/**
 * A tar of the six record files (each `data`), by Python's tarfile, the same bytes every run (no
 * mtime or owner of the machine's); where each member's data begins.
 */
function cifarTar(): { tar: Buffer; bodies: number[] } {
  const dir = tempDir('dl-corrupt-');
  fs.writeFileSync(path.join(dir, 'member'), data);
  const out = path.join(dir, 'a.tar');
  const bodies = JSON.parse(execFileSync('/usr/bin/python3', ['-c', `
import json, os, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    for name in json.loads(sys.argv[3]):
        i = tarfile.TarInfo(name); i.size = os.path.getsize(sys.argv[2])
        with open(sys.argv[2], 'rb') as f: t.addfile(i, f)
with tarfile.open(sys.argv[1]) as t:
    print(json.dumps([m.offset_data for m in t]))
`, out, path.join(dir, 'member'), JSON.stringify(CIFAR_FILES.map((f) => `${FOLDER}/${f}`))]).toString());
  return { tar: fs.readFileSync(out), bodies };
}

const { tar, bodies } = cifarTar();
const gz = zlib.gzipSync(tar);
/** Half-way through the 3rd member, in the tar and (the noise is uniform) about there in the gzip stream. */
const mid3 = bodies[2] + MEMBER / 2;
const mid3gz = Math.round((gz.length * mid3) / tar.length);

const flipped = (b: Buffer, at: number) => {
  const c = Buffer.from(b);
  c[at] ^= 0xff;
  return c;
};
/**
 * The gzip stream with the first byte from `from` on flipped whose flip zlib reports within the next
 * KiB of the stream (a bad block), long before the 3rd member's end: tar sees no damage first. Most
 * flips only garble data, or shift all that follows (then tar may find a bad header before zlib's
 * CRC check at the end finds the flip).
 */
function breakingFlip(from: number): Buffer {
  for (let at = from; ; at++) {
    const b = flipped(gz, at);
    try {
      zlib.inflateRawSync(b.subarray(10, at + 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return b;
    }
  }
}
/** What zlib says of a damaged gzip stream. */
function gunzipError(b: Buffer): string {
  try {
    zlib.gunzipSync(b);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the damaged gzip stream decompressed');
}
/** The tar with 1 MiB of the 3rd member's data cut out, its header unchanged. */
const shortThird = Buffer.concat([tar.subarray(0, bodies[2] + (1 << 20)), tar.subarray(bodies[2] + (2 << 20))]);

const cases: [string, string, Buffer, string | RegExp][] = [
  ['a gzip stream cut off half-way through the 3rd of 6 members', 'a.tar.gz', gz.subarray(0, mid3gz), gunzipError(gz.subarray(0, mid3gz))],
  ['a byte of the gzip stream flipped there', 'a.tar.gz', breakingFlip(mid3gz), gunzipError(breakingFlip(mid3gz))],
  ['a tar (not gzipped) cut off there', 'a.tar', tar.subarray(0, mid3), /^TAR_BAD_ARCHIVE: Truncated input/],
  // The header's first byte is the member's name; the header is the 512 bytes before its data.
  ["the 3rd member's header checksum broken", 'a.tar.gz', zlib.gzipSync(flipped(tar, bodies[2] - 512)), /^TAR_ENTRY_INVALID: checksum failure/],
  // tar takes the 4th member's header as data of the 3rd, then a block of the 4th's data as a header.
  ['the 3rd member 1 MiB shorter than its header says', 'a.tar.gz', zlib.gzipSync(shortThird), /^TAR_ENTRY_INVALID: checksum failure/],
];

/** The files under `dir` this process has open (Linux: /proc/self/fd). */
function openIn(dir: string): string[] {
  const real = `${fs.realpathSync(dir)}/`;
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const p = fs.readlinkSync(`/proc/self/fd/${fd}`);
      return p.startsWith(real) ? [p] : [];
    } catch {
      return [];
    }
  });
}

const linux = fs.existsSync('/proc/self/fd');

describe('unpack of a corrupt tarball', () => {
  (linux ? test.each(cases) : test.skip.each(cases))('%s: rejects with the reason once no member is open or growing', async (_what, file, bytes, reason) => {
    const dir = tempDir('dl-');
    const archive = path.join(dir, file);
    fs.writeFileSync(archive, bytes);
    const into = path.join(dir, 'into');
    fs.mkdirSync(into);
    const err = await unpack(archive, into, spec).then(() => undefined, (e: Error) => e);
    const at = { files: tree(into), open: openIn(into) };
    expect(at.open).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tree(into)).toEqual(at.files);
    // The members before the damage are whole.
    expect(at.files).toMatchObject({ [`${FOLDER}/data_batch_1.bin`]: MEMBER, [`${FOLDER}/data_batch_2.bin`]: MEMBER });
    expect(err).toMatchObject({ code: 'ERR_DOWNLOAD' });
    const prefix = `${file} could not be unpacked: `;
    expect(err!.message.startsWith(prefix)).toBe(true);
    if (typeof reason === 'string') expect(err!.message.slice(prefix.length)).toBe(reason);
    else expect(err!.message.slice(prefix.length)).toMatch(reason);
  });

  test('the intact tar, gzipped or not, unpacks whole: every member is the bytes put in', async () => {
    for (const [file, bytes] of [['a.tar', tar], ['a.tar.gz', gz]] as const) {
      const dir = tempDir('dl-');
      fs.writeFileSync(path.join(dir, file), bytes);
      await unpack(path.join(dir, file), dir, spec);
      for (const f of CIFAR_FILES) expect(fs.readFileSync(path.join(dir, FOLDER, f)).equals(data)).toBe(true);
    }
  });

  // tar would undo a second gzip layer itself, and a damaged one there stops it for good (no
  // 'close'): unpack refuses it rather than wait for that.
  test('a gzipped .tar.gz is refused (its inner stream cut off)', async () => {
    const dir = tempDir('dl-');
    const archive = path.join(dir, 'a.tar.gz');
    fs.writeFileSync(archive, zlib.gzipSync(gz.subarray(0, mid3gz)));
    await expect(unpack(archive, dir, spec)).rejects.toMatchObject({ code: 'ERR_DOWNLOAD', message: 'a.tar.gz is refused: it is gzipped twice; nothing of it was kept' });
    expect(tree(dir)).toEqual({ 'a.tar.gz': fs.statSync(archive).size });
  });

  test('a folder to unpack into that is not there: rejects (tar stops before it opens a file)', async () => {
    const dir = tempDir('dl-');
    fs.writeFileSync(path.join(dir, 'a.tar.gz'), gz);
    const into = path.join(dir, 'gone');
    await expect(unpack(path.join(dir, 'a.tar.gz'), into, spec)).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD', message: `a.tar.gz could not be unpacked: ENOENT: Cannot cd into '${into}'`,
    });
  });
});

test('a corrupt CIFAR tarball from a local mirror: the error names it and why; root is left as it was, no staging folder in it', async () => {
  const mirror = tempDir('dl-mirror-');
  const archive = gz.subarray(0, mid3gz);
  fs.writeFileSync(path.join(mirror, 'cifar-10-binary.tar.gz'), archive);
  const source: DownloadSource = {
    ...DATASET_SOURCES.cifar10,
    mirrors: [mirrorUrl('mirror', `file://${mirror}`)],
    files: [{ name: 'cifar-10-binary.tar.gz', md5: md5(archive), maxBytes: 64 << 20 }],
    unpack: spec,
  };
  const parent = tempDir('dl-');
  const root = path.join(parent, 'root');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'notes.txt'), 'kept');
  const warnings: unknown[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  await expect(downloadFrom(source, { root, logger })).rejects.toMatchObject({
    code: 'ERR_DOWNLOAD', message: `cifar-10-binary.tar.gz could not be unpacked: ${gunzipError(archive)}`,
  });
  expect(tree(parent)).toEqual({ root: '', 'root/notes.txt': 4 });
  expect(warnings).toEqual([]);
});
