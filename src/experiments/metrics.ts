/**
 * What a run writes about itself: one metrics row per epoch (metrics.jsonl) and a final summary
 * (final.json), plus the small statistics the report needs. Accuracies are fractions in [0, 1].
 */
import { z } from 'zod';
import { list } from '../validate';

/** Fractions of unmasked weights whose sign differs from a reference. */
export interface SignFlips {
  /** Over all reparameterized/masked layers, relative to the initialization (same as fromInit unless the writer says otherwise). */
  overall: number;
  /** Relative to the signs at initialization. */
  fromInit: number;
  /** Relative to the signs at the end of the previous epoch. */
  fromPrev: number;
  /** Per masked layer (dotted module name), relative to the initialization. Keys in network order. */
  perLayer: Record<string, number>;
}

/** One row of metrics.jsonl, written after each epoch (epoch counts from 1). */
export interface MetricsRow {
  epoch: number;
  step: number;
  trainLoss: number;
  trainAcc: number;
  testLoss?: number;
  testAcc?: number;
  testTop5?: number;
  lr: number;
  /** Seconds the epoch took (older rows call it `time`; the reader renames it). */
  epochSeconds: number;
  /** Of those, the seconds training waited for its batches (data-parallel: the longest of any rank's); absent in older rows. */
  dataSeconds?: number;
  /** Of those, the seconds the evaluation took; absent in older rows and epochs without one. */
  evalSeconds?: number;
  signFlips?: SignFlips;
  /** Mean of m² − w² over the kept reparameterized weights at the end of the epoch, after its reset if one ran (Sign-In runs). */
  meanBeta?: number;
  /** The same just before the epoch's resets (mean over them; absent when none ran): the β that SGD and weight decay wore down. */
  betaBeforeReset?: number;
  /** The same just after the epoch's resets (the restored β, to rounding). */
  betaAfterReset?: number;
  /** `meanBeta` per Sign-In layer with kept weights (names as in signFlips.perLayer, network order). */
  betaPerLayer?: Record<string, number>;
  /**
   * `betaBeforeReset` per layer: each layer's mean over its kept weights, averaged over the epoch's
   * resets (absent when none ran, and in an epoch resumed from a checkpoint that predates it).
   */
  betaBeforeResetPerLayer?: Record<string, number>;
  /** Last epoch only, when the config asks (`hessian`): the top Hessian eigenvalue of the training loss at the final weights. */
  topHessianEigenvalue?: number;
  [extra: string]: unknown;
}

/** final.json: written once, last, when a run completed; its presence marks the run finished. */
export interface FinalSummary {
  epoch: number;
  step: number;
  testAcc: number;
  testTop5?: number;
  testLoss?: number;
  trainAcc?: number;
  trainLoss?: number;
  /** Seconds of training over all sessions of the run. */
  time?: number;
  finishedAt?: string;
  signFlips?: SignFlips;
  [extra: string]: unknown;
}

const frac = z.number().min(0).max(1);

/**
 * A measured value (a loss, a mean β): any number, NaN and ±Infinity included, since a diverged
 * run measures those and is a result like any other. Files written before non-finite numbers were
 * kept hold null in their place (JSON.stringify's rendering of NaN and ±Infinity): read as NaN.
 */
const measured = z.preprocess((v) => (v === null ? NaN : v), z.custom<number>((v) => typeof v === 'number', { message: 'Expected a number (NaN and ±Infinity included)' }));

const SignFlipsSchema = z.looseObject({
  overall: frac,
  fromInit: frac,
  fromPrev: frac,
  perLayer: z.record(z.string(), frac),
});

/** Rows of older runs named the epoch's seconds `time`, which collided with pino's timestamp. */
function renameLegacyTime(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || 'epochSeconds' in raw || !('time' in raw)) return raw;
  const { time, ...rest } = raw as Record<string, unknown>;
  return { ...rest, epochSeconds: time };
}

/** Rows are checked loosely: required numbers must be numbers, extra fields are kept. */
export const MetricsRowSchema = z.preprocess(renameLegacyTime, z.looseObject({
  epoch: z.number().int().min(0),
  step: z.number().int().min(0),
  trainLoss: measured,
  trainAcc: frac,
  testLoss: measured.optional(),
  testAcc: frac.optional(),
  testTop5: frac.optional(),
  lr: z.number(),
  epochSeconds: z.number(),
  dataSeconds: z.number().min(0).optional(),
  evalSeconds: z.number().min(0).optional(),
  signFlips: SignFlipsSchema.optional(),
  meanBeta: measured.optional(),
  betaBeforeReset: measured.optional(),
  betaAfterReset: measured.optional(),
  betaPerLayer: z.record(z.string(), measured).optional(),
  betaBeforeResetPerLayer: z.record(z.string(), measured).optional(),
}));

export const FinalSummarySchema = z.looseObject({
  epoch: z.number().int().min(0),
  step: z.number().int().min(0),
  testAcc: frac,
  testTop5: frac.optional(),
  testLoss: measured.optional(),
  trainAcc: frac.optional(),
  trainLoss: measured.optional(),
  time: z.number().optional(),
  finishedAt: z.string().optional(),
  signFlips: SignFlipsSchema.optional(),
});

/** A list of numbers; its length is checked before any element, so a huge sparse array fails at once. */
function numbers(name: string, v: unknown): readonly number[] {
  return list<number>(name, v, 'array of numbers', (x) => typeof x === 'number');
}

export function mean(xs: readonly number[]): number {
  numbers('xs', xs);
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for a single value, NaN for none. */
export function sampleStd(xs: readonly number[]): number {
  numbers('xs', xs);
  if (xs.length === 0) return NaN;
  if (xs.length === 1) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export function meanStd(xs: readonly number[]): { mean: number; std: number; n: number } {
  return { mean: mean(xs), std: sampleStd(xs), n: xs.length };
}
