/**
 * Loader overhead while training: the fraction of training-step time the Trainer spends blocked
 * on the DataLoader's next() (waiting for a batch), for small models where data loading matters
 * most:
 *  - LeNet-5 on Fashion-MNIST (in memory, normalize only), 0 workers;
 *  - masked CIFAR ResNet-20 (Random-ERK 90%) on in-memory 32×32 RGB with randomCrop(32, pad 4) +
 *    flip, 0 and 2 workers;
 *  - the same ResNet-20 on an ImageFolder of generated JPEGs (400×300, as bench/loader.ts) with
 *    RandomResizedCrop(32) + flip, 0 and 2 workers.
 * The real Trainer runs each case (fused masked SGD, progress bar off); the loader is wrapped in a
 * BatchSource that times every next(). Blocked fraction = Σ wait / Σ step time over the measured
 * steps (after warm-up steps, which include starting the workers); a step's time runs from one
 * next() call to the following one (wait + forward/backward/update + callbacks).
 *
 *   npx tsx bench/loader-overhead.ts                      # prints a markdown table
 *   BENCH_STEPS=60 BENCH_THREADS=2 npx tsx bench/loader-overhead.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import {
  ArrayDataset, DataLoader, fashionMnist, ImageFolder, normalize, randomCrop, randomHorizontalFlip, randomResizedCrop, toTensor,
  type Dataset, type Transform,
} from '../src/data';
import { createModel } from '../src/models';
import { SGD } from '../src/optim/sgd';
import { pruneModel } from '../src/pruning';
import { getNumThreads, manualSeed, setNumThreads } from '../src/tensor/runtime';
import { Trainer, type Batch, type BatchSource } from '../src/train/trainer';
import { makeJpegFolder } from './loader';
import { printReport } from './common';

export interface OverheadRow {
  model: string;
  data: string;
  workers: number;
  batchSize: number;
  steps: number;
  /** Median step time (ms), wait included. */
  stepMs: number;
  /** Mean time blocked in next() per step (ms). */
  waitMs: number;
  /** Σ wait / Σ step time. */
  blockedFraction: number;
  imagesPerSecond: number;
}

export interface OverheadResult {
  threads: number;
  warmup: number;
  rows: OverheadRow[];
  notes: string[];
}

/** A BatchSource over `steps` batches of a loader (across its epochs), timing each next(). */
export class TimedBatches implements BatchSource {
  readonly length: number;
  /** performance.now() when the trainer asked for batch k; one more entry when it asked past the last. */
  readonly asked: number[] = [];
  /** ms blocked in next() for batch k. */
  readonly waits: number[] = [];

