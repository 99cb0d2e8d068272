/**
 * The `sparsify:` section of an experiment config as callbacks. The runner adds them to the
 * trainer's (checkpointed) callbacks; the section is plain data so that src/sparsify does not
 * depend on src/experiments (src/experiments/schema.ts validates it and fills the defaults).
 */
import { InvalidArgumentError, IssuesError } from '../errors';
import type { Generator } from '../tensor/runtime';
import { Acdc } from './acdc';
import { Gmp } from './gmp';
import type { SparsifyCallback } from './hooks';
import { ImpLevels } from './imp-levels';
import { impPlan } from './imp-plan';
import { SPARSIFY_METHODS, type SparsifyMethod } from './methods';
import { Rigl } from './rigl';
import type { Scope } from './select';
import { SparsityRecorder } from './stats';
import { Str } from './str';
import { int, obj } from '../validate';


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

/** The IMP / LRR callback of a section (its plan from imp-plan.ts; the rewind epoch in iterations). */
function impLevelsFromConfig(s: SparsifyConfig, epochs: number, stepsPerEpoch: number): ImpLevels {
  const { plan, issues } = impPlan(s, epochs);
  if (!plan) throw new IssuesError('ERR_CONFIG', `Invalid ${s.method} plan`, issues.map((i) => ({ code: 'custom', ...i })));
  if (s.method === 'lrr' && (s.rewindIteration !== undefined || s.rewindEpoch !== undefined)) {
    throw new InvalidArgumentError('sparsify.rewindIteration', "no rewind point for 'lrr' (it keeps the trained weights; use 'imp' to rewind)", s.rewindIteration ?? s.rewindEpoch);
  }
  const rewindStep = s.rewindEpoch !== undefined ? Math.round(s.rewindEpoch * stepsPerEpoch) : s.rewindIteration;
  if (rewindStep !== undefined && rewindStep >= plan.epochsPerLevel * stepsPerEpoch) {
    const field = s.rewindEpoch !== undefined ? 'sparsify.rewindEpoch' : 'sparsify.rewindIteration';
    throw new InvalidArgumentError(field, `an iteration of level 0 (< ${plan.epochsPerLevel * stepsPerEpoch}: ${plan.epochsPerLevel} epochs of ${stepsPerEpoch} steps)`, rewindStep);
  }
  return new ImpLevels({ rewind: s.method === 'imp', ...plan, rewindStep: s.method === 'imp' ? rewindStep : undefined });
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
  let method: SparsifyCallback;
  switch (s.method) {
    case 'gmp':
      method = new Gmp({
        sparsity: s.sparsity, initialSparsity: s.initialSparsity, startEpoch: s.startEpoch, endEpoch: s.endEpoch ?? 0.75 * cfg.epochs,
        frequency: s.frequency, scope: s.scope,
      });
      break;
    case 'rigl':
    case 'set':
      method = new Rigl({
        sparsity: s.sparsity, distribution: s.distribution, deltaT: s.deltaT, dropFraction: s.dropFraction, stopFraction: s.stopFraction,
        growth: s.method === 'rigl' ? 'gradient' : 'random', totalSteps: cfg.epochs * stepsPerEpoch, generator,
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
