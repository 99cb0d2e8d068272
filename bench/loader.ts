/**
 * Loader throughput of the ImageNet input pipeline: ImageFolder JPEG decode (the addon's libjpeg
 * path, and sharp/libvips as before it) + RandomResizedCrop(224) + horizontal flip + normalize,
 * images/s with 0, 1 and 2 worker threads,
 * against torchvision's (PIL, DataLoader num_workers 0/1/2, bench/pytorch/loader.py) over the
 * SAME folder of JPEGs (default 300 images of ImageNet's typical 500×375, quality 90). Rounds
 * alternate which implementation runs first, each measurement in its own process after a
 * warm-up epoch; the table gives the median over rounds (min–max) and the per-worker ratio.
 * Also the in-memory CIFAR-style path (randomCrop(32, padding 4) + flip + normalize).
 *
 * Besides images/s, each measurement reports the CPU time (user + sys) it spent per image over
 * the timed epochs: for ours the whole process (main thread, worker threads, libuv's pool where
 * sharp decodes), for torchvision the main process and its DataLoader worker processes. Wall-clock
 * throughput needs a quiet machine; CPU per image stays comparable on a loaded one, and
 * images/s × CPU per image is the cores each pipeline kept busy (sharp decodes on libuv's 4
 * threads, so ours can use several cores even with 0 workers; torchvision's 0-worker loader
 * uses one).
 *
 *   npx tsx bench/loader.ts [--rounds 3] [--images 300] [--epochs 2] [--workers 0,1,2]
 *   npx tsx bench/loader.ts --quick      # 1 round, 60 images, 1 epoch: checks that it runs
 *   npx tsx bench/loader.ts --breakdown  # CPU ms per image of each stage, ours and PIL's
 *
 * --breakdown runs each stage one image at a time (each awaited before the next, so one decode
 * is in flight) over the same folder, the median over the rounds: where the CPU goes. The batch
 * stages (a fresh batch buffer, tensor wrapping, BatchBuilder.build, whole DataLoader epochs with
 * 0 and 1 workers) are charged per image; torchvision's side adds default_collate and its
 * DataLoader with 0 and 1 worker processes (bench/pytorch/loader.py).
 *
 * Loader overhead while training a model is bench/loader-overhead.ts's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ArrayDataset, DataLoader, fashionMnist, ImageFolder, normalize, randomCrop, randomHorizontalFlip, randomResizedCrop, toTensor,
} from '../src/data';
import { decodeImage, headerSize, loadSharp } from '../src/data/image-folder';
import { Rng } from '../src/data/rng';
import { BatchBuilder } from '../src/data/batch';
import { decodeJpegInto, decodeJpegPlan, jpegDecoder, jpegPlan, jpegWindow } from '../src/data/jpeg';
import { compose, sharpPlan } from '../src/data/transforms';
import { fromTypedArray, setNumThreads } from '../src';
import { childMain, childParams, machine, machineNote, median, parseArgs, PYTHON, runOurs, runPytorch, spread } from './common';

export interface LoaderBenchRow {
  pipeline: string;
  implementation: string;
  workers: number;
  imagesPerSecond: number;
  /** Median (min–max) over rounds, formatted. */
  range: string;
  /** Median over rounds of ours / torchvision at this worker count (torchvision rows). */
  ratio?: number;
  /** CPU milliseconds (user + sys, all threads and worker processes) per image: median over rounds. */
  cpuMsPerImage?: number;
  /** Median (min–max) of cpuMsPerImage, formatted. */
  cpuRange?: string;
  /** Median over rounds of torchvision's CPU per image / ours (torchvision rows; > 1: ours is cheaper per core). */
  cpuRatio?: number;
}

