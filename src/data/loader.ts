/**
 * DataLoader: batches of { x: float32 [B, C, H, W], y: int64 [B] } tensors by async iteration.
 *
 *   const loader = new DataLoader(ds, { batchSize: 128, shuffle: true, seed: 0, transforms, numWorkers: 2 });
 *   for await (const { x, y } of loader) { ...; x.dispose(); y.dispose(); }
 *
 * - Order: a Sampler gives each epoch's indices (shuffle: torch.randperm seeded seed + epoch, as
 *   PyTorch's DistributedSampler after set_epoch). Each `for await` uses `loader.epoch` and then
 *   advances it by one, so successive loops see new orders and a new loader with the same seed
 *   replays the same sequence; setEpoch(e) selects the epoch explicitly (resume, distributed).
 * - Augmentation randomness per sample is a function of (seed, epoch, rank, position), so
 *   numWorkers never changes the batches.
 * - numWorkers > 0 builds batches in worker_threads (decode and transforms overlap training);
 *   each worker allocates the batch's buffers and transfers them, and the main thread wraps them
 *   as tensors without a copy ({ copy: false }). numWorkers 0 builds them in-process (for
 *   ImageFolder, file reads and sharp's decodes run on libuv's thread pool and are prefetched;
 *   the libjpeg path decodes JPEGs in the main thread, blocking it ~1.5 ms per image).
 *   Each worker rebuilds the dataset from its toSpec(): a Dataset class of one's own returns
 *   `moduleSpec(__filename, 'MyDataset', args)` and every worker constructs `new MyDataset(args)`
 *   from that module (src/data/module-dataset.ts); one that cannot rebuild it fails the first
 *   `for await` with ERR_DATASET naming the module and export.
 * - Ownership: the loader disposes nothing. Every batch's tensors belong to the caller, outside any
 *   tidy() scope: the trainer disposes them after the step. Breaking out of the loop (or an error)
 *   stops the workers: nothing keeps the process alive afterwards.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, InvalidArgumentError, ToolkitError, type ErrorCode } from '../errors';
import { childLogger } from '../logger';
import type { Tensor } from '../tensor/tensor';
import type { Generator } from '../tensor/runtime';
import { bool, int, keysOf, maxThreads, maxThreadsReason, options as optionsOf } from '../validate';
import { DatasetError, isDataset, type Dataset, type DatasetSpec, type ImageShape } from './base';
import { BatchBuilder, serializeError, type BatchJob, type BuiltBatch, type SerializedError, type WorkerInit } from './batch';
import { ImageFolder, loadSharp } from './image-folder';
import { checkModuleSpec } from './module-dataset';
import { toRng } from './rng';
import { DistributedSampler, RandomSampler, SequentialSampler, type Sampler } from './sampler';
import { compose, Pipeline, type Transform } from './transforms';

export interface DataLoaderOptions {
  /** Samples per batch (default 1, like PyTorch). */
  batchSize?: number;
  /** Visit the samples in a seeded random order (ignored when sampler is given). */
  shuffle?: boolean;
  /** Base seed for shuffling and augmentation (default 0). */
  seed?: number;
  /** Alternative to seed: a seed is drawn from this torch Generator when the loader is made. */
  generator?: Generator;
  /** Drop the last incomplete batch. */
  dropLast?: boolean;
  /** Transforms (plain data, so they can reach workers); toTensor is implied. Default: toTensor only. */
  transforms?: readonly Transform[] | Pipeline;
  /** A custom order, e.g. a DistributedSampler. */
  sampler?: Sampler;
  /** Worker threads building batches (default 0: in-process). */
  numWorkers?: number;
  /** Batches in flight per worker (default 2, PyTorch's prefetch_factor). */
  prefetch?: number;
  /** Keep the workers between epochs (they never keep the process alive while idle); close() ends them. */
  persistentWorkers?: boolean;
}

const LOADER_OPTIONS = keysOf<DataLoaderOptions>({
  batchSize: true, shuffle: true, seed: true, generator: true, dropLast: true, transforms: true, sampler: true, numWorkers: true,
  prefetch: true, persistentWorkers: true,
});

