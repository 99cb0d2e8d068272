import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cifar10, cifar100, CIFAR100_COARSE_CLASSES, createDataset, DatasetError } from '../../../src/data';
import type { ArrayDataset } from '../../../src/data';
import { arrayBufferGrowth } from '../../helpers/array-buffer-growth';
import { fashionImages, tmpDir, writeCifar10, writeCifar100, type RgbSet } from '../../helpers/data-fixtures';

const src = fashionImages(300);

function expectSame(ds: ArrayDataset, ref: RgbSet, labels = ref.labels): void {
  expect(ds.length).toBe(ref.images.length);
  expect(ds.shape).toEqual([3, 32, 32]);
  for (let i = 0; i < ds.length; i++) {
    const s = ds.get(i);
    expect(s.label).toBe(labels[i]);
    expect(s.image.channels).toBe(3);
    expect(Buffer.compare(Buffer.from(s.image.data), Buffer.from(ref.images[i]))).toBe(0);
  }
}

describe('CIFAR-10 binary', () => {
  test('every record and label of the 5 train batches and the test batch', () => {
    const dir = tmpDir();
    const { train, test } = writeCifar10(dir, src, 203, 57);
    expectSame(cifar10({ root: dir }), train);
    expectSame(cifar10({ root: dir, train: false }), test);
    const ds = createDataset('cifar10', { root: dir }) as ArrayDataset;
    expect(ds.numClasses).toBe(10);
    expect(ds.classes[0]).toBe('airplane');
  });

  test('files of more records than one read takes (1024) decode across the pieces', () => {
    const dir = tmpDir();
    const { train } = writeCifar10(dir, src, 5 * 2500, 3);
    expectSame(cifar10({ root: dir }), train);
  });

  test('no copy of the files is left behind: array buffers grow by the images and labels alone', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 5 * 2500, 3);
    const { grown, held } = arrayBufferGrowth(`src.cifar10({ root: ${JSON.stringify(dir)} })`, 'r.images.byteLength + r.labels.byteLength');
    // Each file read whole, the five files' bytes were still there: 2× the images.
    expect(grown).toBeGreaterThanOrEqual(held);
    expect(grown).toBeLessThan(1.1 * held);
  });

  test('root may be the parent of cifar-10-batches-bin; batches.meta.txt names the classes', () => {
    const parent = tmpDir();
    const dir = path.join(parent, 'cifar-10-batches-bin');
    const { test } = writeCifar10(dir, src, 10, 12);
    fs.writeFileSync(path.join(dir, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    const ds = cifar10({ root: parent, train: false });
    expectSame(ds, test);
    expect(ds.classes).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  });

  test('a file whose size is not a multiple of 3073 bytes is named', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 20, 5);
    const f = path.join(dir, 'data_batch_3.bin');
    fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 3073 * 4 - 100));
    let err: unknown;
    try {
      cifar10({ root: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).file).toBe(f);
    expect((err as Error).message).toBe(`${f} has ${3073 * 4 - 100} bytes, not a positive multiple of the 3073-byte CIFAR-10 record: the file is truncated or not in the binary format`);
  });

  test('a file larger than the 10000 records a CIFAR-10 batch holds is refused before it is read', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 20, 5);
    const f = path.join(dir, 'data_batch_2.bin');
    fs.truncateSync(f, 3073 * 10001); // sparse: costs no disk
    expect(() => cifar10({ root: dir })).toThrow(
      `${f} has ${3073 * 10001} bytes, more than the 10000 CIFAR-10 records of 3073 bytes that this file holds: the file is not a CIFAR-10 file`,
    );
    fs.truncateSync(f, 3073 * 10000);
    expect(cifar10({ root: dir }).length).toBe(4 * 4 + 10000); // exactly 10000 records is a full batch
  });

  test('a FIFO or a device in place of a batch file is refused unread', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 20, 5);
    const f = path.join(dir, 'data_batch_4.bin');
    fs.rmSync(f);
    fs.symlinkSync('/dev/null', f); // reading /dev/zero would never end
    expect(() => cifar10({ root: dir })).toThrow(new DatasetError(`CIFAR-10 file ${f} is a character device, not a regular file: pass root, the folder holding the binary version's .bin files`));
  });

  (fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('a FIFO put in place of a batch file after a stat is refused, not waited on (in a child: the failure is a hang)', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 20, 5);
    const f = path.join(dir, 'data_batch_4.bin');
    fs.rmSync(f);
    execFileSync('mkfifo', [f]);
    // A stat before opening sees the file that was there; the child's statSync answers for a
    // regular file, as it would have before the FIFO replaced it.
    const script = `const { cifar10 } = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'data'))});
const fs = require('node:fs');
const statSync = fs.statSync;
fs.statSync = (p, o) => statSync(p === ${JSON.stringify(f)} ? ${JSON.stringify(path.join(dir, 'data_batch_1.bin'))} : p, o);
try { cifar10({ root: ${JSON.stringify(dir)} }); } catch (e) { process.stdout.write(e.message); }`;
    const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(r.stdout).toBe(`CIFAR-10 file ${f} is a FIFO (named pipe), not a regular file: pass root, the folder holding the binary version's .bin files`);
  });

  (fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('a FIFO as batches.meta.txt leaves the default class names, not a hang (in a child)', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 20, 5);
    execFileSync('mkfifo', [path.join(dir, 'batches.meta.txt')]);
    const script = `const { cifar10 } = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'data'))});
process.stdout.write(JSON.stringify(cifar10({ root: ${JSON.stringify(dir)}, train: false }).classes));`;
    const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  });

  describe('a batch file written to while it is read: refused, naming it, and the next load is whole', () => {
    // A writer at the moment that matters: the real file is changed when the loader opens it the
    // second time (its size then differs from the count's), or when it first reads it (after its
    // size was taken: the read comes back short).
    // The module object the loader calls through: the test's own import has getters, not spyable.
    const realFs: typeof fs = jest.requireActual('node:fs');

    function loadWhile(change: 'reopen' | 'read', f: string, write: () => void, dir: string): unknown {
      const open = realFs.openSync;
      const read = realFs.readSync;
      let opens = 0;
      let fd = -1;
      jest.spyOn(realFs, 'openSync').mockImplementation((...args: Parameters<typeof fs.openSync>) => {
        const opened = args[0] === f ? ++opens : 0;
        if (change === 'reopen' && opened === 2) write();
        const got = open(...args);
        if (opened === 2) fd = got;
        return got;
      });
      jest.spyOn(realFs, 'readSync').mockImplementation(((...args: Parameters<typeof fs.readSync>) => {
        if (change === 'read' && args[0] === fd) {
          fd = -1;
          write();
        }
        return (read as (...a: unknown[]) => number)(...args);
      }) as typeof fs.readSync);
      try {
        cifar10({ root: dir });
      } catch (e) {
        return e;
      } finally {
        jest.restoreAllMocks();
      }
      return undefined;
    }

    test.each([
      ['grown between the count and the read', 'reopen', (f: string) => fs.appendFileSync(f, Buffer.alloc(3073)),
        (f: string) => `${f} changed from ${4 * 3073} to ${5 * 3073} bytes while it was read`],
      ['cut short after its size was taken', 'read', (f: string) => fs.truncateSync(f, 2 * 3073 + 100),
        (f: string) => `${f} ended at byte ${2 * 3073 + 100} while it was read, short of its ${4 * 3073} bytes`],
    ] as const)('%s', (_name, change, write, message) => {
      const dir = tmpDir();
      const { train } = writeCifar10(dir, src, 20, 5);
      const f = path.join(dir, 'data_batch_3.bin');
      const whole = fs.readFileSync(f);
      const files = fs.readdirSync(dir).sort();
      const err = loadWhile(change, f, () => write(f), dir);
      expect(err).toBeInstanceOf(DatasetError);
      expect(err).toMatchObject({ file: f, message: `${message(f)}: load the dataset again once nothing writes it` });
      expect(fs.readdirSync(dir).sort()).toEqual(files);
      fs.writeFileSync(f, whole);
      expectSame(cifar10({ root: dir }), train);
    });
  });

  test('a missing batch file is named', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 20, 5);
    fs.rmSync(path.join(dir, 'data_batch_5.bin'));
    expect(() => cifar10({ root: dir })).toThrow(`Cannot read CIFAR-10 file ${dir}/data_batch_5.bin (ENOENT): pass root, the folder holding the binary version's .bin files`);
  });

  test('a label out of range (e.g. a CIFAR-100 file given as CIFAR-10) is reported', () => {
    const dir = tmpDir();
    writeCifar10(dir, src, 20, 5);
    const f = path.join(dir, 'test_batch.bin');
    const b = fs.readFileSync(f);
    b[3073 * 2] = 42;
    fs.writeFileSync(f, b);
    expect(() => cifar10({ root: dir, train: false })).toThrow(`${f}: record 2 has label 42, not in [0, 9]: the file is not a CIFAR-10 file`);
  });

  test('no root: the registry says what to pass', () => {
    expect(() => createDataset('cifar10')).toThrow(/^CIFAR-10 has no offline copy: fetch it with "signin-torch download cifar10" or pass root, the folder with data_batch_1\.bin/);
  });
});

