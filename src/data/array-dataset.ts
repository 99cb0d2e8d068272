/**
 * ArrayDataset: images held in memory as one contiguous uint8 HWC buffer (IDX and CIFAR load into
 * it; users can wrap their own pixels). The buffer lives in a SharedArrayBuffer, so DataLoader
 * worker threads read the same memory: no copy, no re-parse per worker.
 */
import { InvalidArgumentError } from '../errors';
import { MAX_LIST_LENGTH, int, list, obj, str } from '../validate';
import { checkIndex, type ArrayDatasetSpec, type Dataset, type ImageShape, type Sample } from './base';

export interface ArrayDatasetOptions {
  /** Pixels, n × height × width × channels, uint8 HWC per image. */
  images: Uint8Array;
  /** One label per image, integers in [0, numClasses). */
  labels: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
  numClasses: number;
  classes?: readonly string[];
  name?: string;
}

/** A Uint8Array over shared memory holding `src` (returned as is when already shared). */
export function sharedBytes(src: Uint8Array | number): Uint8Array {
  if (typeof src === 'number') return new Uint8Array(new SharedArrayBuffer(src));
  if (src.buffer instanceof SharedArrayBuffer) return src;
  const out = new Uint8Array(new SharedArrayBuffer(src.byteLength));
  out.set(src);
  return out;
}

function sharedInt32(src: ArrayLike<number>): Int32Array {
  if (src instanceof Int32Array && src.buffer instanceof SharedArrayBuffer) return src;
  const out = new Int32Array(new SharedArrayBuffer(src.length * 4));
  for (let i = 0; i < src.length; i++) out[i] = src[i];
  return out;
}

export class ArrayDataset implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  /** All pixels (shared memory); image i is bytes [i*stride, (i+1)*stride). */
  readonly images: Uint8Array;
  /** All labels (shared memory). */
  readonly labels: Int32Array;
  private readonly stride: number;

  constructor(opts: ArrayDatasetOptions) {
    const { width, height, channels, numClasses } = obj<ArrayDatasetOptions>('options', opts,
      'ArrayDataset options ({ images, labels, width, height, channels, numClasses, classes?, name? })');
    for (const [k, v] of Object.entries({ width, height, channels, numClasses })) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(k, 'positive integer', v);
    }
    // One default class name per class: 2^40 of them threw a RangeError, 2^28 would exhaust the heap.
    int('numClasses', numClasses, 1, MAX_LIST_LENGTH);
    if (!(opts.images instanceof Uint8Array)) throw new InvalidArgumentError('images', 'Uint8Array', opts.images);
    if (!Array.isArray(opts.labels) && !(ArrayBuffer.isView(opts.labels) && !(opts.labels instanceof DataView))) {
      throw new InvalidArgumentError('labels', 'array or typed array of labels', opts.labels);
    }
    this.stride = width * height * channels;
    const n = opts.labels.length;
    if (opts.images.length !== n * this.stride) {
      throw new InvalidArgumentError('images', `Uint8Array of length ${n * this.stride} (${n} labels × ${height}×${width}×${channels})`, opts.images);
    }
    for (let i = 0; i < n; i++) {
      const l = opts.labels[i];
      if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
        throw new InvalidArgumentError(`labels[${i}]`, `integer in [0, ${numClasses - 1}]`, l);
      }
    }
    const classes = opts.classes ?? Array.from({ length: numClasses }, (_, i) => String(i));
    if (!Array.isArray(classes) || classes.length !== numClasses) throw new InvalidArgumentError('classes', `array of ${numClasses} names`, classes);
    list('classes', classes, `array of ${numClasses} names`, (c) => typeof c === 'string');
    this.name = str('name', opts.name ?? 'array');
    this.length = n;
    this.numClasses = numClasses;
    this.classes = classes;
    this.shape = [channels, height, width];
    this.images = sharedBytes(opts.images);
    this.labels = sharedInt32(opts.labels);
  }

  /** Rebuilds a dataset from its spec (in a worker thread); shares the memory. */
  static fromSpec(spec: ArrayDatasetSpec): ArrayDataset {
    return new ArrayDataset(spec);
  }

  label(i: number): number {
    return this.labels[i];
  }

  /** A view into the shared pixels (no copy): do not write into `image.data`. */
  get(i: number): Sample {
    checkIndex(this, i);
    return { image: this.image(i), label: this.labels[i] };
  }

  /** Image i as a view (unchecked index: the loader's hot path). */
  image(i: number): { data: Uint8Array; width: number; height: number; channels: number } {
    const s = this.stride;
    return { data: this.images.subarray(i * s, (i + 1) * s), width: this.shape[2], height: this.shape[1], channels: this.shape[0] };
  }

  toSpec(): ArrayDatasetSpec {
    return {
      kind: 'array',
      name: this.name,
      images: this.images,
      labels: this.labels,
      width: this.shape[2],
      height: this.shape[1],
      channels: this.shape[0],
      numClasses: this.numClasses,
      classes: [...this.classes],
    };
  }
}
