import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createDataset, DatasetError, fashionMnist, mnist, readIdxImages, readIdxLabels } from '../../../src/data';
import type { ArrayDataset } from '../../../src/data';
import { bytesRead, SMALL_READ_BYTES } from '../../helpers/bytes-read';
import { fashionImages, FMNIST_DIR, hasFashionMnist, idxImagesBytes, idxLabelsBytes, tmpDir, writeIdxSet, type GreyImages } from '../../helpers/data-fixtures';

const src = fashionImages(400);

function expectSame(ds: ArrayDataset, ref: GreyImages): void {
  expect(ds.length).toBe(ref.count);
  expect(ds.shape).toEqual([1, 28, 28]);
  for (let i = 0; i < ref.count; i++) {
    const s = ds.get(i);
    expect(s.label).toBe(ref.labels[i]);
    expect(s.image.width).toBe(28);
    expect(s.image.height).toBe(28);
    expect(s.image.channels).toBe(1);
    expect(Buffer.compare(Buffer.from(s.image.data), Buffer.from(ref.images.subarray(i * 784, (i + 1) * 784)))).toBe(0);
  }
}

describe('IDX datasets (MNIST / Fashion-MNIST format)', () => {
  test.each([true, false])('reads every record and label back (gzip %s)', (gzip) => {
    const dir = tmpDir();
    const { train, test } = writeIdxSet(dir, src, gzip);
    expectSame(mnist({ root: dir }), train);
    expectSame(mnist({ root: dir, train: false }), test);
    const viaRegistry = createDataset('fashion_mnist', { root: dir, train: false }) as ArrayDataset;
    expectSame(viaRegistry, test);
    expect(viaRegistry.name).toBe('fashion_mnist');
    expect(viaRegistry.classes[9]).toBe('Ankle boot');
  });

  test('pixels live in shared memory (workers read them without a copy)', () => {
    const dir = tmpDir();
    writeIdxSet(dir, src, true);
    const ds = mnist({ root: dir });
    expect(ds.images.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(ds.labels.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  test('a missing file names the path and the fix', () => {
    const dir = tmpDir();
    writeIdxSet(dir, src, true);
    fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
    expect(() => mnist({ root: dir, train: false })).toThrow(
      new RegExp(`^Missing dataset file ${dir}/t10k-labels-idx1-ubyte\\.gz \\(nor ${dir}/t10k-labels-idx1-ubyte\\): pass root`),
    );
    const empty = tmpDir();
    let err: unknown;
    try {
      fashionMnist({ root: empty });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe('ERR_DATASET');
    expect((err as DatasetError).file).toBe(path.join(empty, 'train-images-idx3-ubyte.gz'));
    // A caller that names root otherwise restates the fix in its own words.
    const missing = `Missing dataset file ${empty}/train-images-idx3-ubyte.gz (nor ${empty}/train-images-idx3-ubyte)`;
    const files = 'a folder with train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz)';
    expect((err as DatasetError).message).toBe(`${missing}: pass root, ${files}`);
    expect((err as DatasetError).messageNaming('--data-root')).toBe(`${missing}: pass --data-root, ${files}`);
    expect(new DatasetError('bad header', 'f').messageNaming('--data-root')).toBe('bad header');
    expect(() => new DatasetError('x', undefined, { fix: { expected: 3 } as never })).toThrow("Expected { expected: string, install?: string } for options.fix but received");
  });

  test('the default Fashion-MNIST location suggests the Debian package', () => {
    const empty = tmpDir();
    process.env.SIGNIN_TORCH_FASHION_MNIST_ROOT = empty;
    try {
      expect(() => fashionMnist()).toThrow(
        `Missing dataset file ${empty}/train-images-idx3-ubyte.gz (nor ${empty}/train-images-idx3-ubyte): install it with "sudo apt-get install -y dataset-fashion-mnist", fetch it with "signin-torch download fashion_mnist" or pass root, a folder with the IDX files`,
      );
    } finally {
      delete process.env.SIGNIN_TORCH_FASHION_MNIST_ROOT;
    }
  });

  test('MNIST has no default root', () => {
    expect(() => mnist()).toThrow(/^MNIST has no default location: fetch it with "signin-torch download mnist" or pass root/);
  });

  test('a FIFO or a device in place of a file is refused unread', () => {
    const dir = tmpDir();
    writeIdxSet(dir, src, false);
    const f = path.join(dir, 'train-labels-idx1-ubyte');
    fs.rmSync(f);
    fs.symlinkSync('/dev/null', f); // reading /dev/zero would never end
    expect(() => mnist({ root: dir })).toThrow(new DatasetError(`Dataset file ${f} is a character device, not a regular file: pass root, a folder with the four MNIST IDX files`));
    fs.rmSync(f);
    fs.mkdirSync(f);
    expect(() => readIdxLabels(f)).toThrow(`Dataset file ${f} is a directory, not a regular file`);
  });

  (fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('a FIFO put in place of a file after the check is refused, not waited on (in a child: the failure is a hang)', () => {
    // A stat before opening sees the file that was there; the child's statSync answers for a
    // regular file, as it would have before the FIFO replaced it.
    const dir = tmpDir();
    const f = path.join(dir, 'train-images-idx3-ubyte');
    execFileSync('mkfifo', [f]);
    const script = `const { readIdxImages } = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'data', 'idx.ts'))});
const fs = require('node:fs');
const statSync = fs.statSync;
fs.statSync = (p, o) => statSync(p === ${JSON.stringify(f)} ? ${JSON.stringify(__filename)} : p, o);
try { readIdxImages(${JSON.stringify(f)}); } catch (e) { process.stdout.write(e.message); }`;
    const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(r.stdout).toBe(`Dataset file ${f} is a FIFO (named pipe), not a regular file`);
  });

  test('a 1 GiB sparse file, raw or gzip, is refused from its header and size, read only in part', () => {
    const dir = tmpDir();
    const raw = path.join(dir, 'train-images-idx3-ubyte');
    fs.writeFileSync(raw, idxImagesBytes(new Uint8Array(0), 60000));
    fs.truncateSync(raw, 2 ** 30); // sparse: costs no disk
    const gz = path.join(dir, 'x.gz');
    fs.writeFileSync(gz, zlib.gzipSync(idxImagesBytes(new Uint8Array(0), 60000)));
    fs.truncateSync(gz, 2 ** 30);
    const labels = path.join(dir, 'train-labels-idx1-ubyte');
    fs.writeFileSync(labels, idxLabelsBytes(src.labels.subarray(0, 5)));
    fs.truncateSync(labels, 2 ** 30);
    const before = bytesRead();
    expect(() => mnist({ root: dir })).toThrow(`${raw} has ${2 ** 30} bytes but its header (60000 images of 28×28) needs ${16 + 60000 * 784}: the file is longer than its header says`);
    expect(() => readIdxLabels(labels)).toThrow(`${labels} has ${2 ** 30} bytes but its header (5 labels) needs 13: the file is longer than its header says`);
    expect(() => readIdxImages(gz)).toThrow(`${gz} is ${2 ** 30} bytes of gzip, more than the ${16 + 60000 * 784} bytes its header declares can take: the file is damaged or not an IDX file`);
    expect(bytesRead() - before).toBeLessThan(SMALL_READ_BYTES);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('bad magic numbers are reported with the file', () => {
    const dir = tmpDir();
    const img = path.join(dir, 'img');
    const lbl = path.join(dir, 'lbl');
    fs.writeFileSync(img, idxImagesBytes(src.images.subarray(0, 784 * 3), 3, 28, 28, 2049));
    fs.writeFileSync(lbl, idxLabelsBytes(src.labels.subarray(0, 3), 2051));
    expect(() => readIdxImages(img)).toThrow(`${img} is not an IDX images file: magic number 2049 (expected 2051)`);
    expect(() => readIdxLabels(lbl)).toThrow(`${lbl} is not an IDX labels file: magic number 2051 (expected 2049)`);
  });

  test('truncated and over-long files, short headers, corrupt gzip', () => {
    const dir = tmpDir();
    const f = path.join(dir, 'x');
    const full = idxImagesBytes(src.images.subarray(0, 784 * 3), 3);
    fs.writeFileSync(f, full.subarray(0, full.length - 5));
    expect(() => readIdxImages(f)).toThrow(`${f} has ${full.length - 5} bytes but its header (3 images of 28×28) needs ${full.length}: the file is truncated`);
    fs.writeFileSync(f, Buffer.concat([full, Buffer.alloc(1)]));
    expect(() => readIdxImages(f)).toThrow(/the file is longer than its header says$/);
    fs.writeFileSync(f, full.subarray(0, 10));
    expect(() => readIdxImages(f)).toThrow(`${f} is not an IDX images file: 10 bytes is shorter than its 16-byte header`);
    const gz = zlib.gzipSync(full);
    fs.writeFileSync(f, gz.subarray(0, gz.length - 20));
    expect(() => readIdxImages(f)).toThrow(new RegExp(`^Corrupt gzip data in ${f} \\(.*\\): the file is truncated or damaged`));
    const l = path.join(dir, 'l');
    fs.writeFileSync(l, idxLabelsBytes(src.labels.subarray(0, 5)).subarray(0, 11));
    expect(() => readIdxLabels(l)).toThrow(`${l} has 11 bytes but its header (5 labels) needs 13: the file is truncated`);
  });

  test('a gzip bomb stops at the size its header declares, with an error naming the file', () => {
    const dir = tmpDir();
    writeIdxSet(dir, src, true);
    // 60000 images of 28×28 declared (47 MB), 2.9 GB of zeros behind it in 45 gzip members of 64 MiB.
    const head = idxImagesBytes(new Uint8Array(0), 60000);
    const member = zlib.gzipSync(Buffer.alloc(64 * 2 ** 20));
    const bomb = Buffer.concat([zlib.gzipSync(head), ...new Array(45).fill(member)]);
    expect(bomb.length).toBeLessThan(3e6);
    const f = path.join(dir, 'train-images-idx3-ubyte.gz');
    fs.writeFileSync(f, bomb);
    const before = process.memoryUsage().rss;
    expect(() => mnist({ root: dir })).toThrow(`${f} inflates to more than the ${16 + 60000 * 784} bytes its header declares: the file is damaged or not an IDX file`);
    // Inflating the whole file would take 2.9 GB; the bound is 47 MB.
    expect(process.memoryUsage().rss - before).toBeLessThan(500e6);
  });

  test('a header that declares more than the gzip file can hold is a truncated file', () => {
    const dir = tmpDir();
    const f = path.join(dir, 'x.gz');
    fs.writeFileSync(f, zlib.gzipSync(idxImagesBytes(src.images.subarray(0, 784), 60000)));
    expect(() => readIdxImages(f)).toThrow(new RegExp(`^${f} is \\d+ bytes of gzip, too few to hold the ${16 + 60000 * 784} bytes its header declares: the file is truncated$`));
  });

  test('empty images, empty files and sizes that do not fit the dataset name the file', () => {
    const dir = tmpDir();
    writeIdxSet(dir, src, false);
    const f = path.join(dir, 'train-images-idx3-ubyte');
    fs.writeFileSync(f, idxImagesBytes(new Uint8Array(0), 5, 0, 0));
    expect(() => readIdxImages(f)).toThrow(`${f} declares images of 0×0 pixels: an image needs at least one row and one column`);
    expect(() => mnist({ root: dir })).toThrow(`${f} declares images of 0×0 pixels`);
    fs.writeFileSync(f, idxImagesBytes(new Uint8Array(0), 0));
    expect(() => mnist({ root: dir })).toThrow(`${f} holds no images: its header declares 0`);
    fs.writeFileSync(f, idxImagesBytes(new Uint8Array(2 * 32 * 32), 2, 32, 32));
    expect(() => mnist({ root: dir })).toThrow(`${f} holds 32×32 images but this dataset's images are 28×28`);
    expect(readIdxImages(f)).toMatchObject({ count: 2, rows: 32, cols: 32 });
    fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idxImagesBytes(new Uint8Array(0), 10001));
    expect(() => mnist({ root: dir, train: false })).toThrow(
      `${dir}/t10k-images-idx3-ubyte declares 10001 images, more than the 10000 this dataset holds: the file belongs to another dataset or is damaged`,
    );
    const l = path.join(dir, 'train-labels-idx1-ubyte');
    fs.writeFileSync(l, idxLabelsBytes(new Uint8Array(0)));
    expect(() => readIdxLabels(l)).toThrow(`${l} holds no labels: its header declares 0`);
  });

  test('image and label counts must agree; labels must be < 10', () => {
    const dir = tmpDir();
    writeIdxSet(dir, src, false);
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxLabelsBytes(src.labels.subarray(0, 7)));
    expect(() => mnist({ root: dir })).toThrow(`${dir}/train-images-idx3-ubyte holds 200 images but ${dir}/train-labels-idx1-ubyte holds 7 labels`);
    const bad = new Uint8Array(src.labels.subarray(0, 200));
    bad[13] = 10;
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxLabelsBytes(bad));
    expect(() => mnist({ root: dir })).toThrow(`${dir}/train-labels-idx1-ubyte: label 10 of sample 13 is not in [0, 9]`);
  });
});

(hasFashionMnist ? describe : describe.skip)(`the real Fashion-MNIST files in ${FMNIST_DIR}`, () => {
  test.each([
    [true, 60000, 6000],
    [false, 10000, 1000],
  ])('train=%s: %i images, %i per class', (train, count, perClass) => {
    const ds = fashionMnist({ train });
    expect(ds.length).toBe(count);
    expect(ds.shape).toEqual([1, 28, 28]);
    const hist = new Array(10).fill(0);
    for (let i = 0; i < ds.length; i++) hist[ds.label(i)]++;
    expect(hist).toEqual(new Array(10).fill(perClass));
  });

  test('the files match the independent reader', () => {
    const ref = fashionImages(50);
    const ds = fashionMnist({ train: false });
    expectSame({ ...ds, length: 50, get: (i: number) => ds.get(i), shape: ds.shape } as unknown as ArrayDataset, ref);
  });
});