export interface Batch {
  /** float32 [B, C, H, W], owned by the caller. */
  x: Tensor;
  /** int64 [B], owned by the caller. */
  y: Tensor;
  /** The dataset indices in this batch (before any lenient replacement of unreadable files). */
  indices: Int32Array;
}

interface Pending {
  resolve: (b: BuiltBatch) => void;
  reject: (e: Error) => void;
}

/**
 * An error a worker thread sent, as the ToolkitError of its code (its class, its message); one
 * without a code (a bug, memory running out) becomes ERR_DATA_WORKER naming its original class.
 */
export function rebuildError(e: SerializedError): ToolkitError {
  if (e.code === 'ERR_DATASET') return new DatasetError(e.message, e.file);
  if (e.code && Object.hasOwn(ERROR_CODES, e.code)) return ToolkitError.fromCode(e.code as ErrorCode, e.message);
  return new ToolkitError('ERR_DATA_WORKER', `A DataLoader worker threw ${e.name}: ${e.message}`);
}

/** The worker entry: compiled worker.js next to this file, or worker.ts through tsx (source runs). */
/**
 * A Dataset class of one's own may decode with sharp in its workers, which on glibc needs sharp
 * loaded by the main thread first; one that does not use sharp loses nothing if it is missing.
 */
function preloadSharp(): void {
  try {
    loadSharp();
  } catch {
    // Such a dataset cannot use sharp either: its workers say so when they require it.
  }
}

