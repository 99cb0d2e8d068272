/**
 * The `sparsify:` section of an experiment config as callbacks. The runner adds them to the
 * trainer's (checkpointed) callbacks; the section is plain data so that src/sparsify does not
 * depend on src/experiments (src/experiments/schema.ts validates it and fills the defaults).
 */
import { InvalidArgumentError, IssuesError } from '../errors';
import type { Generator } from '../tensor/runtime';
import { Acdc, ACDC_DEFAULTS } from './acdc';
import { Gmp } from './gmp';
import type { SparsifyCallback } from './hooks';
import { ImpLevels } from './imp-levels';
import { impPlan, impPlanInput, type PlanIssue } from './imp-plan';
import { SPARSIFY_METHODS, type SparsifyMethod } from './methods';
import { Rigl } from './rigl';
import type { Scope } from './select';
import { SparsityRecorder } from './stats';
import { Str } from './str';
import { int, num, obj } from '../validate';

/** The validated `sparsify` section (src/experiments/schema.ts's SparsifySchema). */
export interface SparsifyConfig {
  method: SparsifyMethod;
  sparsity: number;
  scope?: Scope;
  /** GMP */
  startEpoch?: number;
  endEpoch?: number;
  frequency?: number;
  initialSparsity?: number;
  /** RiGL / SET */
  distribution?: 'erk' | 'er' | 'uniform';
  deltaT?: number;
  dropFraction?: number;
  stopFraction?: number;
  /** RiGL / SET, IMP / LRR */
  denseFirst?: boolean;
  /** AC/DC */
  warmupEpochs?: number;
  phaseEpochs?: number;
  finetuneEpochs?: number;
  resetMomentumAfterDecompress?: boolean;
  /** STR */
  sInit?: number;
  /** IMP / LRR (src/sparsify/imp-plan.ts) */
  levels?: number;
  pruneFraction?: number;
  epochsPerLevel?: number;
  rewindIteration?: number;
  rewindEpoch?: number;
  denseLast?: boolean;
  denseLayers?: string[];
}

export interface SparsifyRunInfo {
  sparsify?: SparsifyConfig;
  epochs: number;
  pruning?: { method: string };
  /** STR trains w and s with the run's momentum and weight decay. */
  optimizer?: { momentum: number; weightDecay: number };
  /** STR with Sign-In resets its raw weight's factors on the run's Sign-In schedule. */
  signin?: { enabled: boolean; resetPeriod: number; resetUnit: 'epochs' | 'steps'; stopResetAfterEpoch?: number; momentumAtReset: 'keep' | 'zero' };
}

/** Where GMP reaches its final sparsity when endEpoch is not set, as a fraction of the epochs. */
export const GMP_END_FRACTION = 0.75;

/**
 * The fields of a GMP or AC/DC section whose schedule does not fit the run's epochs (or its own
 * sparsity), with dotted config paths; a value the section leaves out is named as the default it
 * is, since the user never wrote it. Empty when the schedule fits; other methods have no such
 * bounds here (IMP / LRR's are impPlan's).
 */
export function sparsifyScheduleIssues(s: SparsifyConfig, epochs: number): PlanIssue[] {
  obj('sparsify', s, 'a sparsify section');
  int('epochs', epochs, 1);
  // The fields compared, checked first: a junk value is an ERR_INVALID_ARG naming it, not a comparison that passes.
  const given = (k: keyof SparsifyConfig, check: (name: string, v: unknown) => number): number | undefined => (
    s[k] === undefined ? undefined : check(`sparsify.${k}`, s[k]));
  const epochCount = (name: string, v: unknown) => int(name, v, 0);
  const epoch = (name: string, v: unknown) => num(name, v, 0);
  const issues: PlanIssue[] = [];
  if (s.method === 'gmp') {
    const sparsity = num('sparsify.sparsity', s.sparsity, 0, 1);
    const endEpoch = given('endEpoch', epoch);
    const end = endEpoch ?? GMP_END_FRACTION * epochs;
    const start = given('startEpoch', epoch) ?? 0;
    const initial = given('initialSparsity', (name, v) => num(name, v, 0, 1));
    if (end > epochs) issues.push({ path: 'sparsify.endEpoch', message: `Expected at most epochs (${epochs}) but received ${end}` });
    if (start > end) {
      const endNote = endEpoch === undefined ? `, the default ${GMP_END_FRACTION} × epochs: sparsify.endEpoch is not set` : '';
      issues.push({ path: 'sparsify.startEpoch', message: `Expected at most sparsify.endEpoch (${end}${endNote}) but received ${start}` });
    }
    if (initial !== undefined && initial > sparsity) {
      issues.push({ path: 'sparsify.initialSparsity', message: `Expected at most sparsify.sparsity (${sparsity}) but received ${initial}` });
    }
  }
  if (s.method === 'acdc') {
    const warmupGiven = given('warmupEpochs', epochCount);
    const finetuneGiven = given('finetuneEpochs', epochCount);
    const warmup = warmupGiven ?? ACDC_DEFAULTS.warmupEpochs;
    const finetune = finetuneGiven ?? ACDC_DEFAULTS.finetuneEpochs;
    if (warmup > epochs) {
      const note = warmupGiven === undefined ? ' (the default: sparsify.warmupEpochs is not set)' : '';
      issues.push({ path: 'sparsify.warmupEpochs', message: `Expected at most epochs (${epochs}) but received ${warmup}${note}` });
    }
    if (warmup + finetune > epochs) {
      const note = warmupGiven === undefined && finetuneGiven === undefined ? ' (the defaults: neither is set)'
        : warmupGiven === undefined ? ' (warmupEpochs is the default: it is not set)'
          : finetuneGiven === undefined ? ' (finetuneEpochs is the default: it is not set)' : '';
      issues.push({ path: 'sparsify.finetuneEpochs', message: `Expected warmupEpochs + finetuneEpochs <= epochs (${epochs}) but received ${warmup} + ${finetune}${note}` });
    }
  }
  return issues;
}

