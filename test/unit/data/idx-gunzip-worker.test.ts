/**
 * Gzip IDX files of WORKER_GUNZIP_BYTES or more are inflated by a worker thread straight into
 * shared memory (src/data/gunzip-shared.ts): the same bytes and errors as zlib in this thread,
 * without the compressed and inflated copies left behind as garbage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readIdxImages } from '../../../src/data';
import { gunzipShared } from '../../../src/data/gunzip-shared';
import { WORKER_GUNZIP_BYTES } from '../../../src/data/idx';
import { arrayBufferGrowth } from '../../helpers/array-buffer-growth';
import { idxImagesBytes, tmpDir } from '../../helpers/data-fixtures';

/** `count` 28×28 images of a pattern that compresses about 4:1, like real pictures, not to nothing. */
function pattern(count: number): Uint8Array {
  const out = new Uint8Array(count * 784);
  let s = 7;
  for (let i = 0; i < out.length; i++) {
    if (i % 4 === 0) s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 24) & 0xf0;
  }
  return out;
}

const COUNT = 20000; // 15.7 MB inflated
const images = pattern(COUNT);
const file = (dir: string, bytes: Buffer) => {
  const f = path.join(dir, 'train-images-idx3-ubyte.gz');
  fs.writeFileSync(f, bytes);
  return f;
};

describe('gzip IDX files inflated in a worker', () => {
  test('the images read back as written, in shared memory', () => {
    expect(16 + images.length).toBeGreaterThanOrEqual(WORKER_GUNZIP_BYTES);
    const f = file(tmpDir(), zlib.gzipSync(idxImagesBytes(images, COUNT)));
    const got = readIdxImages(f);
    expect(got).toMatchObject({ count: COUNT, rows: 28, cols: 28 });
    expect(got.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.compare(Buffer.from(got.data), Buffer.from(images))).toBe(0);
  });

  test('no copy of the file is left behind: array buffers grow by the images alone', () => {
    const f = file(tmpDir(), zlib.gzipSync(idxImagesBytes(images, COUNT)));
    const { grown, held } = arrayBufferGrowth(`src.readIdxImages(${JSON.stringify(f)})`, 'r.data.buffer.byteLength');
    // Inflated in this thread in one output piece, 2.2× the images was still there; with zlib's
    // 16 KiB pieces, young garbage, it could be collected by then, but a training process kept it
    // (the resident-memory benchmark shows that).
    expect(grown).toBeGreaterThanOrEqual(held);
    expect(grown).toBeLessThan(1.1 * held);
  });

  test('a damaged or cut stream is the file\'s error, as in this thread', () => {
    const dir = tmpDir();
    const gz = zlib.gzipSync(idxImagesBytes(images, COUNT));
    const damaged = Buffer.from(gz);
    damaged[damaged.length - 8] ^= 1; // the trailer's CRC-32 of the inflated bytes
    const f = file(dir, damaged);
    expect(() => readIdxImages(f)).toThrow(`Corrupt gzip data in ${f} (incorrect data check): the file is truncated or damaged`);
    fs.writeFileSync(f, gz.subarray(0, gz.length >> 1));
    expect(() => readIdxImages(f)).toThrow(`Corrupt gzip data in ${f} (unexpected end of file): the file is truncated or damaged`);
  });

  test('a stream longer than its header declares stops there', () => {
    const f = file(tmpDir(), Buffer.concat([zlib.gzipSync(idxImagesBytes(images, COUNT - 10)), zlib.gzipSync(Buffer.alloc(20 * 784))]));
    expect(() => readIdxImages(f)).toThrow(`${f} inflates to more than the ${16 + (COUNT - 10) * 784} bytes its header declares: the file is damaged or not an IDX file`);
  });

  test('a read that fails in the worker says it was the read, with its code', () => {
    const dir = tmpDir();
    const fd = fs.openSync(dir, 'r'); // read(2) on a folder fails with EISDIR
    try {
      const { reply } = gunzipShared(fd, 4096, 16 + images.length);
      expect(reply).toEqual({ error: expect.objectContaining({ code: 'EISDIR', reading: true }) });
    } finally {
      fs.closeSync(fd);
    }
  });

  test('a worker that does not finish in time is an error, not a wait for ever', () => {
    const f = file(tmpDir(), zlib.gzipSync(idxImagesBytes(images, COUNT)));
    const fd = fs.openSync(f, 'r');
    try {
      const { bytes, reply } = gunzipShared(fd, fs.fstatSync(fd).size, 16 + images.length, 0);
      expect(reply).toEqual({ error: { worker: true, message: 'the worker inflating it did not finish in 0 s' } });
      expect(bytes.length).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
  });
});
