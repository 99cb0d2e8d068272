/**
 * Loader throughput: ImageFolder JPEG decode + RandomResizedCrop(224) + horizontal flip +
 * normalize, images/s, with 0, 1 and 2 worker threads, against torchvision's pipeline (PIL,
 * DataLoader num_workers 0/1/2) run by /usr/bin/python3 over the SAME folder of JPEGs
 * (default 500 images of 400×300, upscaled Fashion-MNIST + noise, quality 90). Also the in-memory
 * CIFAR-style path (randomCrop(32, padding 4) + flip + normalize).
 *
 *   npx tsx bench/loader.ts            # prints a markdown table
 *   BENCH_IMAGES=200 npx tsx bench/loader.ts
 *
 * Loader overhead while training a model is left to the trainer benchmarks.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ArrayDataset, DataLoader, fashionMnist, ImageFolder, normalize, randomCrop, randomHorizontalFlip, randomResizedCrop, toTensor,
} from '../src/data';
import { loadSharp } from '../src/data/image-folder';

export interface LoaderBenchRow {
  pipeline: string;
  implementation: string;
  workers: number;
  imagesPerSecond: number;
}

export interface LoaderBenchResult {
  images: number;
  width: number;
  height: number;
  batchSize: number;
  rows: LoaderBenchRow[];
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

async function timeLoader(loader: DataLoader, epochs: number): Promise<number> {
  const drain = async () => {
    for await (const b of loader) {
      b.x.dispose();
      b.y.dispose();
    }
  };
  await drain(); // warm-up: workers start, files enter the page cache
  const t0 = process.hrtime.bigint();
  for (let e = 0; e < epochs; e++) await drain();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await loader.close();
  return (epochs * loader.sampler.length) / s;
}

const TORCHVISION = String.raw`
import sys, json, time, torch
import torchvision.transforms as T
from torchvision.datasets import ImageFolder
from torch.utils.data import DataLoader
cfg = json.loads(sys.argv[1])
tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(cfg['mean'], cfg['std'])])
ds = ImageFolder(cfg['root'], transform=tf)
out = []
for w in cfg['workers']:
    dl = DataLoader(ds, batch_size=cfg['batch'], shuffle=True, num_workers=w, persistent_workers=w > 0)
    for _ in dl: pass
    t0 = time.perf_counter()
    for _ in range(cfg['epochs']):
        for _ in dl: pass
    out.append(cfg['epochs'] * len(ds) / (time.perf_counter() - t0))
    del dl
print(json.dumps(out))
`;

function torchvision(root: string, batch: number, epochs: number, workers: number[]): number[] | string {
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py)) return 'no /usr/bin/python3';
  const r = spawnSync(py, ['-c', TORCHVISION, JSON.stringify({ root, batch, epochs, workers, mean: MEAN, std: STD })], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) return `python failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout) as number[];
}

export async function run(opts: { images?: number; batchSize?: number; epochs?: number; workers?: number[] } = {}): Promise<LoaderBenchResult & { markdown: string }> {
  const images = opts.images ?? Number(process.env.BENCH_IMAGES ?? 500);
  const batchSize = opts.batchSize ?? 50;
  const epochs = opts.epochs ?? 2;
  const workers = opts.workers ?? [0, 1, 2];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-loader-'));
  const rows: LoaderBenchRow[] = [];
  let torchvisionSkipped: string | undefined;
  try {
    await makeJpegFolder(root, images);
    const ds = new ImageFolder(root);
    const transforms = [randomResizedCrop(224), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)];
    const pipeline = 'JPEG 400×300 → RandomResizedCrop(224) + flip + normalize';
    for (const w of workers) {
      const loader = new DataLoader(ds, { batchSize, shuffle: true, seed: 0, transforms, numWorkers: w, persistentWorkers: true });
      rows.push({ pipeline, implementation: 'signin-torch (sharp)', workers: w, imagesPerSecond: await timeLoader(loader, epochs) });
    }
    const tv = torchvision(root, batchSize, epochs, workers);
    if (typeof tv === 'string') torchvisionSkipped = tv;
    else tv.forEach((ips, k) => rows.push({ pipeline, implementation: 'torchvision (PIL)', workers: workers[k], imagesPerSecond: ips }));

    // In-memory path: 10k CIFAR-style 32×32 RGB images.
    const n = 10000;
    const grey = greyImages(n);
    const rgb = new Uint8Array(n * 3072);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 1024; p++) {
        const y = p >> 5;
        const x = p & 31;
        const g = y >= 2 && y < 30 && x >= 2 && x < 30 ? grey[i * 784 + (y - 2) * 28 + (x - 2)] : 0;
        rgb.fill(g, i * 3072 + p * 3, i * 3072 + p * 3 + 3);
      }
    }
    const cifar = new ArrayDataset({ images: rgb, labels: new Array(n).fill(0), width: 32, height: 32, channels: 3, numClasses: 10 });
    const ct = [randomCrop(32, { padding: 4 }), randomHorizontalFlip(), toTensor(), normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])];
    for (const w of workers) {
      const loader = new DataLoader(cifar, { batchSize: 128, shuffle: true, transforms: ct, numWorkers: w, persistentWorkers: true });
      rows.push({ pipeline: 'in-memory 32×32 RGB → randomCrop(32, pad 4) + flip + normalize', implementation: 'signin-torch', workers: w, imagesPerSecond: await timeLoader(loader, epochs) });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const result: LoaderBenchResult = { images, width: 400, height: 300, batchSize, rows, torchvisionSkipped };
  return { ...result, markdown: toMarkdown(result) };
}

export function toMarkdown(r: LoaderBenchResult): string {
  const lines = [
    `Loader throughput (${os.cpus().length} cores; ${r.images} JPEGs ${r.width}×${r.height}, batch ${r.batchSize}; mean of 2 epochs after a warm-up epoch)`,
    '',
    '| pipeline | implementation | workers | images/s |',
    '| --- | --- | ---: | ---: |',
    ...r.rows.map((x) => `| ${x.pipeline} | ${x.implementation} | ${x.workers} | ${x.imagesPerSecond.toFixed(0)} |`),
  ];
  if (r.torchvisionSkipped) lines.push('', `torchvision rows skipped: ${r.torchvisionSkipped}`);
  return lines.join('\n');
}

if (require.main === module) {
  run().then(
    (r) => process.stdout.write(`${toMarkdown(r)}\n`),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
