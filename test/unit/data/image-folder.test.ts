import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  compose, createDataset, DatasetError, ImageFolder, normalize, randomHorizontalFlip, randomResizedCrop, resize, Rng, toTensor, centerCrop,
} from '../../../src/data';
import { decodeImage, ImageDecodeError } from '../../../src/data/image-folder';
import { setLogger } from '../../../src/logger';
import { SMALL_READ_BYTES } from '../../helpers/bytes-read';
import { fashionImages, tmpDir, writeImageFolder, type FolderImage } from '../../helpers/data-fixtures';
import { pythonHas, runPythonJson } from '../../helpers/pytorch';

const src = fashionImages(60);
const CLASSES = ['n02', 'n01', 'b_class', 'B', 'a'];
const DATA = JSON.stringify(path.resolve(__dirname, '../../../src/data'));

/** A script in a child node (a hang is killed after 30 s). */
function child(script: string): { stdout: string; stderr: string; status: number | null } {
  return spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], { encoding: 'utf8', timeout: 30000, cwd: path.resolve(__dirname, '../../..') });
}

async function png(root: string, nested = false): Promise<FolderImage[]> {
  return writeImageFolder(root, src, { classes: CLASSES, perClass: 4, format: 'png', width: 30, height: 20, nested });
}

function sortedByPath(imgs: FolderImage[]): FolderImage[] {
  return [...imgs].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** torchvision's ImageFolder over root: its samples (paths relative to root) and class_to_idx. */
function torchvisionImageFolder(root: string): { samples: [string, number][]; class_to_idx: Record<string, number> } {
  return runPythonJson(
    String.raw`
import sys, json, os
from torchvision.datasets import ImageFolder
root = json.load(sys.stdin)
ds = ImageFolder(root)
print(json.dumps({'samples': [[os.path.relpath(p, root), l] for p, l in ds.samples], 'class_to_idx': ds.class_to_idx}))
`,
    root,
  );
}

describe('ImageFolder', () => {
  test('classes sorted by code point; labels follow the class index map; PNG pixels exact', async () => {
    const root = tmpDir();
    const written = await png(root);
    fs.writeFileSync(path.join(root, 'a', 'notes.txt'), 'not an image');
    fs.writeFileSync(path.join(root, 'README'), 'a file at the top is not a class');
    const ds = new ImageFolder(root);
    expect(ds.classes).toEqual(['B', 'a', 'b_class', 'n01', 'n02']);
    expect([...ds.classToIdx.entries()]).toEqual([['B', 0], ['a', 1], ['b_class', 2], ['n01', 3], ['n02', 4]]);
    expect(ds.length).toBe(20);
    expect(ds.shape).toBeNull();
    const byRel = new Map(written.map((w) => [w.rel, w]));
    for (let i = 0; i < ds.length; i++) {
      const rel = ds.relativePath(i);
      const w = byRel.get(rel)!;
      expect(ds.classes[ds.label(i)]).toBe(CLASSES[w.label]);
      const s = await ds.get(i);
      expect(s.label).toBe(ds.label(i));
      expect([s.image.width, s.image.height, s.image.channels]).toEqual([30, 20, 3]);
      expect(Buffer.compare(Buffer.from(s.image.data), Buffer.from(w.pixels))).toBe(0);
    }
  });

  test('JPEGs decode within JPEG tolerance; grey JPEGs become RGB; .jpg and .JPEG both count', async () => {
    const root = tmpDir();
    const written = [
      ...(await writeImageFolder(root, src, { classes: ['x'], perClass: 3, format: 'jpeg', width: 40, height: 32 })),
      ...(await writeImageFolder(root, src, { classes: ['y'], perClass: 2, format: 'jpeg', ext: '.jpg', width: 40, height: 32 })),
    ];
    const sharp = require('sharp') as typeof import('sharp').default;
    await sharp(Buffer.alloc(16 * 16, 77), { raw: { width: 16, height: 16, channels: 1 } }).jpeg().toFile(path.join(root, 'y', 'zz_grey.jpeg'));
    const ds = new ImageFolder(root);
    expect(ds.length).toBe(6);
    for (let i = 0; i < 5; i++) {
      const w = written.find((x) => x.rel === ds.relativePath(i))!;
      const s = await ds.get(i);
      let err = 0;
      for (let k = 0; k < w.pixels.length; k++) err += Math.abs(s.image.data[k] - w.pixels[k]);
      expect(err / w.pixels.length).toBeLessThan(3);
    }
    const grey = await ds.get(5);
    expect(ds.relativePath(5)).toBe('y/zz_grey.jpeg');
    expect(grey.image.channels).toBe(3);
    expect(Math.max(...grey.image.data)).toBeLessThanOrEqual(79);
    expect(Math.min(...grey.image.data)).toBeGreaterThanOrEqual(75);
  });

  test('empty class folders and missing roots are errors naming the folder', async () => {
    const root = tmpDir();
    await png(root);
    fs.mkdirSync(path.join(root, 'zz_empty'));
    expect(() => new ImageFolder(root)).toThrow(`Found no valid file for the classes zz_empty in ${root}. Supported extensions are: .jpg, .jpeg, .png, .webp, .tif, .tiff`);
    expect(() => new ImageFolder(path.join(root, 'nope'))).toThrow(`Cannot read image folder ${root}/nope (ENOENT): pass root, a folder with one sub-folder per class`);
    expect(() => createDataset('imagenet')).toThrow(/^ImageNet has no offline copy: pass root, a folder with train\/<wnid>\/\*\.JPEG/);
  });

  test('linked folders are followed; a link to a folder that contains it is an error naming the link', async () => {
    const root = tmpDir();
    await png(root);
    const outside = tmpDir();
    await writeImageFolder(outside, src, { classes: ['shared'], perClass: 2, format: 'png', width: 30, height: 20 });
    fs.symlinkSync(path.join(outside, 'shared'), path.join(root, 'linked_class'));
    fs.symlinkSync(path.join(outside, 'shared'), path.join(root, 'a', 'linked_sub'));
    const ds = new ImageFolder(root);
    expect(ds.classes).toEqual(['B', 'a', 'b_class', 'linked_class', 'n01', 'n02']);
    expect(ds.samples().filter(([rel]) => rel.startsWith('linked_class/') || rel.startsWith('a/linked_sub/'))).toEqual([
      ['a/linked_sub/img_0000.png', 1], ['a/linked_sub/img_0001.png', 1], ['linked_class/img_0000.png', 3], ['linked_class/img_0001.png', 3],
    ]);
    // os.walk(followlinks=True) would go round the loop until ELOOP, listing a's images 40 times
    // (and with two such links, 2^40 folders).
    const loop = path.join(root, 'a', 'sub', 'up');
    fs.mkdirSync(path.dirname(loop));
    fs.symlinkSync('../..', loop);
    expect(() => new ImageFolder(root)).toThrow(new DatasetError(`${loop} is a link to ${root}, a folder that contains it: the folder tree would loop forever; remove the link`));
    fs.rmSync(loop);
    fs.symlinkSync('.', path.join(root, 'self'));
    expect(() => new ImageFolder(root)).toThrow(`${root}/self is a link to ${root}, a folder that contains it`);
  });

  test('imagenet: root/train and root/val through the registry', async () => {
    const root = tmpDir();
    await writeImageFolder(path.join(root, 'train'), src, { classes: ['n01440764', 'n01443537'], perClass: 2, format: 'jpeg' });
    await writeImageFolder(path.join(root, 'val'), src, { classes: ['n01440764', 'n01443537'], perClass: 1, format: 'jpeg' });
    const train = createDataset('imagenet', { root }) as ImageFolder;
    const val = createDataset('imagenet', { root, train: false }) as ImageFolder;
    expect([train.length, val.length, train.name]).toEqual([4, 2, 'imagenet']);
    expect(val.dir).toBe(path.join(root, 'val'));
  });

  describe('an unreadable JPEG', () => {
    let root: string;
    let bad: string;
    beforeAll(async () => {
      root = tmpDir();
      await writeImageFolder(root, src, { classes: ['a', 'b'], perClass: 3, format: 'jpeg', width: 32, height: 32 });
      bad = path.join(root, 'a', 'img_0001.JPEG');
      const full = fs.readFileSync(bad);
      fs.writeFileSync(bad, full.subarray(0, Math.floor(full.length / 2))); // truncated
      fs.writeFileSync(path.join(root, 'b', 'img_0002.JPEG'), 'garbage, not a JPEG');
    });

    test('strict: an ERR_DATASET error naming the file', async () => {
      const ds = new ImageFolder(root, { strict: true });
      let err: unknown;
      try {
        await ds.get(1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).file).toBe(bad);
      expect((err as Error).message).toMatch(new RegExp(`^Cannot decode image ${bad} \\(.+\\); remove or replace the file, or use strict: false to skip it with a warning$`));
    });

    test('lenient: a warning naming the file (once) and the next readable sample in its place', async () => {
      const lines: string[] = [];
      const pino = require('pino') as typeof import('pino').default;
      setLogger(pino({ level: 'warn' }, { write: (s: string) => lines.push(s) }));
      const ds = new ImageFolder(root);
      const s1 = await ds.get(1);
      const s2 = await ds.get(2);
      expect(Buffer.compare(Buffer.from(s1.image.data), Buffer.from(s2.image.data))).toBe(0);
      await ds.get(1);
      const last = await ds.get(5); // b/img_0002 is garbage: wraps around to sample 0
      expect(last.label).toBe(0);
      expect(lines).toHaveLength(2);
      expect(JSON.parse(lines[0])).toMatchObject({ level: 40, file: bad, msg: expect.stringMatching(/^Unreadable image .*img_0001\.JPEG \(.+\): replaced by the next readable sample$/) });
      // The loader path (sharp extract/resize while decoding) replaces the same way.
      const out = new Float32Array(3 * 16 * 16);
      const label = await ds.decodeInto(1, compose([resize([16, 16])]), () => new Rng(0), out, 0, [3, 16, 16]);
      expect(label).toBe(0);
    });
  });

  test('a FIFO or a device named like an image is refused unread, in the main thread and in a worker thread', async () => {
    const root = tmpDir();
    await writeImageFolder(root, src, { classes: ['a'], perClass: 1, format: 'png', width: 30, height: 20 });
    // Opening a FIFO waits for a writer; /dev/zero (here /dev/null, which ends) never ends.
    const fifo = spawnSync('mkfifo', [path.join(root, 'a', 'fifo.png')]);
    expect(fifo.status).toBe(0);
    fs.symlinkSync('/dev/null', path.join(root, 'a', 'device.png'));
    const each = `
      const { ImageFolder } = require(${DATA});
      const ds = new ImageFolder(${JSON.stringify(root)}, { strict: true });
      const each = Promise.all(Array.from({ length: ds.length }, (_, i) => ds.get(i).then((s) => 'decoded ' + s.image.width, (e) => e.message)));
    `;
    const inWorker = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); ${each} each.then((r) => require('node:worker_threads').parentPort.postMessage(r));`;
    const r = child(`${each} each.then((main) => new (require('node:worker_threads').Worker)(${JSON.stringify(inWorker)}, { eval: true })
      .on('message', (worker) => process.stdout.write(JSON.stringify({ main, worker }))));`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const refused = (name: string, kind: string) => `Cannot decode image ${path.join(root, 'a', name)} (${kind}, not a regular file); remove or replace the file, or use strict: false to skip it with a warning`;
    const expected = [refused('device.png', 'a character device'), refused('fifo.png', 'a FIFO (named pipe)'), 'decoded 30'];
    expect(JSON.parse(r.stdout)).toEqual({ main: expected, worker: expected });
  });

  test('an image file larger than maxPixels allows (a 1 GiB sparse .jpg) is refused unread, in the main thread and in a worker thread', async () => {
    const root = tmpDir();
    await writeImageFolder(root, src, { classes: ['a'], perClass: 1, format: 'png', width: 30, height: 20 });
    const big = path.join(root, 'a', 'big.jpg');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 2 ** 30); // sparse: costs no disk
    const rchar = `Number(/^rchar: (\\d+)$/m.exec(require('node:fs').readFileSync('/proc/self/io', 'utf8'))[1])`;
    const each = `
      const { ImageFolder } = require(${DATA});
      const ds = new ImageFolder(${JSON.stringify(root)}, { strict: true, maxPixels: 2 ** 20 });
      const before = ${rchar};
      const each = Promise.all(Array.from({ length: ds.length }, (_, i) => ds.get(i).then((s) => 'decoded ' + s.image.width, (e) => e.message)))
        .then((r) => ({ r, read: ${rchar} - before }));
    `;
    const inWorker = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); ${each} each.then((r) => require('node:worker_threads').parentPort.postMessage(r));`;
    const r = child(`${each} each.then((main) => new (require('node:worker_threads').Worker)(${JSON.stringify(inWorker)}, { eval: true })
      .on('message', (worker) => process.stdout.write(JSON.stringify({ main, worker }))));`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const most = 2 ** 20 * 16 + 16 * 2 ** 20;
    const expected = [`Cannot decode image ${big} (${2 ** 30} bytes, more than the ${most} an image of at most ${2 ** 20} pixels (maxPixels) can take); remove or replace the file, or use strict: false to skip it with a warning`, 'decoded 30'];
    const out = JSON.parse(r.stdout) as { main: { r: string[]; read: number }; worker: { r: string[]; read: number } };
    expect({ main: out.main.r, worker: out.worker.r }).toEqual({ main: expected, worker: expected });
    // Bytes the whole process read while the samples were read (/proc/self/io counts every thread).
    expect(out.main.read).toBeLessThan(SMALL_READ_BYTES);
    expect(out.worker.read).toBeLessThan(SMALL_READ_BYTES);
    fs.rmSync(big);
  });

  (fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('decodeImage(path): a FIFO, /dev/zero, a folder or a 2 GiB sparse file (over the default bound) is an ImageDecodeError naming it, read at most in part (in a child)', async () => {
    const root = tmpDir();
    const fifo = path.join(root, 'fifo.png');
    execFileSync('mkfifo', [fifo]);
    const big = path.join(root, 'big.jpg');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 2 ** 31); // sparse: costs no disk
    const files = [fifo, '/dev/zero', root, big];
    const r = child(`
      const { decodeImage } = require(${DATA});
      const read = () => Number(/^rchar: (\\d+)$/m.exec(require('node:fs').readFileSync('/proc/self/io', 'utf8'))[1]);
      const before = read();
      Promise.all(${JSON.stringify(files)}.map((f) => decodeImage(f).then(() => 'decoded', (e) => e.code + ': ' + e.message)))
        .then((out) => process.stdout.write(JSON.stringify({ out, read: read() - before })));`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const most = 64 * 2 ** 20 * 16 + 16 * 2 ** 20;
    const got = JSON.parse(r.stdout) as { out: string[]; read: number };
    expect(got.out).toEqual([
      `ERR_DATASET: Cannot decode image ${fifo} (a FIFO (named pipe), not a regular file)`,
      'ERR_DATASET: Cannot decode image /dev/zero (a character device, not a regular file)',
      `ERR_DATASET: Cannot decode image ${root} (a directory, not a regular file)`,
      `ERR_DATASET: Cannot decode image ${big} (${2 ** 31} bytes, more than the ${most} an image of at most ${64 * 2 ** 20} pixels (maxPixels) can take)`,
    ]);
    expect(got.read).toBeLessThan(SMALL_READ_BYTES);
    fs.rmSync(big);
  });

  test('running out of file descriptors is an error, not unreadable files to replace', async () => {
    const root = tmpDir();
    const one = (await writeImageFolder(root, src, { classes: ['a'], perClass: 1, format: 'png', width: 30, height: 20 }))[0];
    for (let k = 1; k < 300; k++) fs.copyFileSync(path.join(root, one.rel), path.join(root, 'a', `copy_${k}.png`));
    // 300 reads at once under a limit of 128 descriptors, set once the modules are loaded.
    const r = child(`
      const { ImageFolder } = require(${DATA});
      const ds = new ImageFolder(${JSON.stringify(root)});
      const replaced = [];
      ds.onWarning = (file) => replaced.push(file);
      ds.get(0).then(() => {
        require('node:child_process').execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=128:128']);
        return Promise.all(Array.from({ length: ds.length }, (_, i) => ds.get(i)));
      }).then(
        () => process.stdout.write('no error; replaced ' + replaced.length),
        (e) => process.stdout.write(e.code + ': ' + e.message + '; replaced ' + replaced.length),
      );
    `);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^ERR_DATASET: Cannot read image ${root}/a/\\S+\\.png \\(EMFILE\\): this process has too many open files: raise its limit \\(ulimit -n\\) or lower batchSize or prefetch; the file itself may be fine; replaced 0$`));
  });

  describe('images over the pixel limit are refused before decoding', () => {
    async function strictError(ds: ImageFolder, i: number, viaLoader: boolean): Promise<DatasetError> {
      try {
        if (viaLoader) await ds.decodeInto(i, compose([resize([8, 8])]), () => new Rng(0), new Float32Array(3 * 64), 0, [3, 8, 8]);
        else await ds.get(i);
      } catch (e) {
        return e as DatasetError;
      }
      throw new Error('expected a DatasetError');
    }

    test('a small PNG whose header declares 16000×16000 (strict: error naming the file; lenient: replaced)', async () => {
      const root = tmpDir();
      await png(root);
      const huge = path.join(root, 'a', 'img_0000.png');
      const bytes = fs.readFileSync(huge);
      bytes.writeUInt32BE(16000, 16); // IHDR width and height
      bytes.writeUInt32BE(16000, 20);
      fs.writeFileSync(huge, bytes);
      const strict = new ImageFolder(root, { strict: true });
      const i = strict.samples().findIndex(([rel]) => rel === path.join('a', 'img_0000.png'));
      for (const viaLoader of [false, true]) {
        const err = await strictError(strict, i, viaLoader);
        expect(err).toBeInstanceOf(DatasetError);
        expect(err.file).toBe(huge);
        expect(err.message).toBe(`Cannot decode image ${huge} (16000×16000 pixels, more than the limit of ${64 * 2 ** 20} (maxPixels)); remove or replace the file, or use strict: false to skip it with a warning`);
      }
      const warnings: string[] = [];
      const lenient = new ImageFolder(root);
      lenient.onWarning = (file) => warnings.push(file);
      const s = await lenient.get(i);
      expect(s.label).toBe(lenient.label(i + 1));
      expect(warnings).toEqual([huge]);
    });

    test('decodeImage: every failure is an ERR_DATASET ImageDecodeError saying why', async () => {
      const root = tmpDir();
      await png(root);
      const good = fs.readFileSync(path.join(root, 'a', 'img_0000.png'));
      const huge = Buffer.from(good);
      huge.writeUInt32BE(16000, 16);
      huge.writeUInt32BE(16000, 20);
      const tooLarge = await decodeImage(huge).catch((e: unknown) => e);
      expect(tooLarge).toBeInstanceOf(ImageDecodeError);
      expect(tooLarge).toBeInstanceOf(DatasetError);
      expect((tooLarge as ImageDecodeError).code).toBe('ERR_DATASET');
      expect((tooLarge as ImageDecodeError).message).toBe(`Cannot decode image (16000×16000 pixels, more than the limit of ${64 * 2 ** 20} (maxPixels))`);
      const truncated = await decodeImage(good.subarray(0, 40)).catch((e: unknown) => e);
      expect(truncated).toBeInstanceOf(ImageDecodeError);
      expect((truncated as ImageDecodeError).cause).toBeInstanceOf(Error);
      expect((truncated as ImageDecodeError).reason).toBe(((truncated as ImageDecodeError).cause as Error).message.split('\n')[0]);
      const missing = path.join(root, 'nowhere.png');
      const absent = await decodeImage(missing).catch((e: unknown) => e);
      expect(absent).toBeInstanceOf(ImageDecodeError);
      expect((absent as ImageDecodeError).file).toBe(missing);
      expect((absent as ImageDecodeError).message).toMatch(new RegExp(`^Cannot decode image ${missing} \\(.+\\)$`));
      await expect(decodeImage(42 as unknown as Buffer)).rejects.toThrow('Expected Buffer or file path (string) for input but received 42 of type number');
    });

    test('maxPixels holds for formats without a header check (sharp limitInputPixels) and travels to workers', async () => {
      const root = tmpDir();
      fs.mkdirSync(path.join(root, 'c'));
      const sharp = require('sharp') as typeof import('sharp').default;
      const file = path.join(root, 'c', 'x.webp');
      await sharp(Buffer.alloc(30 * 20 * 3, 9), { raw: { width: 30, height: 20, channels: 3 } }).webp({ lossless: true }).toFile(file);
      const ok = new ImageFolder(root, { strict: true, maxPixels: 600 });
      expect((await ok.get(0)).image.width).toBe(30);
      const ds = new ImageFolder(new ImageFolder(root, { strict: true, maxPixels: 599 }).toSpec());
      const err = await strictError(ds, 0, false);
      expect(err.file).toBe(file);
      expect(err.message).toMatch(/^Cannot decode image .*x\.webp \(Input image exceeds pixel limit\)/);
      expect((await strictError(ds, 0, true)).message).toContain('30×20 pixels, more than the limit of 599 (maxPixels)');
      expect(() => new ImageFolder(root, { maxPixels: 0 })).toThrow('Expected positive integer for maxPixels but received 0 of type number');
    });
  });

  test('the sharp decode path (extract/resize in libvips) agrees with the JS path on decoded pixels', async () => {
    const root = tmpDir();
    await writeImageFolder(root, src, { classes: ['c'], perClass: 4, format: 'png', width: 120, height: 90, noise: true });
    const ds = new ImageFolder(root);
    const pipelines = [
      compose([centerCrop(60), randomHorizontalFlip(), toTensor(), normalize(0.5, 0.25)]), // crops only: exact
      compose([randomResizedCrop(48), randomHorizontalFlip(), toTensor()]), // resize: libvips vs Pillow kernels
      compose([resize(64), centerCrop(56), toTensor()]),
    ];
    for (const [k, p] of pipelines.entries()) {
      const shape = p.outputShape(null)!;
      const n = shape[0] * shape[1] * shape[2];
      for (let i = 0; i < ds.length; i++) {
        const viaSharp = new Float32Array(n);
        await ds.decodeInto(i, p, () => new Rng(i), viaSharp, 0, shape);
        const viaJs = new Float32Array(n);
        p.applyInto((await ds.get(i)).image, new Rng(i), viaJs, 0);
        let maxDiff = 0;
        let sum = 0;
        for (let j = 0; j < n; j++) {
          const d = Math.abs(viaSharp[j] - viaJs[j]);
          sum += d;
          maxDiff = Math.max(maxDiff, d);
        }
        if (k === 0) expect(maxDiff).toBe(0);
        else expect(sum / n).toBeLessThan(0.02);
      }
    }
  });
});

(pythonHas('torch, torchvision, PIL') ? describe : describe.skip)('ImageFolder order against torchvision.datasets.ImageFolder', () => {
  test('samples and class_to_idx are identical (nested folders included)', async () => {
    const root = tmpDir();
    await png(root, true);
    fs.mkdirSync(path.join(root, 'a', 'sub-dir'));
    fs.copyFileSync(path.join(root, 'a', 'img_0000.png'), path.join(root, 'a', 'sub-dir', 'Z.PNG'));
    const ref = torchvisionImageFolder(root);
    const ds = new ImageFolder(root);
    expect(ds.samples()).toEqual(ref.samples);
    expect(Object.fromEntries(ds.classToIdx)).toEqual(ref.class_to_idx);
    expect(ds.samples().length).toBe(21);
  });

  test('names that are not UTF-8, and names that UTF-16 and code points sort differently', async () => {
    const root = tmpDir();
    const other = tmpDir();
    const image = fs.readFileSync(path.join(other, (await png(other))[0].rel));
    // Latin-1 'café' (not UTF-8); U+1F600 (a surrogate pair in UTF-16) against U+FF46, which
    // JS's < puts after it and Python's code point order before it.
    const names = [Buffer.from('caf\xe9', 'latin1'), Buffer.from('\u{1F600}smile'), Buffer.from('\uff46ull'), Buffer.from('plain')];
    for (const c of names) {
      const dir = Buffer.concat([Buffer.from(`${root}/`), c]);
      fs.mkdirSync(dir);
      for (const f of [Buffer.from('1.png'), Buffer.from('\xe9t\xe9.png', 'latin1'), Buffer.from('\u{1F431}.png'), Buffer.from('\uff41.png')]) {
        fs.writeFileSync(Buffer.concat([dir, Buffer.from('/'), f]), image);
      }
    }
    const ref = torchvisionImageFolder(root);
    const ds = new ImageFolder(root, { strict: true });
    expect(ds.samples()).toEqual(ref.samples);
    expect(Object.fromEntries(ds.classToIdx)).toEqual(ref.class_to_idx);
    expect(ds.samples().length).toBe(16);
    // Every file opens by its bytes, whatever its name reads as.
    for (let i = 0; i < ds.length; i++) expect((await ds.get(i)).image.width).toBe(30);
  });
});

(pythonHas('PIL, numpy, torchvision') ? describe : describe.skip)('decoded pixels against PIL\'s Image.open(f).convert(\'RGB\') (torchvision\'s loader)', () => {
  /** PIL's RGB bytes of each file, base64. */
  function pil(files: string[]): Buffer[] {
    return runPythonJson<string[]>(String.raw`
import sys, json, base64
import numpy as np
from PIL import Image
print(json.dumps([base64.b64encode(np.asarray(Image.open(f).convert('RGB')).tobytes()).decode() for f in json.load(sys.stdin)]))
`, files).map((b) => Buffer.from(b, 'base64'));
  }

  /** Every pixel of every file, by get() and by the loader's sharp path with a crop (no resampling). */
  async function expectPil(root: string): Promise<void> {
    const ds = new ImageFolder(root, { strict: true, libjpeg: false });
    const refs = pil(Array.from({ length: ds.length }, (_, i) => ds.path(i)));
    for (let i = 0; i < ds.length; i++) {
      const { image } = await ds.get(i);
      expect([ds.relativePath(i), Buffer.from(image.data).equals(refs[i])]).toEqual([ds.relativePath(i), true]);
      const [H, W] = [image.height - 2, image.width - 2];
      const out = new Float32Array(3 * H * W);
      await ds.decodeInto(i, compose([centerCrop([H, W]), toTensor()]), () => new Rng(0), out, 0, [3, H, W]);
      let maxDiff = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) maxDiff = Math.max(maxDiff, Math.abs(Math.round(out[(c * H + y) * W + x] * 255) - refs[i][((y + 1) * image.width + x + 1) * 3 + c]));
        }
      }
      expect([ds.relativePath(i), maxDiff]).toEqual([ds.relativePath(i), 0]);
    }
  }

  test('an embedded ICC profile (Display P3, as phones write) is ignored, as PIL and the libjpeg path do', async () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'c'));
    const sharp = require('sharp') as typeof import('sharp').default;
    const px = Buffer.from(Array.from({ length: 31 * 23 * 3 }, (_, k) => (k * 37) % 256));
    const raw = { raw: { width: 31, height: 23, channels: 3 as const } };
    await sharp(px, raw).withIccProfile('p3').png().toFile(path.join(root, 'c', 'p3.png'));
    await sharp(px, raw).withIccProfile('p3').jpeg({ quality: 95 }).toFile(path.join(root, 'c', 'p3.jpg'));
    await sharp(px, raw).withIccProfile('p3').webp({ lossless: true }).toFile(path.join(root, 'c', 'p3.webp'));
    for (const f of ['p3.png', 'p3.jpg', 'p3.webp']) expect((await sharp(path.join(root, 'c', f)).metadata()).icc).toBeDefined();
    await expectPil(root);
  });

  test('CMYK (a JPEG, a TIFF) converts with PIL\'s formula, not through a colour profile', async () => {
    const root = tmpDir();
    runPythonJson(String.raw`
import sys, json, os
import numpy as np
from PIL import Image
d = os.path.join(json.load(sys.stdin), 'c')
os.makedirs(d)
y, x = np.mgrid[0:23, 0:31]
rgb = np.clip(np.stack([x * 8, y * 11, (x + y) * 5], -1) + np.random.default_rng(0).normal(0, 30, (23, 31, 3)), 0, 255).astype(np.uint8)
im = Image.fromarray(rgb).convert('CMYK')
im.save(os.path.join(d, 'cmyk.jpg'), quality=95)
im.save(os.path.join(d, 'cmyk.tif'))
print('[]')
`, root);
    const sharp = require('sharp') as typeof import('sharp').default;
    for (const f of ['cmyk.jpg', 'cmyk.tif']) expect((await sharp(path.join(root, 'c', f)).metadata()).space).toBe('cmyk');
    await expectPil(root);
    // Through a resize too: PIL converts, then resamples (Pillow's bilinear filter).
    const ds = new ImageFolder(root, { strict: true });
    const [ref] = runPythonJson<number[][]>(String.raw`
import sys, json
import torchvision.transforms as T
from PIL import Image
print(json.dumps([T.Compose([T.Resize((9, 13)), T.ToTensor()])(Image.open(json.load(sys.stdin)).convert('RGB')).flatten().tolist()]))
`, ds.path(0));
    const out = new Float32Array(3 * 9 * 13);
    await ds.decodeInto(0, compose([resize([9, 13]), toTensor()]), () => new Rng(0), out, 0, [3, 9, 13]);
    expect(Math.max(...Array.from(out, (v, k) => Math.abs(v - ref[k])))).toBeLessThan(1e-6);
  });
});

describe('headerSize', () => {
  test('reads JPEG and PNG sizes like sharp.metadata()', async () => {
    const { headerSize } = require('../../../src/data/image-folder') as typeof import('../../../src/data/image-folder');
    const sharp = require('sharp') as typeof import('sharp').default;
    const raw = { raw: { width: 37, height: 23, channels: 3 as const } };
    const px = Buffer.alloc(37 * 23 * 3, 100);
    expect(headerSize(await sharp(px, raw).jpeg().toBuffer())).toEqual([37, 23]);
    expect(headerSize(await sharp(px, raw).jpeg({ progressive: true }).withMetadata().toBuffer())).toEqual([37, 23]);
    expect(headerSize(await sharp(px, raw).png().toBuffer())).toEqual([37, 23]);
    expect(headerSize(await sharp(px, raw).webp().toBuffer())).toBeUndefined();
    expect(headerSize(Buffer.from('garbage, not a JPEG'))).toBeUndefined();
  });
});
