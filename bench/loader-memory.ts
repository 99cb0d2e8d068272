/**
 * Resident memory of an ImageNet-style input pipeline over a run, ours vs torchvision: an
 * ImageFolder of JPEGs (bench/loader.ts's generator, 500×375) → RandomResizedCrop(224) + flip +
 * normalize → a DataLoader with 0 and 2 workers at batch 64 and 256, iterating `batches` batches
 * with a trivial consumer (x.mean().item(), then the batch is disposed) standing in for a step.
 * PyTorch's side is bench/pytorch/loader_memory.py (torchvision ImageFolder + torch DataLoader).
 * Each measurement runs in a fresh process; rounds alternate which implementation goes first.
 *
 * The folder holds `unique` generated JPEGs hard-linked under enough names for one epoch of
 * `batches` batches (the page cache holds each file once; both loaders read them as files).
 *
 * Resident = Pss_Anon + Pss_File (proportional set size, /proc/<pid>/smaps_rollup) summed over
 * the process tree, so pages a forked torch worker shares with its parent count once, plus the
 * growth of the machine's Shmem (/proc/meminfo) since the start: torch's workers send batches in
 * shared memory that nobody maps while they wait in the queue. Ours is one process (its workers
 * are threads), so its figure covers the workers too. Sampled after each batch's consumer, with
 * x still held and again after it was released; start is before the first batch is asked for
 * (no worker started yet). Peak is over both samples, end and growth over the second; growth is
 * the highest of the last 10 batches over the highest of batches 5-14. Ours also gives V8's external bytes (arrayBuffers included; buffers transferred
 * from a worker count only there), the CPU allocator's bytes and the number of full (mark-compact) GCs.
 *
 *   npx tsx bench/loader-memory.ts [--rounds 3] [--batches 40] [--unique 256]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { DataLoader, ImageFolder, normalize, randomHorizontalFlip, randomResizedCrop, toTensor } from '../src/data';
import { cpuMemoryStats, setNumThreads } from '../src';
import { benchMain, machine, machineNote, procCounters, PYTHON, runOurs, runPytorch, spread } from './common';
import { makeJpegFolder } from './loader';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const MIB = 2 ** 20;

interface Params {
  root: string;
  batch: number;
  workers: number;
  batches: number;
}

/** One sample after a batch's consumer: MiB, and page faults so far (process tree). */
interface Sample {
  pss: number;
  /** The machine's Shmem (/proc/meminfo): torch's worker processes send batches in shared memory. */
  shmem: number;
  rss: number;
  minflt: number;
  majflt: number;
  arrayBuffers?: number;
  external?: number;
  allocator?: number;
}

export interface MemoryRun {
  start: Sample;
  /** After each batch's consumer, x still held, and after it was released. */
  held: Sample[];
  samples: Sample[];
  /** VmHWM of the main process, MiB. */
  hwm: number;
  fullGcs?: number;
}

/** Pss_Anon + Pss_File of /proc/self/smaps_rollup, MiB: shared memory is counted apart (shmem). */
function pss(): number {
  const rollup = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
  return (kb('Pss_Anon') + kb('Pss_File')) / 1024;
}

function sample(): Sample {
  const c = procCounters();
  const m = process.memoryUsage();
  const a = cpuMemoryStats();
  return {
    pss: pss(),
    shmem: Number(/^Shmem:\s+(\d+)/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? NaN) / 1024,
    rss: c.rssMb,
    minflt: c.minflt,
    majflt: c.majflt,
    arrayBuffers: m.arrayBuffers / MIB,
    external: m.external / MIB,
    allocator: (a.inUseBytes + a.cachedBytes) / MIB,
  };
}

async function oursChild(p: Params): Promise<MemoryRun> {
  setNumThreads(1);
  let fullGcs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++;
  });
  gcs.observe({ entryTypes: ['gc'] });
  const ds = new ImageFolder(p.root);
  const transforms = [randomResizedCrop(224), randomHorizontalFlip(), toTensor(), normalize(MEAN, STD)];
  const loader = new DataLoader(ds, { batchSize: p.batch, shuffle: true, seed: 0, transforms, numWorkers: p.workers, dropLast: true });
  const start = sample();
  const held: Sample[] = [];
  const samples: Sample[] = [];
  for await (const b of loader) {
    b.x.mean().item();
    held.push(sample());
    b.x.dispose();
    b.y.dispose();
    samples.push(sample());
    if (samples.length === p.batches) break;
  }
  const hwm = procCounters().hwmMb;
  // GC entries are delivered asynchronously: one more turn so the last ones are counted.
  await new Promise((resolve) => setImmediate(resolve));
  gcs.disconnect();
  return { start, held, samples, hwm, fullGcs };
}

interface Row {
  impl: string;
  workers: number;
  batch: number;
  runs: MemoryRun[];
}

/** MiB resident for the run: the tree's PSS plus the shared memory made since the start. */
const resident = (r: MemoryRun, x: Sample) => x.pss + x.shmem - r.start.shmem;
/** The highest of the last 10 released samples over the highest of batches 5-14: dead buffers wait for a collection, so single samples saw-tooth. */
const growth = (r: MemoryRun) => {
  const top = (xs: Sample[]) => Math.max(...xs.map((x) => resident(r, x)));
  return top(r.samples.slice(-10)) - top(r.samples.slice(4, 14));
};
const peak = (r: MemoryRun) => Math.max(...[...r.held, ...r.samples].map((x) => resident(r, x)));