describe('CIFAR-100 binary', () => {
  test('fine and coarse labels, every record (2100 of them: three reads)', () => {
    const dir = tmpDir();
    const { train, test } = writeCifar100(dir, src, 2100, 40);
    const fine = cifar100({ root: dir });
    expectSame(fine, train);
    expect(fine.numClasses).toBe(100);
    expect(fine.classes[99]).toBe('worm');
    const coarse = cifar100({ root: dir, labelType: 'coarse', train: false });
    expectSame(coarse, test, test.coarse);
    expect(coarse.numClasses).toBe(20);
    expect(coarse.classes).toEqual([...CIFAR100_COARSE_CLASSES]);
    expectSame(createDataset('cifar100', { root: dir, labelType: 'coarse' }) as ArrayDataset, train, train.coarse);
  });

  test('bad labelType, wrong size, missing file', () => {
    const dir = tmpDir();
    writeCifar100(dir, src, 10, 10);
    expect(() => cifar100({ root: dir, labelType: 'medium' as 'fine' })).toThrow("Expected one of 'fine', 'coarse' for labelType but received 'medium' of type string");
    fs.appendFileSync(path.join(dir, 'test.bin'), Buffer.alloc(3073));
    expect(() => cifar100({ root: dir, train: false })).toThrow(`${dir}/test.bin has ${3074 * 10 + 3073} bytes, not a positive multiple of the 3074-byte CIFAR-100 record`);
    fs.rmSync(path.join(dir, 'train.bin'));
    expect(() => cifar100({ root: dir })).toThrow(`Cannot read CIFAR-100 file ${dir}/train.bin (ENOENT)`);
  });
});
