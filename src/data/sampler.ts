/**
 * Samplers: which dataset indices an epoch visits, in which order. Shuffling uses torch's own
 * randperm with a generator seeded `seed + epoch`, so the orders are those PyTorch gives
 * (RandomSampler with such a generator, DistributedSampler after set_epoch) on the same libtorch.
 */
import { InvalidArgumentError } from '../errors';
import { int, bool, keysOf, obj, options } from '../validate';

export interface Sampler {
  /** Indices per epoch. */
  readonly length: number;
  /** Selects the epoch whose order indices() returns (PyTorch's set_epoch). */
  setEpoch(epoch: number): void;
  /** The dataset indices of the current epoch, in order. */
  indices(): Int32Array;
}

/** torch.randperm(n, generator=torch.Generator().manual_seed(seed)) as an Int32Array. */
export function permutation(n: number, seed: number): Int32Array {
  // Lazy: keeps the addon out of modules that worker threads load.
  const { randperm } = require('../tensor/creation') as typeof import('../tensor/creation');
  const { Generator } = require('../tensor/runtime') as typeof import('../tensor/runtime');
  const p = randperm(n, { generator: new Generator(seed), dtype: 'int32' });
  try {
    return p.data() as Int32Array;
  } finally {
    p.dispose();
  }
}

function checkN(n: unknown): number {
  return int('length', n, 0);
}

/** 0, 1, ..., n-1 every epoch. */
export class SequentialSampler implements Sampler {
  readonly length: number;

  constructor(n: number) {
    this.length = checkN(n);
  }

  setEpoch(epoch: number): void {
    int('epoch', epoch, 0);
  }

  indices(): Int32Array {
    const out = new Int32Array(this.length);
    for (let i = 0; i < out.length; i++) out[i] = i;
    return out;
  }
}

/** A permutation of 0..n-1 drawn from seed + epoch. */
export class RandomSampler implements Sampler {
  readonly length: number;
  readonly seed: number;
  epoch = 0;

  constructor(n: number, opts: { seed?: number } = {}) {
    this.length = checkN(n);
    const o = options<{ seed?: number }>('options', opts, keysOf<{ seed?: number }>({ seed: true }));
    this.seed = int('seed', o.seed ?? 0, 0);
  }

  setEpoch(epoch: number): void {
    this.epoch = int('epoch', epoch, 0);
  }

  indices(): Int32Array {
    return permutation(this.length, this.seed + this.epoch);
  }
}

export interface DistributedSamplerOptions {
  /** This process's rank in [0, worldSize). */
  rank: number;
  worldSize: number;
  shuffle?: boolean;
  seed?: number;
  /** Drop the tail so every rank gets floor(n / worldSize) samples; else pad by repeating. */
  dropLast?: boolean;
}

/**
 * PyTorch's DistributedSampler: every rank gets the same number of samples. Without dropLast the
 * (shuffled) index list is padded with its own first indices up to a multiple of worldSize; rank
 * r takes positions r, r + worldSize, ... So the ranks' lists are disjoint except for the padding,
 * and their union is the whole dataset.
 */
export class DistributedSampler implements Sampler {
  readonly length: number;
  readonly datasetLength: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly totalSize: number;
  epoch = 0;

  constructor(n: number, opts: DistributedSamplerOptions) {
    this.datasetLength = checkN(n);
    if (typeof opts !== 'object' || opts === null) throw new InvalidArgumentError('options', 'options object with rank and worldSize', opts);
    this.worldSize = int('worldSize', opts.worldSize, 1);
    this.rank = int('rank', opts.rank, 0, this.worldSize - 1);
    this.shuffle = bool('shuffle', opts.shuffle ?? true);
    this.seed = int('seed', opts.seed ?? 0, 0);
    this.dropLast = bool('dropLast', opts.dropLast ?? false);
    const W = this.worldSize;
    this.length = this.dropLast && n % W !== 0 ? Math.ceil((n - W) / W) : Math.ceil(n / W);
    this.totalSize = this.length * W;
  }

  setEpoch(epoch: number): void {
    this.epoch = int('epoch', epoch, 0);
  }

  indices(): Int32Array {
    const n = this.datasetLength;
    let all: Int32Array;
    if (this.shuffle) all = permutation(n, this.seed + this.epoch);
    else {
      all = new Int32Array(n);
      for (let i = 0; i < n; i++) all[i] = i;
    }
    const out = new Int32Array(this.length);
    // Position p of the padded list is all[p % n] (PyTorch repeats the list to pad).
    for (let k = 0, p = this.rank; k < this.length; k++, p += this.worldSize) out[k] = all[p % n];
    return out;
  }
}

/**
 * Rank `rank`'s share of an evaluation set: every worldSize-th sample from its rank, in order, so
 * each sample is in exactly one share and the shares differ in size by one at most. PyTorch's
 * DistributedSampler pads the shares to equal sizes with repeated samples, which would then count
 * twice in the accuracy (pytorch/examples' imagenet main.py evaluates that remainder apart).
 */
export class ShardSampler implements Sampler {
  readonly length: number;
  readonly datasetLength: number;
  readonly rank: number;
  readonly worldSize: number;

  constructor(n: number, opts: { rank: number; worldSize: number }) {
    this.datasetLength = checkN(n);
    obj('options', opts, '{ rank, worldSize }');
    this.worldSize = int('worldSize', opts.worldSize, 1);
    this.rank = int('rank', opts.rank, 0, this.worldSize - 1);
    this.length = Math.max(0, Math.ceil((n - this.rank) / this.worldSize));
  }

  setEpoch(epoch: number): void {
    int('epoch', epoch, 0);
  }

  indices(): Int32Array {
    return Int32Array.from({ length: this.length }, (_, k) => this.rank + k * this.worldSize);
  }
}
