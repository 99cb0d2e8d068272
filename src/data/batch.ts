/**
 * Builds one batch into fresh float32/int64 buffers. The same code runs in-process and in worker
 * threads, and each sample's randomness is a pure function of (seed, epoch, rank, position), so
 * the batches are identical whatever numWorkers is.
 */
import { ArrayDataset } from './array-dataset';
import { DatasetError, type Dataset, type DatasetSpec, type ImageShape, type Sample } from './base';
import { ImageFolder } from './image-folder';
import { datasetFromModule } from './module-dataset';
import { Rng } from './rng';
import type { Pipeline, Transform } from './transforms';

export interface BatchJob {
  /** The batch's number in the epoch (also picks the worker). */
  batch: number;
  epoch: number;
  rank: number;
  /** Position of the first sample in this rank's epoch order. */
  start: number;
  indices: Int32Array;
}

export interface BuiltBatch {
  /** B × C × H × W float32. */
  x: Float32Array;
  /** B labels, int64. */
  y: BigInt64Array;
}

/** A dataset from its worker spec (shares its memory); `main` is the main thread's, which a module's must match. */
export function datasetFromSpec(spec: DatasetSpec, main: Pick<Dataset, 'name' | 'length' | 'numClasses'>): Dataset {
  if (spec.kind === 'array') return ArrayDataset.fromSpec(spec);
  if (spec.kind === 'image_folder') return new ImageFolder(spec);
  if (spec.kind === 'module') return datasetFromModule(spec, main);
  throw new DatasetError(`Unknown dataset spec kind '${(spec as { kind: string }).kind}'`);
}

export class BatchBuilder {
  private readonly sampleSize: number;

  constructor(
    readonly dataset: Dataset,
    readonly pipeline: Pipeline,
    readonly shape: ImageShape,
    readonly seed: number,
  ) {
    this.sampleSize = shape[0] * shape[1] * shape[2];
  }

  /** True when build() finishes synchronously (in-memory data): prefetching gains nothing in-process. */
  get synchronous(): boolean {
    return this.dataset instanceof ArrayDataset;
  }

  private check(got: ImageShape, index: number): void {
    const s = this.shape;
    if (got[0] !== s[0] || got[1] !== s[1] || got[2] !== s[2]) {
      throw new DatasetError(`${this.dataset.name}: sample ${index} gives a ${got.join('×')} image but the batch holds ${s.join('×')}: end the transforms with a fixed-size one (resize([h, w]), centerCrop, randomResizedCrop)`);
    }
  }

  /**
   * A sample of a user's own Dataset: pixels that fill their size (a short array was read as NaN)
   * and a class label (a fraction or NaN threw a RangeError from BigInt; one out of range only
   * failed in the loss).
   */
  private checkSample(s: Sample, index: number): Sample {
    const name = this.dataset.name;
    const img = (s as Partial<Sample> | undefined)?.image;
    const dims = img ? [img.width, img.height, img.channels] : [];
    if (!img || !(img.data instanceof Uint8Array) || !dims.every((d) => Number.isInteger(d) && d > 0)
      || img.data.length !== img.width * img.height * img.channels) {
      const got = img?.data instanceof Uint8Array ? `${img.data.length} bytes for ${dims.join('×')} (width×height×channels)` : 'no Uint8Array image.data';
      throw new DatasetError(`${name}: sample ${index} gives ${got}; get(i) must return { image: { data: Uint8Array of width·height·channels bytes, width, height, channels }, label }`);
    }
    const n = this.dataset.numClasses;
    if (!Number.isInteger(s.label) || s.label < 0 || s.label >= n) {
      throw new DatasetError(`${name}: sample ${index} has label ${String(s.label)}, not an integer in [0, ${n - 1}] (numClasses ${n})`);
    }
    return s;
  }

  /** Sample i of a user's own Dataset; what its get() throws names the index, with or without workers. */
  private async sample(i: number): Promise<Sample> {
    try {
      return await this.dataset.get(i);
    } catch (e) {
      const s = serializeError(e);
      throw new DatasetError(`${this.dataset.name}: get(${i}) threw ${s.name}: ${s.message}`, s.file, { cause: e });
    }
  }

  async build(job: BatchJob): Promise<BuiltBatch> {
    const B = job.indices.length;
    const x = new Float32Array(B * this.sampleSize);
    const y = new BigInt64Array(B);
    const ds = this.dataset;
    const rngFor = (b: number) => Rng.forSample(this.seed, job.epoch, job.rank, job.start + b);
    if (ds instanceof ArrayDataset) {
      for (let b = 0; b < B; b++) {
        const idx = job.indices[b];
        this.check(this.pipeline.applyInto(ds.image(idx), rngFor(b), x, b * this.sampleSize), idx);
        y[b] = BigInt(ds.labels[idx]);
      }
    } else if (ds instanceof ImageFolder) {
      const labels = await Promise.all(
        Array.from(job.indices, (idx, b) => ds.decodeInto(idx, this.pipeline, () => rngFor(b), x, b * this.sampleSize, this.shape)),
      );
      labels.forEach((l, b) => (y[b] = BigInt(l)));
    } else {
      for (let b = 0; b < B; b++) {
        const idx = job.indices[b];
        const s = this.checkSample(await this.sample(idx), idx);
        this.check(this.pipeline.applyInto(s.image, rngFor(b), x, b * this.sampleSize), idx);
        y[b] = BigInt(s.label);
      }
    }
    return { x, y };
  }
}

export interface WorkerInit {
  spec: DatasetSpec;
  transforms: Transform[];
  shape: ImageShape;
  seed: number;
  /** The main thread's dataset, which one rebuilt from a module spec must match. */
  dataset: Pick<Dataset, 'name' | 'length' | 'numClasses'>;
  /** Marks the thread as ours (worker.ts does nothing otherwise). */
  signinTorchDataWorker: true;
}

export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  file?: string;
}

export function serializeError(e: unknown): SerializedError {
  const err = e as { name?: string; code?: unknown; message?: string; file?: unknown };
  return {
    name: err?.name ?? 'Error',
    code: typeof err?.code === 'string' ? err.code : undefined,
    message: err?.message ?? String(e),
    file: typeof err?.file === 'string' ? err.file : undefined,
  };
}