function spawnWorker(init: WorkerInit): Worker {
  if (__filename.endsWith('.ts')) {
    const tsx = require.resolve('tsx/cjs/api');
    const entry = path.join(__dirname, 'worker.ts');
    const code = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`;
    return new Worker(code, { eval: true, workerData: init });
  }
  return new Worker(path.join(__dirname, 'worker.js'), { workerData: init });
}

class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor(private readonly onWarning: (file: string, message: string) => void) {}

  static async start(n: number, init: WorkerInit, onWarning: (file: string, message: string) => void): Promise<WorkerPool> {
    const pool = new WorkerPool(onWarning);
    const ready: Promise<void>[] = [];
    for (let w = 0; w < n; w++) {
      const worker = spawnWorker(init);
      pool.workers.push(worker);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (msg: { type: string; id: number; x?: Float32Array; y?: BigInt64Array; error?: SerializedError; file?: string; message?: string }) => {
            if (msg.type === 'ready') resolve();
            else if (msg.type === 'warning') pool.onWarning(msg.file!, msg.message!);
            else if (msg.type === 'error' && msg.id === -1) reject(rebuildError(msg.error!));
            else pool.settle(msg.id, msg.type === 'batch' ? { x: msg.x!, y: msg.y! } : rebuildError(msg.error!));
          });
          worker.on('error', (thrown) => {
            const e = rebuildError(serializeError(thrown));
            reject(e);
            pool.fail(w, e);
          });
          worker.on('exit', (code) => {
            const e = new ToolkitError('ERR_DATA_WORKER', `DataLoader worker ${w} exited (code ${code})`);
            reject(e);
            if (!pool.closed) pool.fail(w, e);
          });
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private settle(id: number, result: BuiltBatch | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
    if (this.pending.size === 0) this.unref();
  }

  private fail(worker: number, e: Error): void {
    this.failure ??= e;
    for (const [id, p] of this.pending) {
      if (p.worker === worker) {
        this.pending.delete(id);
        p.reject(e);
      }
    }
  }

  submit(job: BatchJob): Promise<BuiltBatch> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ToolkitError('ERR_DATA_WORKER', 'DataLoader workers are closed'));
    const w = job.batch % this.workers.length;
    const id = this.nextId++;
    this.ref();
    return new Promise<BuiltBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      this.workers[w].postMessage({ type: 'batch', id, job });
    });
  }

  get size(): number {
    return this.workers.length;
  }

  get usable(): boolean {
    return !this.closed && !this.failure;
  }

  /** Idle workers must not keep the process alive; busy ones must (a batch is awaited). */
  ref(): void {
    for (const w of this.workers) w.ref();
  }

  unref(): void {
    for (const w of this.workers) w.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ToolkitError('ERR_DATA_WORKER', 'DataLoader closed while a batch was being built');
    for (const [, p] of this.pending) p.reject(err);
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly sampler: Sampler;
  readonly numWorkers: number;
  readonly prefetch: number;
  readonly persistentWorkers: boolean;
  readonly seed: number;
  readonly pipeline: Pipeline;
  /** [C, H, W] of every sample. */
  readonly sampleShape: ImageShape;
  /** The epoch the next iteration uses. */
  epoch = 0;
  /** The batch the next iteration starts at (startAt; 0 after it). */
  private start = 0;
  private pool: WorkerPool | undefined;
  private readonly builder: BatchBuilder;
  private readonly warned = new Set<string>();
  private readonly log = childLogger({ module: 'data' });

  constructor(dataset: Dataset, opts: DataLoaderOptions = {}) {
    if (!isDataset(dataset)) {
      throw new InvalidArgumentError('dataset', 'Dataset (createDataset, ImageFolder, ArrayDataset, ...)', dataset);
    }
    const o = optionsOf<DataLoaderOptions>('options', opts, LOADER_OPTIONS);
    this.dataset = dataset;
    this.batchSize = int('batchSize', o.batchSize ?? 1, 1);
    this.dropLast = bool('dropLast', o.dropLast ?? false);
    // Each worker is a thread with its own V8 heap: far more than the CPUs only costs memory
    // (a million of them exhausts the heap before the first batch).
    this.numWorkers = int('numWorkers', o.numWorkers ?? 0, 0);
    if (this.numWorkers > maxThreads()) {
      throw new InvalidArgumentError('numWorkers', `integer in [0, ${maxThreads()}] (${maxThreadsReason()})`, this.numWorkers);
    }
    this.prefetch = int('prefetch', o.prefetch ?? 2, 1);
    this.persistentWorkers = bool('persistentWorkers', o.persistentWorkers ?? false);
    if (o.seed !== undefined && o.generator !== undefined) throw new InvalidArgumentError('seed', 'undefined when generator is given', o.seed);
    if (o.generator !== undefined) {
      const r = toRng(o.generator);
      this.seed = r.nextU32() * 2 ** 21 + (r.nextU32() >>> 11);
    } else this.seed = int('seed', o.seed ?? 0, 0, Number.MAX_SAFE_INTEGER);
    const shuffle = bool('shuffle', o.shuffle ?? false);
    if (o.sampler !== undefined) {
      const s = o.sampler as Sampler;
      if (!s || typeof s.indices !== 'function' || typeof s.setEpoch !== 'function') throw new InvalidArgumentError('sampler', 'Sampler', o.sampler);
      this.sampler = s;
    } else {
      this.sampler = shuffle ? new RandomSampler(dataset.length, { seed: this.seed }) : new SequentialSampler(dataset.length);
    }
    this.pipeline = compose(o.transforms ?? []);
    const shape = this.pipeline.outputShape(dataset.shape, dataset.shape?.[0] ?? 3);
    if (!shape) {
      throw new InvalidArgumentError('transforms', `a pipeline ending in a fixed size (resize([h, w]), centerCrop, randomCrop or randomResizedCrop): ${dataset.name}'s images vary in size`, o.transforms);
    }
    this.sampleShape = shape;
    this.builder = new BatchBuilder(dataset, this.pipeline, shape, this.seed);
    if (this.numWorkers > 0) {
      let spec: DatasetSpec;
      try {
        spec = dataset.toSpec();
      } catch (e) {
        throw new InvalidArgumentError('numWorkers', `0 for a dataset that cannot be sent to worker threads (${(e as Error).message})`, this.numWorkers);
      }
      if (spec?.kind === 'module') checkModuleSpec(spec);
    }
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Selects the epoch of the next iteration (order and augmentations), like set_epoch. */
  setEpoch(epoch: number): void {
    this.epoch = int('epoch', epoch, 0);
  }

  /**
   * The next iteration starts at batch `batch` of its epoch (a run resumed in an epoch's middle):
   * the batches before it are neither read nor built, and the ones after are those of the whole
   * epoch, since order and augmentations depend on (seed, epoch, rank, position) only. Once.
   */
  startAt(batch: number): void {
    this.start = int('batch', batch, 0, this.length);
  }

  /** Stops persistent workers (a no-op otherwise). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private warn(file: string, message: string): void {
    if (this.warned.has(file)) return;
    this.warned.add(file);
    this.log.warn({ file, dataset: this.dataset.name }, message);
  }

  /** Unreadable files reported so far (lenient ImageFolder). */
  get badFiles(): string[] {
    return [...this.warned];
  }

  private async workers(): Promise<WorkerPool> {
    if (this.pool?.usable) return this.pool;
    const spec = this.dataset.toSpec();
    if (this.dataset instanceof ImageFolder) loadSharp(); // glibc: sharp must be loaded by the main thread before any worker
    else if (spec.kind === 'module') preloadSharp();
    const { name, length, numClasses } = this.dataset;
    const init: WorkerInit = {
      spec,
      transforms: [...this.pipeline.transforms],
      shape: this.sampleShape,
      seed: this.seed,
      dataset: { name, length, numClasses },
      signinTorchDataWorker: true,
    };
    this.pool = await WorkerPool.start(this.numWorkers, init, (f, m) => this.warn(f, m));
    return this.pool;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const epoch = this.epoch++;
    const start = this.start;
    this.start = 0;
    return this.iterate(epoch, start);
  }

  private async *iterate(epoch: number, start: number): AsyncGenerator<Batch> {
    this.sampler.setEpoch(epoch);
    const order = this.sampler.indices();
    const rank = this.sampler instanceof DistributedSampler ? this.sampler.rank : 0;
    const bs = this.batchSize;
    const count = this.dropLast ? Math.floor(order.length / bs) : Math.ceil(order.length / bs);
    const [C, H, W] = this.sampleShape;
    const job = (k: number): BatchJob => ({ batch: k, epoch, rank, start: k * bs, indices: order.slice(k * bs, Math.min((k + 1) * bs, order.length)) });
    const inflight: Promise<BuiltBatch>[] = [];
    let pool: WorkerPool | undefined;
    let submit: (j: BatchJob) => Promise<BuiltBatch>;
    let depth: number;
    if (this.dataset instanceof ImageFolder && !this.dataset.onWarning) this.dataset.onWarning = (f, m) => this.warn(f, m);
    if (this.numWorkers > 0 && count > start) {
      pool = await this.workers();
      const p = pool;
      submit = (j) => p.submit(j);
      depth = this.numWorkers * this.prefetch;
    } else {
      submit = (j) => this.builder.build(j);
      depth = this.builder.synchronous ? 1 : this.prefetch;
    }
    const { fromTypedArray } = require('../tensor/creation') as typeof import('../tensor/creation');
    let next = start;
    try {
      for (let k = start; k < count; k++) {
        while (next < count && inflight.length < depth) {
          const pending = submit(job(next++));
          // A prefetched batch can fail before the loop awaits it: unobserved until then, its
          // rejection would end the process (unhandledRejection) instead of reaching the caller.
          pending.catch(() => undefined);
          inflight.push(pending);
        }
        const built = await inflight.shift()!;
        const B = built.y.length;
        const x = fromTypedArray(built.x, [B, C, H, W], { copy: false });
        const y = fromTypedArray(built.y, [B], { copy: false });
        yield { x, y, indices: order.slice(k * bs, k * bs + B) };
      }
    } finally {
      if (pool && (!this.persistentWorkers || !pool.usable)) {
        if (this.pool === pool) this.pool = undefined;
        await pool.close();
      } else pool?.unref();
    }
  }
}