function rowMarkdown(row: Row, batchMiB: number): string {
  const rs = row.runs;
  const col = (f: (r: MemoryRun) => number, digits = 0) => spread(rs.map(f), digits);
  const last = (r: MemoryRun) => r.samples[r.samples.length - 1];
  const faults = (r: MemoryRun) => (last(r).minflt - r.start.minflt) / r.samples.length / 1000;
  const ab = rs[0].start.arrayBuffers === undefined ? '' : `${col((r) => Math.max(...r.held.map((x) => x.external!)))} / ${col((r) => last(r).external!)}`;
  const gcs = rs[0].fullGcs === undefined ? '' : col((r) => r.fullGcs!);
  return `| ${row.impl} | ${row.workers} | ${row.batch} (${batchMiB.toFixed(0)}) | ${col((r) => resident(r, r.start))} | ${col(peak)} | ${col((r) => resident(r, last(r)))} | `
    + `${col(growth)} | ${col((r) => (peak(r) - resident(r, r.start)) / batchMiB, 1)} | ${col((r) => r.hwm)} | ${col(faults, 1)} | ${ab} | ${gcs} |`;
}

export async function run(opts: { rounds?: number; batches?: number; unique?: number; batchSizes?: number[]; workers?: number[] } = {}): Promise<{ markdown: string; rows: Row[] }> {
  const rounds = opts.rounds ?? 3;
  const batches = opts.batches ?? 40;
  const unique = opts.unique ?? 256;
  const batchSizes = opts.batchSizes ?? [64, 256];
  const workers = opts.workers ?? [0, 2];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-loader-memory-'));
  const rows: Row[] = [];
  try {
    await makeJpegFolder(root, unique, 500, 375);
    const files = fs.readdirSync(root).flatMap((c) => fs.readdirSync(path.join(root, c)).map((f) => path.join(root, c, f)));
    const need = Math.max(...batchSizes) * batches;
    for (let i = files.length; i < need; i++) {
      const src = files[i % files.length];
      fs.linkSync(src, path.join(path.dirname(src), `link_${i}.JPEG`));
    }
    const torch = fs.existsSync(PYTHON);
    const before = machine();
    for (const w of workers) {
      for (const b of batchSizes) {
        const p: Params = { root, batch: b, workers: w, batches };
        const ours: Row = { impl: 'signin-torch', workers: w, batch: b, runs: [] };
        const tv: Row = { impl: 'torchvision', workers: w, batch: b, runs: [] };
        for (let r = 0; r < rounds; r++) {
          const go = [() => ours.runs.push(runOurs<MemoryRun>(__filename, p)), ...(torch ? [() => tv.runs.push(runPytorch<MemoryRun>('loader_memory.py', { ...p, mean: MEAN, std: STD }))] : [])];
          for (const f of r % 2 ? go.reverse() : go) f();
        }
        rows.push(ours, ...(tv.runs.length ? [tv] : []));
      }
    }
    const after = machine();
    const markdown = [
      `${batches} batches of JPEG 500×375 → RandomResizedCrop(224) + flip + normalize, a consumer of x.mean().item() per batch; each in a fresh process, `
        + `${rounds} round(s) alternating which implementation runs first; median (min–max). MiB resident: Pss_Anon + Pss_File summed over the process tree (ours: one process, `
        + 'its workers are threads; torchvision: the main process and its worker processes, pages shared by fork counted once) plus the growth of the machine\'s Shmem (torch\'s workers send batches in shared memory), '
        + 'sampled after each batch\'s consumer, x held and again released. '
        + 'Start: before the first batch is asked for. Peak / batch: (peak − start) over one batch\'s x (float32 B×3×224×224). '
        + 'Growth: the highest of the last 10 batches over the highest of batches 5–14 (a dead buffer waits for a collection, so single samples saw-tooth). '
        + 'VmHWM: the main process\'s own peak RSS (torchvision\'s workers not included). Faults: minor page faults of the process tree per batch. '
        + 'V8 external: process.memoryUsage().external (it includes arrayBuffers, and transferred buffers count only there), the peak over the samples / at the end. Full GCs: V8 mark-compact collections during the run.',
      '',
      '| implementation | workers | batch (x MiB) | start | peak | end | growth: last 10 over batches 5–14 | peak / batch | VmHWM | faults/batch (k) | V8 external, peak / end | full GCs |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => rowMarkdown(r, (r.batch * 3 * 224 * 224 * 4) / MIB)),
      '',
      `The CPU allocator behind tensors (cpuMemoryStats, in use + cached) held at most ${Math.max(...rows.filter((r) => r.impl === 'signin-torch').flatMap((r) => r.runs.flatMap((x) => x.held.map((y) => y.allocator!)))).toFixed(1)} MiB in any of ours' samples: `
        + 'batch tensors wrap the loader\'s JS buffers, so the figures above are those buffers, V8\'s and the decoders\' memory.',
      ...(torch ? [] : ['', `torchvision rows skipped: no ${PYTHON}`]),
      '',
      machineNote(before, after),
    ].join('\n');
    return { markdown, rows };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

benchMain<Params>(module, oursChild, ({ num }) => run({ rounds: num('rounds'), batches: num('batches'), unique: num('unique') }));