export interface LoaderBenchResult {
  images: number;
  width: number;
  height: number;
  batchSize: number;
  epochs: number;
  rounds: number;
  rows: LoaderBenchRow[];
  machine: string;
  /** Why the torchvision rows are missing, if they are. */
  torchvisionSkipped?: string;
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Source images: Fashion-MNIST test images when installed, else noise. */
function greyImages(n: number): Uint8Array {
  try {
    const ds = fashionMnist({ train: false });
    return ds.images.slice(0, n * 784);
  } catch {
    const out = new Uint8Array(n * 784);
    let s = 1;
    for (let i = 0; i < out.length; i++) out[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    return out;
  }
}

/** root/c<k>/img_<i>.JPEG: grey images upscaled to width × height RGB, with noise. */
export async function makeJpegFolder(root: string, n: number, width = 400, height = 300, classes = 10): Promise<void> {
  const sharp = loadSharp();
  const grey = greyImages(Math.min(n, 10000));
  const count = grey.length / 784;
  let s = 7;
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `c${i % classes}`);
    fs.mkdirSync(dir, { recursive: true });
    const px = new Uint8Array(width * height * 3);
    const g0 = (i % count) * 784;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const g = grey[g0 + Math.floor((y * 28) / height) * 28 + Math.floor((x * 28) / width)];
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const noise = (s >>> 26) - 32;
        const o = (y * width + x) * 3;
        px[o] = Math.max(0, Math.min(255, g + noise));
        px[o + 1] = Math.max(0, Math.min(255, ((x * 255) / width + g) / 2 + noise));
        px[o + 2] = Math.max(0, Math.min(255, ((y * 255) / height + 255 - g) / 2 + noise));
      }
    }
    await sharp(Buffer.from(px), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(path.join(dir, `img_${i}.JPEG`));
  }
}

interface Measured {
  imagesPerSecond: number;
  cpuMsPerImage: number;
}

async function timeLoader(loader: DataLoader, epochs: number): Promise<Measured> {
  const drain = async () => {
    for await (const b of loader) {
      b.x.dispose();
      b.y.dispose();
    }
  };
  await drain(); // warm-up: workers start, files enter the page cache
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let e = 0; e < epochs; e++) await drain();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  await loader.close();
  const n = epochs * loader.sampler.length;
  return { imagesPerSecond: n / s, cpuMsPerImage: (cpu.user + cpu.system) / 1e3 / n };
}

interface ChildParams {
  root: string;
  batch: number;
  epochs: number;
  workers: number;
  breakdown?: boolean;
  rounds?: number;
  /** ImageFolder's libjpeg option: false measures the sharp path. */
  libjpeg?: boolean;
  /** Batch size of --breakdown's batch stages. */
  batchOf?: number;
}

