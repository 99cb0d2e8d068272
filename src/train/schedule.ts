/**
 * Learning-rate schedules as pure functions of the (fractional) epoch: t = 2.5 is halfway through
 * the third epoch. Per-step use: `lr(step / stepsPerEpoch)` (see perStep). Evaluated at integer
 * epochs they equal PyTorch's MultiStepLR / CosineAnnealingLR stepped once per epoch.
 */
import { InvalidArgumentError } from '../errors';
import { finite, func, keysOf, knownKeys, list, num, obj, oneOf, options as optionsArg } from '../validate';

export type LrSchedule = (epoch: number) => number;

function checkT(t: number): number {
  if (typeof t !== 'number' || Number.isNaN(t) || t < 0) throw new InvalidArgumentError('epoch', 'number >= 0', t);
  return t;
}

/** lr(t) = lr. */
export function constantLr(lr: number): LrSchedule {
  finite('lr', lr, 0);
  return (t) => (checkT(t), lr);
}

/** MultiStepLR: lr · gamma^(number of milestones <= t). Milestones are absolute epochs. */
export function stepLr(lr: number, milestones: readonly number[], gamma = 0.1): LrSchedule {
  finite('lr', lr, 0);
  finite('gamma', gamma, 0);
  const expected = 'strictly increasing array of epochs >= 0';
  // list() bounds the length first: every() would walk a huge sparse array hole by hole.
  const ms = [...list<number>('milestones', milestones, expected, (m) => typeof m === 'number' && m >= 0)];
  if (ms.some((m, i) => i > 0 && !(m > ms[i - 1]))) throw new InvalidArgumentError('milestones', expected, milestones);
  return (t) => {
    checkT(t);
    let k = 0;
    while (k < ms.length && ms[k] <= t) k++;
    return lr * gamma ** k;
  };
}

export interface CosineOptions {
  /** Epoch at which the schedule reaches minLr (PyTorch's T_max when startEpoch = 0). */
  totalEpochs: number;
  /** PyTorch's eta_min. Default 0. */
  minLr?: number;
  /** The decay starts here (lr before it); e.g. the end of a warm-up. Default 0. */
  startEpoch?: number;
}

/**
 * Cosine annealing: minLr + (lr − minLr)(1 + cos(π (t − start)/(total − start)))/2 for
 * start <= t <= total, lr before start, minLr after total.
 */
export function cosineLr(lr: number, options: CosineOptions): LrSchedule {
  finite('lr', lr, 0);
  const o = optionsArg<CosineOptions>('options', options);
  const minLr = num('minLr', o.minLr ?? 0, 0, lr);
  const start = finite('startEpoch', o.startEpoch ?? 0, 0);
  // PyTorch's CosineAnnealingLR divides by T_max: a decay over zero epochs is refused there too.
  const total = finite('totalEpochs', o.totalEpochs);
  if (!(total > start)) throw new InvalidArgumentError('totalEpochs', `finite number > startEpoch (${start})`, total);
  return (t) => {
    checkT(t);
    if (t <= start) return lr;
    if (t >= total) return minLr;
    return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * (t - start)) / (total - start)))) / 2;
  };
}

/**
 * Linear warm-up in front of any schedule: for t < warmupEpochs,
 * lr(t) = main(warmupEpochs) · (startFactor + (1 − startFactor) · t / warmupEpochs); then main(t).
 * Continuous at the end of the warm-up; the main schedule keeps its own (absolute) epochs.
 */
export function withWarmup(main: LrSchedule, warmupEpochs: number, startFactor = 0): LrSchedule {
  func('main', main);
  finite('warmupEpochs', warmupEpochs, 0);
  num('startFactor', startFactor, 0, 1);
  if (warmupEpochs === 0) return main;
  const peak = main(warmupEpochs);
  return (t) => {
    checkT(t);
    if (t >= warmupEpochs) return main(t);
    return peak * (startFactor + ((1 - startFactor) * t) / warmupEpochs);
  };
}

/** A schedule in optimizer steps. */
export function perStep(schedule: LrSchedule, stepsPerEpoch: number): (step: number) => number {
  finite('stepsPerEpoch', stepsPerEpoch, 1);
  return (step) => schedule(step / stepsPerEpoch);
}

/** The schedule fields of an experiment config plus the peak lr and the epoch count. */
export interface ScheduleOptions {
  name: 'cosine' | 'step' | 'constant';
  lr: number;
  epochs: number;
  warmupEpochs?: number;
  milestones?: readonly number[];
  gamma?: number;
  minLr?: number;
}

const SCHEDULE_OPTIONS = keysOf<ScheduleOptions>({ name: true, lr: true, epochs: true, warmupEpochs: true, milestones: true, gamma: true, minLr: true });

/**
 * Builds a config's schedule. Cosine decays from the end of the warm-up (peak lr there) to minLr at
 * `epochs`; step milestones are absolute epochs; the warm-up rises linearly from 0.
 */
export function createSchedule(o: ScheduleOptions): LrSchedule {
  obj<ScheduleOptions>('options', o, 'schedule options ({ name, lr, epochs, ... })');
  knownKeys('options', o, SCHEDULE_OPTIONS);
  const name = oneOf('schedule name', o.name, ['cosine', 'step', 'constant']);
  const warmup = o.warmupEpochs ?? 0;
  let main: LrSchedule;
  switch (name) {
    case 'constant': main = constantLr(o.lr); break;
    case 'step': main = stepLr(o.lr, o.milestones ?? [], o.gamma ?? 0.1); break;
    case 'cosine': main = cosineLr(o.lr, { totalEpochs: o.epochs, minLr: o.minLr ?? 0, startEpoch: warmup }); break;
  }
  return withWarmup(main, warmup);
}
