/**
 * Resident memory of loading a dataset into memory, ours vs torchvision's in-memory form, each
 * load in a fresh process: Fashion-MNIST (the installed IDX files, gzip as shipped and raw as
 * torchvision's download leaves them) and CIFAR-10's binary version (full-size files of random
 * pixels written by this bench: the layout and sizes are real, the pictures are not).
 * Ours: fashionMnist / cifar10, train and test splits. PyTorch (bench/pytorch/dataset_memory.py):
 * torchvision.datasets.FashionMNIST over the raw files, and for CIFAR-10 the same numpy steps as
 * torchvision's CIFAR10 (which reads the python-pickle version, not this binary one).
 * Reported: the bytes a dataset must hold (images and labels), and how far the process's resident
 * set grew after the load and at its peak (VmHWM), over the resident set once the libraries were
 * imported. Goal: what stays after the load is the data, not copies of the files.
 *
 *   npx tsx bench/dataset-memory.ts [--rounds 3]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { cifar10, fashionMnist } from '../src/data';
import type { ArrayDataset } from '../src/data';
import { benchMain, machine, machineNote, median, procCounters, runOurs, runPytorch, spread } from './common';

const FMNIST = process.env.SIGNIN_TORCH_FASHION_MNIST_ROOT || '/usr/share/datasets/fashion-mnist';
const IDX_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

type Case = 'fashion-gz' | 'fashion-raw' | 'cifar10';
const CASES: readonly Case[] = ['fashion-gz', 'fashion-raw', 'cifar10'];
const CASE_NAMES: Record<Case, string> = { 'fashion-gz': 'Fashion-MNIST, gzip IDX', 'fashion-raw': 'Fashion-MNIST, raw IDX', cifar10: 'CIFAR-10, binary' };

interface LoadParams {
  dataset: Case;
  root: string;
}

/** MiB: what the splits hold, the resident set after the load and its peak, over the one before it. */
interface LoadResult {
  dataMiB: number;
  grownMiB: number;
  peakMiB: number;
}

async function oursLoad(p: LoadParams): Promise<LoadResult> {
  const before = procCounters();
  const load = (train: boolean): ArrayDataset => (p.dataset === 'cifar10' ? cifar10({ root: p.root, train }) : fashionMnist({ root: p.root, train }));
  const splits = [load(true), load(false)];
  // A turn of the event loop, as a training script's first await gives: the worker threads that
  // inflated gzip files finish exiting (their heaps were still mapped right after the load).
  await new Promise((resolve) => setTimeout(resolve, 100));
  const after = procCounters();
  const data = splits.reduce((a, s) => a + s.images.byteLength + s.labels.byteLength, 0);
  return { dataMiB: data / 2 ** 20, grownMiB: after.rssMb - before.rssMb, peakMiB: after.hwmMb - before.rssMb };
}

/** The raw IDX files (in torchvision's FashionMNIST/raw layout) and full-size CIFAR-10 batches. */
function prepare(dir: string): Record<Case, string> {
  const raw = path.join(dir, 'FashionMNIST', 'raw');
  fs.mkdirSync(raw, { recursive: true });
  for (const f of IDX_FILES) fs.writeFileSync(path.join(raw, f), zlib.gunzipSync(fs.readFileSync(path.join(FMNIST, `${f}.gz`))));
  const cifar = path.join(dir, 'cifar-10-batches-bin');
  fs.mkdirSync(cifar);
  let s = 1;
  for (const name of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) {
    const buf = Buffer.allocUnsafe(10000 * 3073);
    for (let i = 0; i < buf.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      buf[i] = i % 3073 === 0 ? (s >>> 16) % 10 : s >>> 24;
    }
    fs.writeFileSync(path.join(cifar, `${name}.bin`), buf);
  }
  return { 'fashion-gz': FMNIST, 'fashion-raw': raw, cifar10: cifar };
}

export async function run(opts: { rounds?: number } = {}): Promise<{ markdown: string }> {
  const rounds = opts.rounds ?? 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-data-'));
  try {
    const roots = prepare(dir);
    const before = machine();
    const ours: Record<Case, LoadResult[]> = { 'fashion-gz': [], 'fashion-raw': [], cifar10: [] };
    const torch: Record<Case, LoadResult[]> = { 'fashion-gz': [], 'fashion-raw': [], cifar10: [] };
    for (let r = 0; r < rounds; r++) {
      for (const c of CASES) {
        const p = { dataset: c, root: roots[c] };
        const runs = [() => ours[c].push(runOurs<LoadResult>(__filename, p)), () => torch[c].push(runPytorch<LoadResult>('dataset_memory.py', { ...p, root: c === 'cifar10' ? roots.cifar10 : dir }))];
        if (c === 'fashion-gz') runs.pop(); // torchvision reads the files its download unpacked
        for (const go of r % 2 ? runs.reverse() : runs) go();
      }
    }
    const after = machine();
    const row = (c: Case, who: string, xs: LoadResult[]) => `| ${CASE_NAMES[c]} | ${who} | ${median(xs.map((x) => x.dataMiB)).toFixed(1)} | `
      + `${spread(xs.map((x) => x.grownMiB), 0)} | ${spread(xs.map((x) => x.peakMiB), 0)} | ${median(xs.map((x) => x.grownMiB / x.dataMiB)).toFixed(2)} |`;
    const markdown = [
      'Train and test splits loaded in a fresh process, ' + `${rounds} round(s), the order alternating. MiB over the resident set once the libraries were imported; median (min–max).`,
      '',
      '| dataset | implementation | data held | resident after the load | peak while loading | after / data |',
      '|---|---|---|---|---|---|',
      ...CASES.flatMap((c) => [row(c, 'signin-torch', ours[c]), ...(torch[c].length ? [row(c, 'torchvision', torch[c])] : [])]),
      '',
      machineNote(before, after),
    ].join('\n');
    return { markdown };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

benchMain<LoadParams>(module, oursLoad, ({ num }) => run({ rounds: num('rounds') }));