/** CPU ms per image of each stage of our pipeline, one image at a time, median over rounds. */
async function oursBreakdown(p: ChildParams): Promise<{ cpuMsPerImage: Record<string, number> }> {
  setNumThreads(1);
  const ds = new ImageFolder(p.root);
  const sharpDs = new ImageFolder(p.root, { libjpeg: false });
  const transforms = [randomResizedCrop(224), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)];
  const pipeline = compose(transforms);
  const files = Array.from({ length: ds.length }, (_, i) => fs.readFileSync(ds.path(i)));
  const rng = (i: number) => Rng.forSample(0, 0, 0, i);
  const steps = files.map((f, i) => {
    const [w, h] = headerSize(f) ?? [0, 0];
    return { steps: pipeline.plan(w, h, rng(i)).steps, w, h };
  });
  const plans = steps.map((s) => sharpPlan(s.steps, s.w, s.h));
  const decode = jpegDecoder();
  const jpegPlans = steps.map((s) => jpegPlan(s.steps, s.w, s.h)!);
  const windows = jpegPlans.map((jp) => jpegWindow(jp)!);
  const decoded = await Promise.all(files.map((f, i) => decodeImage(f, plans[i])));
  const out = new Float32Array(3 * 224 * 224);
  const lut = pipeline.lut(3);
  // An addon from before the fused call refuses its 11-number geometry.
  const fused = decode !== undefined && (() => {
    try {
      return decodeJpegInto(decode, files[0], jpegPlans[0], windows[0], ds.maxPixels, lut, out, 0);
    } catch {
      return false;
    }
  })();
  const B = p.batchOf ?? 50;
  const reused = new Float32Array(B * 3 * 224 * 224);
  let batch = reused;
  const builder = new BatchBuilder(ds, pipeline, [3, 224, 224], 0);
  const job = (k: number) => ({ batch: k, epoch: 0, rank: 0, start: k * B, indices: Int32Array.from({ length: Math.min(B, ds.length - k * B) }, (_, b) => k * B + b) });
  // Stages over whole batches of B images are charged per image; `each` runs one per image.
  const each = (fn: (i: number) => unknown) => ({ each: fn });
  const perBatch = (fn: (k: number) => unknown) => ({ perBatch: fn });
  const stages: Record<string, { each?: (i: number) => unknown; perBatch?: (k: number) => unknown }> = {
    'read the file (fs.promises.readFile, as ImageFolder)': each((i) => fs.promises.readFile(ds.path(i))),
    'read the file (fs.readFileSync)': each((i) => fs.readFileSync(ds.path(i))),
    'sharp decode, whole image': each((i) => decodeImage(files[i])),
    'sharp decode + crop + resize (the plan)': each((i) => decodeImage(files[i], plans[i])),
    ...(decode ? { 'libjpeg decode + crop + resize to uint8 (the plan)': each((i) => decodeJpegPlan(decode, files[i], jpegPlans[i], ds.maxPixels)) } : {}),
    'flip + toTensor + normalize (JS, uint8 → the batch)': each((i) => pipeline.execute(decoded[i], plans[i].rest, out, 0)),
    ...(fused ? { 'libjpeg decode + crop + resize + flip + normalize into the batch (one call)': each((i) => decodeJpegInto(decode!, files[i], jpegPlans[i], windows[i], ds.maxPixels, lut, out, 0)) } : {}),
    'all, from the file (decodeInto, sharp)': each((i) => sharpDs.decodeInto(i, pipeline, () => rng(i), out, 0, [3, 224, 224])),
    ...(decode ? { 'all, from the file (decodeInto, libjpeg)': each((i) => ds.decodeInto(i, pipeline, () => rng(i), out, 0, [3, 224, 224])) } : {}),
    [`a new batch buffer (Float32Array of ${B} images) written once`]: perBatch(() => (batch = new Float32Array(B * 3 * 224 * 224)).fill(1)),
    'the same into a reused buffer': perBatch(() => reused.fill(1)),
    'batch tensors: fromTypedArray (no copy) + dispose': perBatch(() => {
      const x = fromTypedArray(batch, [B, 3, 224, 224], { copy: false });
      x.dispose();
    }),
    [`BatchBuilder.build (in-process, ${B} decodeInto at once)`]: perBatch((k) => builder.build(job(k))),
  };
  const runs: Record<string, number[]> = {};
  const batches = Math.ceil(ds.length / B);
  for (let r = 0; r < (p.rounds ?? 3); r++) {
    for (const [name, st] of Object.entries(stages)) {
      const c0 = process.cpuUsage();
      if (st.each) for (let i = 0; i < ds.length; i++) await st.each(i);
      else for (let k = 0; k < batches; k++) await st.perBatch!(k);
      const c = process.cpuUsage(c0);
      (runs[name] ??= []).push((c.user + c.system) / 1e3 / ds.length);
    }
    for (const w of [0, 1]) {
      const name = `DataLoader, batch ${B}, ${w} worker(s): every thread, per image`;
      const loader = new DataLoader(ds, { batchSize: B, shuffle: true, seed: 0, transforms, numWorkers: w, persistentWorkers: true });
      (runs[name] ??= []).push((await timeLoader(loader, 1)).cpuMsPerImage);
    }
  }
  return { cpuMsPerImage: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) };
}

