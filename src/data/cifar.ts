/**
 * CIFAR-10 and CIFAR-100 in their binary versions (https://www.cs.toronto.edu/~kriz/cifar.html):
 *  - CIFAR-10: data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin; records of
 *    1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows top to bottom).
 *  - CIFAR-100: train.bin, test.bin; records of 1 coarse label byte + 1 fine label byte + 3072.
 * root may be the folder holding the files or its parent (the tarballs unpack into
 * cifar-10-batches-bin/ and cifar-100-binary/). Pixels are transposed once at load to HWC.
 * Every CIFAR-10 file holds 10000 records, CIFAR-100's train.bin 50000 and test.bin 10000: a
 * file larger than that is refused before it is read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInto, readRecordBounded } from '../bounded-read';
import { InvalidArgumentError } from '../errors';
import { bool, keysOf, knownKeys, obj, oneOf } from '../validate';
import { ArrayDataset, sharedBytes } from './array-dataset';
import { DatasetError, withDatasetFile } from './base';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

export const CIFAR100_FINE_CLASSES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
] as const;

export const CIFAR100_COARSE_CLASSES = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables', 'household_electrical_devices',
  'household_furniture', 'insects', 'large_carnivores', 'large_man-made_outdoor_things', 'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores', 'medium_mammals', 'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals',
  'trees', 'vehicles_1', 'vehicles_2',
] as const;

const PIXELS = 3072;
const SIDE = 32;

export interface CifarOptions {
  /** Folder with the .bin files, or its parent (cifar-10-batches-bin/ or cifar-100-binary/ inside). */
  root: string;
  /** Training split (default) or test split. */
  train?: boolean;
}

export interface Cifar100Options extends CifarOptions {
  /** Which label to serve: 'fine' (100 classes, default) or 'coarse' (20 superclasses). */
  labelType?: 'fine' | 'coarse';
}

export const CIFAR_OPTIONS = keysOf<CifarOptions>({ root: true, train: true });
export const CIFAR100_OPTIONS = keysOf<Cifar100Options>({ root: true, train: true, labelType: true });

function resolveRoot(root: unknown, sub: string, probe: string): string {
  if (typeof root !== 'string' || root.length === 0) throw new InvalidArgumentError('root', 'folder path (string)', root);
  if (!fs.existsSync(path.join(root, probe)) && fs.existsSync(path.join(root, sub, probe))) return path.join(root, sub);
  return root;
}

const FIX = { expected: "the folder holding the binary version's .bin files" };

/**
 * Records read at a time, into one buffer reused for every file: a training split read whole (five
 * 30 MB files) was garbage that stayed resident for the whole run, since a training process's
 * small JS heap gives V8 no reason for the full collection that would free it.
 */
const RECORDS_PER_READ = 1024;

/** A record file's record count, from its size alone, so a wrong file of gigabytes is never read. */
function recordCount(file: string, size: number, recordSize: number, maxRecords: number, what: string): number {
  if (size > maxRecords * recordSize) {
    throw new DatasetError(`${file} has ${size} bytes, more than the ${maxRecords} ${what} records of ${recordSize} bytes that this file holds: the file is not a ${what} file`, file);
  }
  if (size === 0 || size % recordSize !== 0) {
    throw new DatasetError(`${file} has ${size} bytes, not a positive multiple of the ${recordSize}-byte ${what} record: the file is truncated or not in the binary format`, file);
  }
  return size / recordSize;
}

