/**
 * A small, fast, seeded random generator for data augmentation (xoshiro128**, seeded through
 * splitmix32). Transforms never use Math.random: every random decision comes from an Rng, and the
 * DataLoader derives one Rng per sample from (seed, epoch, rank, position), so augmentations are
 * identical whether batches are built in-process or in any number of worker threads.
 *
 * The streams are reproducible but not bit-identical to torch's generator (torchvision draws its
 * augmentation parameters from torch's global RNG); the algorithms that use them are torchvision's.
 */
import { InvalidArgumentError } from '../errors';
import type { Generator } from '../tensor/runtime';

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function mix(h: number, v: number): number {
  // Feeds a 32-bit value (or the two halves of a larger integer) into a running hash.
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) >>> 0;
  h = Math.imul(h ^ lo, 0x27d4eb2d) ^ (h >>> 15);
  h = Math.imul(h ^ hi, 0x165667b1) ^ (h >>> 13);
  return h | 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator from a non-negative integer seed (up to 2^53). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgumentError('seed', 'non-negative integer', seed);
    const st = { s: mix(0x6a09e667, seed) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The generator for one sample: a pure function of its coordinates (no shared state). */
  static forSample(seed: number, epoch: number, rank: number, position: number): Rng {
    let h = mix(0x3c6ef372, seed);
    h = mix(h, epoch);
    h = mix(h, rank);
    h = mix(h, position);
    return new Rng(h >>> 0);
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [low, high) (Python's random.uniform / torch.empty(1).uniform_). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** An integer uniform in [low, high) (torch.randint(low, high)). */
  int(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Anything a transform accepts as its randomness: an Rng, a seed, or a torch Generator. */
export type RandomSource = Rng | number | Generator;

/**
 * An Rng from a seed, an Rng (returned as is) or a torch Generator (a seed is drawn from it, so
 * the generator advances and successive calls differ, like torch's own sampling).
 */
export function toRng(source: RandomSource): Rng {
  if (source instanceof Rng) return source;
  if (typeof source === 'number') return new Rng(source);
  if (source && typeof source === 'object' && 'handle' in source && typeof source.initialSeed === 'function') {
    // Lazy: keeps the addon out of worker threads, which never see a Generator.
    const { randint } = require('../tensor/creation') as typeof import('../tensor/creation');
    const t = randint(0, 2 ** 31 - 1, [2], { generator: source });
    const [a, b] = t.toArray();
    t.dispose();
    return new Rng(a * 2 ** 21 + (b % 2 ** 21));
  }
  throw new InvalidArgumentError('rng', 'Rng, non-negative integer seed or Generator', source);
}