/** Markdown of both breakdowns over a folder of `images` generated JPEGs. */
export async function breakdown(opts: { images?: number; width?: number; height?: number; rounds?: number } = {}): Promise<string> {
  const { images = 200, width = 500, height = 375, rounds = 3 } = opts;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-loader-'));
  const before = machine();
  try {
    await makeJpegFolder(root, images, width, height);
    const p: ChildParams = { root, batch: 1, epochs: 0, workers: 0, breakdown: true, rounds };
    const ours = runOurs<{ cpuMsPerImage: Record<string, number> }>(__filename, p).cpuMsPerImage;
    const pil = fs.existsSync(PYTHON) ? runPytorch<{ cpuMsPerImage: Record<string, number> }>('loader.py', { ...p, mean: MEAN, std: STD }).cpuMsPerImage : {};
    const rows = (impl: string, r: Record<string, number>) => Object.entries(r).map(([k, v]) => `| ${impl} | ${k} | ${v.toFixed(2)} |`);
    return [
      `Where the CPU goes per image (${images} JPEGs ${width}×${height} → RandomResizedCrop(224) + flip + normalize; one image at a time; CPU ms (user + sys) per image, median over ${rounds} round(s))`,
      '',
      '| implementation | stage | CPU ms/image |',
      '| --- | --- | ---: |',
      ...rows('signin-torch', ours),
      ...rows('torchvision (PIL)', pil),
      '',
      machineNote(before),
    ].join('\n');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** One measurement of our pipeline (libjpeg or sharp), in this (child) process. */
async function oursChild(p: ChildParams): Promise<Measured> {
  setNumThreads(1);
  const ds = new ImageFolder(p.root, { libjpeg: p.libjpeg ?? true });
  const transforms = [randomResizedCrop(224), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)];
  const loader = new DataLoader(ds, { batchSize: p.batch, shuffle: true, seed: 0, transforms, numWorkers: p.workers, persistentWorkers: true });
  return timeLoader(loader, p.epochs);
}

function torchvision(p: ChildParams): Measured | string {
  if (!fs.existsSync(PYTHON)) return `no ${PYTHON}`;
  try {
    return runPytorch<Measured>('loader.py', { ...p, mean: MEAN, std: STD });
  } catch (e) {
    return `python failed: ${(e as Error).message.split('\n').pop()}`;
  }
}

export interface RunOptions {
  images?: number;
  width?: number;
  height?: number;
  batchSize?: number;
  epochs?: number;
  workers?: number[];
  rounds?: number;
}

export async function run(opts: RunOptions = {}): Promise<LoaderBenchResult & { markdown: string }> {
  const images = opts.images ?? 300;
  const width = opts.width ?? 500;
  const height = opts.height ?? 375;
  const batchSize = opts.batchSize ?? 50;
  const epochs = opts.epochs ?? 2;
  const workers = opts.workers ?? [0, 1, 2];
  const rounds = opts.rounds ?? 3;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-loader-'));
  const rows: LoaderBenchRow[] = [];
  let torchvisionSkipped: string | undefined;
  const before = machine();
  try {
    await makeJpegFolder(root, images, width, height);
    const pipeline = `JPEG ${width}×${height} → RandomResizedCrop(224) + flip + normalize`;
    const libjpeg = jpegDecoder() !== undefined;
    for (const w of workers) {
      const p: ChildParams = { root, batch: batchSize, epochs, workers: w };
      const ours: Measured[] = [];
      const sharp: Measured[] = [];
      const tv: Measured[] = [];
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? ['ours', 'sharp', 'tv'] : ['tv', 'sharp', 'ours'];
        for (const which of order) {
          if (which === 'ours') ours.push(runOurs<Measured>(__filename, { ...p, libjpeg }));
          else if (which === 'sharp') {
            if (libjpeg) sharp.push(runOurs<Measured>(__filename, { ...p, libjpeg: false }));
          } else if (torchvisionSkipped === undefined) {
            const t = torchvision(p);
            if (typeof t === 'string') torchvisionSkipped = t;
            else tv.push(t);
          }
        }
      }
      rows.push({ pipeline, implementation: `signin-torch (${libjpeg ? 'libjpeg' : 'sharp'})`, workers: w, ...summary(ours) });
      if (sharp.length) rows.push({ pipeline, implementation: 'signin-torch (sharp, before the libjpeg path)', workers: w, ...summary(sharp) });
      if (tv.length) {
        rows.push({
          pipeline, implementation: 'torchvision (PIL)', workers: w, ...summary(tv),
          ratio: median(ours.map((o, i) => o.imagesPerSecond / tv[i].imagesPerSecond)),
          cpuRatio: median(ours.map((o, i) => tv[i].cpuMsPerImage / o.cpuMsPerImage)),
        });
      }
    }

    // In-memory path: 10k CIFAR-style 32×32 RGB images, in this process.
    const n = 10000;
    const grey = greyImages(n);
    const rgb = new Uint8Array(n * 3072);
    for (let i = 0; i < n; i++) {
      for (let px = 0; px < 1024; px++) {
        const y = px >> 5;
        const x = px & 31;
        const g = y >= 2 && y < 30 && x >= 2 && x < 30 ? grey[i * 784 + (y - 2) * 28 + (x - 2)] : 0;
        rgb.fill(g, i * 3072 + px * 3, i * 3072 + px * 3 + 3);
      }
    }
    const cifar = new ArrayDataset({ images: rgb, labels: new Array(n).fill(0), width: 32, height: 32, channels: 3, numClasses: 10 });
    const ct = [randomCrop(32, { padding: 4 }), randomHorizontalFlip(), toTensor(), normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])];
    for (const w of workers) {
      const loader = new DataLoader(cifar, { batchSize: 128, shuffle: true, transforms: ct, numWorkers: w, persistentWorkers: true });
      const m = await timeLoader(loader, epochs);
      rows.push({ pipeline: 'in-memory 32×32 RGB → randomCrop(32, pad 4) + flip + normalize', implementation: 'signin-torch', workers: w, ...summary([m]) });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const result: LoaderBenchResult = { images, width, height, batchSize, epochs, rounds, rows, torchvisionSkipped, machine: machineNote(before) };
  return { ...result, markdown: toMarkdown(result) };
}