  constructor(private readonly loader: DataLoader, readonly steps: number) {
    this.length = steps;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    let n = 0;
    while (n < this.steps) {
      const it = this.loader[Symbol.asyncIterator]();
      let got = 0;
      try {
        while (n < this.steps) {
          const t0 = performance.now();
          const r = await it.next();
          if (r.done) break;
          this.asked.push(t0);
          this.waits.push(performance.now() - t0);
          n++;
          got++;
          yield r.value;
        }
      } finally {
        await it.return?.(undefined);
      }
      if (got === 0) throw new Error('the loader gave no batch');
    }
    this.asked.push(performance.now());
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Case {
  model: 'lenet5' | 'cifar_resnet_20';
  data: string;
  dataset: Dataset;
  transforms: Transform[];
  workers: number;
  inChannels: number;
}

async function measure(c: Case, batchSize: number, warmup: number, steps: number): Promise<OverheadRow> {
  manualSeed(0);
  const model = createModel(c.model, { numClasses: c.dataset.numClasses, inChannels: c.inChannels });
  await pruneModel(model, { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'erk', seed: 0 });
  const optimizer = SGD.forModel(model, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const loader = new DataLoader(c.dataset, {
    batchSize, shuffle: true, seed: 0, dropLast: true, transforms: c.transforms, numWorkers: c.workers, persistentWorkers: true,
  });
  const source = new TimedBatches(loader, warmup + steps);
  try {
    const trainer = new Trainer({
      model, optimizer, train: source, epochs: 1, lr: () => 0.05, progress: false, logger: pino({ level: 'silent' }),
    });
    await trainer.fit();
  } finally {
    await loader.close();
    optimizer.dispose();
    model.dispose();
  }
  const stepTimes = source.asked.slice(warmup + 1).map((t, k) => t - source.asked[warmup + k]);
  const waits = source.waits.slice(warmup);
  const total = stepTimes.reduce((a, b) => a + b, 0);
  const wait = waits.reduce((a, b) => a + b, 0);
  return {
    model: c.model === 'lenet5' ? 'LeNet-5' : 'ResNet-20 (CIFAR)',
    data: c.data,
    workers: c.workers,
    batchSize,
    steps,
    stepMs: median(stepTimes),
    waitMs: wait / steps,
    blockedFraction: wait / total,
    imagesPerSecond: (steps * batchSize) / (total / 1000),
  };
}

/** n 32×32 RGB images (Fashion-MNIST padded by 2 px when installed, else noise) with labels. */
function rgb32(n: number): { images: Uint8Array; labels: number[] } {
  let grey: Uint8Array;
  let labels: number[];
  try {
    const ds = fashionMnist({ train: true });
    grey = ds.images.slice(0, n * 784);
    labels = Array.from(ds.labels.slice(0, n));
  } catch {
    grey = new Uint8Array(n * 784);
    let s = 1;
    for (let i = 0; i < grey.length; i++) grey[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    labels = Array.from({ length: n }, (_, i) => i % 10);
  }
  const images = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 1024; p++) {
      const y = p >> 5;
      const x = p & 31;
      const g = y >= 2 && y < 30 && x >= 2 && x < 30 ? grey[i * 784 + (y - 2) * 28 + (x - 2)] : 0;
      images[i * 3072 + p * 3] = g;
      images[i * 3072 + p * 3 + 1] = 255 - g;
      images[i * 3072 + p * 3 + 2] = (g + x * 4) & 255;
    }
  }
  return { images, labels };
}

export async function run(opts: { steps?: number; warmup?: number; batchSize?: number; images?: number; threads?: number } = {}): Promise<OverheadResult & { markdown: string }> {
  const steps = opts.steps ?? Number(process.env.BENCH_STEPS ?? 30);
  const warmup = opts.warmup ?? 5;
  const batchSize = opts.batchSize ?? 64;
  const images = opts.images ?? Number(process.env.BENCH_IMAGES ?? 640);
  const threads = opts.threads ?? Number(process.env.BENCH_THREADS ?? 0);
  if (threads > 0) setNumThreads(threads);
  const notes: string[] = [];
  const rows: OverheadRow[] = [];
  const MEAN = [0.485, 0.456, 0.406];
  const STD = [0.229, 0.224, 0.225];

  let fmnist: Dataset;
  try {
    fmnist = fashionMnist({ train: true });
  } catch {
    const { images: rgb, labels } = rgb32(10000);
    const grey = new Uint8Array(10000 * 784);
    for (let i = 0; i < 10000; i++) for (let p = 0; p < 784; p++) grey[i * 784 + p] = rgb[i * 3072 + (((p / 28) | 0) + 2) * 96 + ((p % 28) + 2) * 3];
    fmnist = new ArrayDataset({ images: grey, labels, width: 28, height: 28, channels: 1, numClasses: 10, name: 'synthetic_mnist' });
    notes.push('Fashion-MNIST is not installed: synthetic 28×28 images stand in for it.');
  }
  const { images: rgb, labels } = rgb32(10000);
  const cifar = new ArrayDataset({ images: rgb, labels, width: 32, height: 32, channels: 3, numClasses: 10, name: 'cifar_like' });
  const cifarT = [randomCrop(32, { padding: 4 }), randomHorizontalFlip(), toTensor(), normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])];

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-overhead-'));
  try {
    await makeJpegFolder(root, images);
    const folder = new ImageFolder(root);
    const jpegT = [randomResizedCrop(32), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)];
    const cases: Case[] = [
      { model: 'lenet5', data: 'Fashion-MNIST in memory, normalize', dataset: fmnist, transforms: [toTensor(), normalize(0.286, 0.353)], workers: 0, inChannels: 1 },
      ...[0, 2].map((w): Case => ({ model: 'cifar_resnet_20', data: 'in-memory 32×32 RGB, randomCrop(32, pad 4) + flip', dataset: cifar, transforms: cifarT, workers: w, inChannels: 3 })),
      ...[0, 2].map((w): Case => ({ model: 'cifar_resnet_20', data: `${images} JPEGs 400×300, RandomResizedCrop(32) + flip`, dataset: folder, transforms: jpegT, workers: w, inChannels: 3 })),
    ];
    for (const c of cases) {
      process.stderr.write(`  ${c.model} / ${c.data} / ${c.workers} workers\n`);
      rows.push(await measure(c, batchSize, warmup, steps));
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const result: OverheadResult = { threads: getNumThreads(), warmup, rows, notes };
  return { ...result, markdown: toMarkdown(result) };
}

export function toMarkdown(r: OverheadResult): string {
  const first = r.rows[0];
  const lines = [
    `Time the Trainer spends blocked on the DataLoader's next(), as a fraction of step time (${os.cpus().length} cores, ${r.threads} libtorch threads; ` +
    `batch ${first?.batchSize ?? '?'}, ${first?.steps ?? '?'} steps after ${r.warmup} warm-up steps; random-ERK 90% masks, fused masked SGD). ` +
    'With 0 workers, in-memory batches are built on the main thread between steps; JPEGs are decoded on libuv\'s thread pool (prefetched) and transformed on the main thread.',
    '',
    '| model | data | workers | step (ms, median) | wait (ms/step) | blocked | images/s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map((x) => `| ${x.model} | ${x.data} | ${x.workers} | ${x.stepMs.toFixed(1)} | ${x.waitMs.toFixed(1)} | ${(x.blockedFraction * 100).toFixed(1)}% | ${x.imagesPerSecond.toFixed(0)} |`),
  ];
  for (const n of r.notes) lines.push('', n);
  return lines.join('\n');
}

if (require.main === module) printReport(run());