/** Copies records (label bytes then 3072 CHW pixels) into HWC images and labels, a piece of each file at a time. */
function decode(files: string[], maxRecords: number, limits: number[], labelOffset: number, what: string, name: string, classes: readonly string[]): ArrayDataset {
  const labelBytes = limits.length;
  const numClasses = limits[labelOffset];
  const recordSize = labelBytes + PIXELS;
  const counts = files.map((f) => withDatasetFile(f, what, FIX, (_fd, size) => recordCount(f, size, recordSize, maxRecords, what)));
  const n = counts.reduce((a, b) => a + b, 0);
  const images = sharedBytes(n * PIXELS);
  const labels = new Int32Array(n);
  const piece = Buffer.allocUnsafe(Math.min(RECORDS_PER_READ, Math.max(...counts)) * recordSize);
  let k = 0;
  files.forEach((file, fi) => withDatasetFile(file, what, FIX, (fd, size) => {
    if (size !== counts[fi] * recordSize) {
      throw new DatasetError(`${file} changed from ${counts[fi] * recordSize} to ${size} bytes while it was read: load the dataset again once nothing writes it`, file);
    }
    for (let first = 0; first < counts[fi]; first += RECORDS_PER_READ) {
      const m = Math.min(RECORDS_PER_READ, counts[fi] - first);
      const got = readInto(fd, piece.subarray(0, m * recordSize), first * recordSize);
      if (got !== m * recordSize) {
        throw new DatasetError(`${file} ended at byte ${first * recordSize + got} while it was read, short of its ${size} bytes: load the dataset again once nothing writes it`, file);
      }
      for (let j = 0; j < m; j++, k++) {
        const base = j * recordSize;
        for (let b = 0; b < labelBytes; b++) {
          if (piece[base + b] >= limits[b]) {
            throw new DatasetError(`${file}: record ${first + j} has label ${piece[base + b]}, not in [0, ${limits[b] - 1}]: the file is not a ${what} file`, file);
          }
        }
        labels[k] = piece[base + labelOffset];
        const src = base + labelBytes;
        const dst = k * PIXELS;
        for (let p = 0; p < 1024; p++) {
          images[dst + 3 * p] = piece[src + p];
          images[dst + 3 * p + 1] = piece[src + 1024 + p];
          images[dst + 3 * p + 2] = piece[src + 2048 + p];
        }
      }
    }
  }));
  return new ArrayDataset({ images, labels, width: SIDE, height: SIDE, channels: 3, numClasses, classes, name });
}

/** The class names a dataset's own file gives, when it reads and has them all; a FIFO or device there is not waited on. */
function readNames(file: string, expected: number): string[] | undefined {
  try {
    const names = readRecordBounded(file).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
    return names.length === expected ? names : undefined;
  } catch {
    return undefined;
  }
}

/** The record files a CIFAR split reads (root resolved as the loaders do). */
export function cifarFiles(kind: 'cifar10' | 'cifar100', rootArg: string, train: boolean): string[] {
  if (kind === 'cifar100') {
    const root = resolveRoot(rootArg, 'cifar-100-binary', train ? 'train.bin' : 'test.bin');
    return [path.join(root, train ? 'train.bin' : 'test.bin')];
  }
  const root = resolveRoot(rootArg, 'cifar-10-batches-bin', train ? 'data_batch_1.bin' : 'test_batch.bin');
  return train ? [1, 2, 3, 4, 5].map((i) => path.join(root, `data_batch_${i}.bin`)) : [path.join(root, 'test_batch.bin')];
}

/** CIFAR-10 (binary version): 50k train / 10k test, 32×32 RGB, 10 classes. */
export function cifar10(opts: CifarOptions): ArrayDataset {
  obj('options', opts, 'CIFAR-10 options ({ root, train? })');
  knownKeys('options', opts, CIFAR_OPTIONS);
  const train = bool('train', opts.train ?? true);
  const files = cifarFiles('cifar10', opts.root, train);
  const root = path.dirname(files[0]);
  const classes = readNames(path.join(root, 'batches.meta.txt'), 10) ?? CIFAR10_CLASSES;
  return decode(files, 10000, [10], 0, 'CIFAR-10', 'cifar10', classes);
}

/** CIFAR-100 (binary version): 50k train / 10k test, 32×32 RGB, 100 fine or 20 coarse classes. */
export function cifar100(opts: Cifar100Options): ArrayDataset {
  obj('options', opts, 'CIFAR-100 options ({ root, train?, labelType? })');
  knownKeys('options', opts, CIFAR100_OPTIONS);
  const train = bool('train', opts.train ?? true);
  const labelType = oneOf('labelType', opts.labelType ?? 'fine', ['fine', 'coarse'] as const);
  const [file] = cifarFiles('cifar100', opts.root, train);
  const root = path.dirname(file);
  const fine = labelType === 'fine';
  const classes = fine
    ? readNames(path.join(root, 'fine_label_names.txt'), 100) ?? CIFAR100_FINE_CLASSES
    : readNames(path.join(root, 'coarse_label_names.txt'), 20) ?? CIFAR100_COARSE_CLASSES;
  return decode([file], train ? 50000 : 10000, [20, 100], fine ? 1 : 0, 'CIFAR-100', 'cifar100', classes);
}