function summary(ms: Measured[]): Pick<LoaderBenchRow, 'imagesPerSecond' | 'range' | 'cpuMsPerImage' | 'cpuRange'> {
  const ips = ms.map((m) => m.imagesPerSecond);
  const cpu = ms.map((m) => m.cpuMsPerImage);
  return { imagesPerSecond: median(ips), range: spread(ips, 0), cpuMsPerImage: median(cpu), cpuRange: spread(cpu, 2) };
}

export function toMarkdown(r: LoaderBenchResult): string {
  const times = (x: number | undefined) => (x === undefined ? '' : `${x.toFixed(2)}×`);
  const cores = (x: LoaderBenchRow) => (x.cpuMsPerImage === undefined ? '' : ((x.imagesPerSecond * x.cpuMsPerImage) / 1e3).toFixed(2));
  const lines = [
    `Loader throughput (${os.cpus().length} cores; ${r.images} JPEGs ${r.width}×${r.height}, batch ${r.batchSize}; 1 libtorch thread; median over ${r.rounds} interleaved round(s) of ${r.epochs} epoch(s) after a warm-up epoch, min–max). `
      + 'CPU ms/image: user + sys of every thread and worker process over the timed epochs; cores busy = images/s × CPU per image; '
      + 'per-core ratio = torchvision CPU per image / ours (> 1: ours costs less CPU per image).',
    '',
    '| pipeline | implementation | workers | images/s | ours / torchvision (paired) | CPU ms/image | cores busy | per-core ratio (paired) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map((x) => `| ${x.pipeline} | ${x.implementation} | ${x.workers} | ${x.range} | ${times(x.ratio)} | ${x.cpuRange ?? ''} | ${cores(x)} | ${times(x.cpuRatio)} |`),
  ];
  if (r.torchvisionSkipped) lines.push('', `torchvision rows skipped: ${r.torchvisionSkipped}`);
  lines.push('', r.machine);
  return lines.join('\n');
}

// Only as the spawned script itself: bench/epoch.ts's children import this file (via loader-overhead).
const child = require.main === module ? childParams<ChildParams>() : undefined;
if (child) childMain<Measured | { cpuMsPerImage: Record<string, number> }>(() => (child.breakdown ? oursBreakdown(child) : oursChild(child)));
else if (require.main === module) {
  const a = parseArgs(process.argv.slice(2));
  const quick = a.quick === 'true';
  const report = a.breakdown === 'true'
    ? breakdown({ images: a.images ? Number(a.images) : undefined, rounds: a.rounds ? Number(a.rounds) : undefined })
    : run({
      images: Number(a.images ?? (quick ? 60 : 300)),
      epochs: Number(a.epochs ?? (quick ? 1 : 2)),
      rounds: Number(a.rounds ?? (quick ? 1 : 3)),
      workers: a.workers ? a.workers.split(',').map(Number) : undefined,
    }).then((r) => r.markdown);
  report.then(
    (markdown) => process.stdout.write(`${markdown}\n`),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