/** The IMP / LRR callback of a section (its plan from imp-plan.ts; the rewind epoch in iterations). */
function impLevelsFromConfig(s: SparsifyConfig, epochs: number, stepsPerEpoch: number): ImpLevels {
  const { plan, issues } = impPlan(impPlanInput(s), epochs);
  if (!plan) throw new IssuesError('ERR_CONFIG', `Invalid ${s.method} plan`, issues.map((i) => ({ code: 'custom', ...i })));
  if (s.method === 'lrr' && (s.rewindIteration !== undefined || s.rewindEpoch !== undefined)) {
    throw new InvalidArgumentError('sparsify.rewindIteration', "no rewind point for 'lrr' (it keeps the trained weights; use 'imp' to rewind)", s.rewindIteration ?? s.rewindEpoch);
  }
  const rewindStep = s.rewindEpoch !== undefined ? Math.round(s.rewindEpoch * stepsPerEpoch) : s.rewindIteration;
  if (rewindStep !== undefined && rewindStep >= plan.epochsPerLevel * stepsPerEpoch) {
    const field = s.rewindEpoch !== undefined ? 'sparsify.rewindEpoch' : 'sparsify.rewindIteration';
    throw new InvalidArgumentError(field, `an iteration of level 0 (< ${plan.epochsPerLevel * stepsPerEpoch}: ${plan.epochsPerLevel} epochs of ${stepsPerEpoch} steps)`, rewindStep);
  }
  return new ImpLevels({
    rewind: s.method === 'imp', ...plan, rewindStep: s.method === 'imp' ? rewindStep : undefined,
    scope: s.scope, denseFirst: s.denseFirst, denseLast: s.denseLast, denseLayers: s.denseLayers,
  });
}

/**
 * The callbacks of a config's `sparsify` section (none without one): the method, then a
 * SparsityRecorder. GMP's end epoch defaults to 75% of the epochs; RiGL's total steps are
 * epochs × stepsPerEpoch; STR trains with the run's momentum and weight decay and, with Sign-In,
 * resets its raw weight's factors on the run's Sign-In schedule; IMP / LRR train `levels` levels of
 * the epochs (the runner places that callback after its checkpoint).
 */
export function sparsifyCallbacksFromConfig(cfg: SparsifyRunInfo, stepsPerEpoch: number, generator?: Generator): SparsifyCallback[] {
  obj('cfg', cfg, 'a run config with an optional sparsify section');
  const s = cfg.sparsify;
  if (!s) return [];
  obj('cfg.sparsify', s);
  int('stepsPerEpoch', stepsPerEpoch, 1);
  if (cfg.pruning && cfg.pruning.method !== 'none') {
    throw new InvalidArgumentError('pruning.method', `'none' when sparsify.method is set (${s.method} makes its own masks)`, cfg.pruning.method);
  }
  const issues = sparsifyScheduleIssues(s, cfg.epochs);
  if (issues.length) throw new IssuesError('ERR_CONFIG', `Invalid ${s.method} schedule`, issues.map((i) => ({ code: 'custom', ...i })));
  let method: SparsifyCallback;
  switch (s.method) {
    case 'gmp':
      method = new Gmp({
        sparsity: s.sparsity, initialSparsity: s.initialSparsity, startEpoch: s.startEpoch, endEpoch: s.endEpoch ?? GMP_END_FRACTION * cfg.epochs,
        frequency: s.frequency, scope: s.scope,
      });
      break;
    case 'rigl':
    case 'set':
      method = new Rigl({
        sparsity: s.sparsity, distribution: s.distribution, deltaT: s.deltaT, dropFraction: s.dropFraction, stopFraction: s.stopFraction,
        growth: s.method === 'rigl' ? 'gradient' : 'random', totalSteps: cfg.epochs * stepsPerEpoch, denseFirst: s.denseFirst, generator,
      });
      break;
    case 'acdc':
      method = new Acdc({
        sparsity: s.sparsity, epochs: cfg.epochs, warmupEpochs: s.warmupEpochs, phaseEpochs: s.phaseEpochs, finetuneEpochs: s.finetuneEpochs,
        scope: s.scope, resetMomentumAfterDecompress: s.resetMomentumAfterDecompress,
      });
      break;
    case 'str': {
      const si = cfg.signin;
      const signinReset = si?.enabled && si.resetPeriod > 0
        ? { period: si.resetPeriod, unit: si.resetUnit, stopAfterEpoch: si.stopResetAfterEpoch, epochs: cfg.epochs, momentum: si.momentumAtReset }
        : false;
      method = new Str({ sInit: s.sInit, momentum: cfg.optimizer?.momentum, weightDecay: cfg.optimizer?.weightDecay, signinReset });
      break;
    }
    case 'imp':
    case 'lrr':
      method = impLevelsFromConfig(s, cfg.epochs, stepsPerEpoch);
      break;
    default:
      throw new InvalidArgumentError('sparsify.method', `one of ${SPARSIFY_METHODS.join(', ')}`, (s as { method: unknown }).method);
  }
  return [method, new SparsityRecorder()];
}
