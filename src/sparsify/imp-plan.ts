/**
 * The level plan of an IMP / LRR config (docs/sparsify.md): how many levels, the fraction pruned
 * per level and the epochs of each. Plain numbers, no tensors: src/experiments/schema.ts checks
 * configs with it and src/experiments/resolve.ts restarts the learning-rate schedule with it.
 *
 * Level 0 trains dense; each later level starts by pruning `pruneFraction` of the weights still
 * kept, so level L trains at sparsity 1 − (1 − p)^L and the last level (levels − 1) at
 * `sparsity`. Both count only the weights of the pruned layers: layers kept dense (denseFirst,
 * denseLast, denseLayers) are outside them, so the plan does not depend on the model; with scope
 * 'layerwise' every pruned layer is at that sparsity, with 'global' the pruned layers together
 * (up to one rounding per prune). OpenLTH and Renda et al. prune p = 0.2 per level; that is the
 * default, with as many levels as reach the target sparsity.
 */
import { int, keysOf, num, obj, options } from '../validate';

export const DEFAULT_PRUNE_FRACTION = 0.2;

/** The IMP / LRR fields of a sparsify section. */
export interface ImpPlanInput {
  sparsity: number;
  levels?: number;
  pruneFraction?: number;
  epochsPerLevel?: number;
  rewindIteration?: number;
  rewindEpoch?: number;
}

const PLAN_INPUT = keysOf<ImpPlanInput>({ sparsity: true, levels: true, pruneFraction: true, epochsPerLevel: true, rewindIteration: true, rewindEpoch: true });

/** The fields impPlan reads of a whole sparsify section (impPlan refuses the section's others: method, scope, ...). */
export function impPlanInput(section: ImpPlanInput): ImpPlanInput {
  const s = obj<ImpPlanInput>('section', section, 'sparsify section ({ sparsity, levels?, pruneFraction?, ... })');
  return Object.fromEntries(PLAN_INPUT.map((k) => [k, s[k as keyof ImpPlanInput]])) as unknown as ImpPlanInput;
}

export interface ImpPlan {
  /** Training levels, level 0 (dense) included: levels − 1 prunes. */
  levels: number;
  pruneFraction: number;
  epochsPerLevel: number;
}

export interface PlanIssue {
  /** Dotted config path. */
  path: string;
  message: string;
}

/** How far the last level's sparsity may be from `sparsity` when both levels and pruneFraction are given. */
const SPARSITY_TOLERANCE = 0.005;

const pct = (x: number) => `${Number((x * 100).toFixed(2))}%`;

function checkInput(input: ImpPlanInput): ImpPlanInput {
  const o = options<ImpPlanInput>('input', input, PLAN_INPUT);
  const opt = <T>(v: T | undefined, check: (v: T) => unknown) => { if (v !== undefined) check(v); };
  num('sparsity', o.sparsity, 0, 1);
  opt(o.levels, (v) => int('levels', v, 2));
  opt(o.pruneFraction, (v) => num('pruneFraction', v, 0, 1));
  opt(o.epochsPerLevel, (v) => int('epochsPerLevel', v, 1));
  opt(o.rewindIteration, (v) => int('rewindIteration', v, 0));
  opt(o.rewindEpoch, (v) => num('rewindEpoch', v, 0));
  return o as ImpPlanInput;
}

/** The plan, or the issues that prevent one (every path under `sparsify.` but `epochs`). */
export function impPlan(input: ImpPlanInput, epochs: number): { plan?: ImpPlan; issues: PlanIssue[] } {
  const s = checkInput(input);
  int('epochs', epochs, 1);
  const issues: PlanIssue[] = [];
  const keep = 1 - s.sparsity;
  let { levels, pruneFraction } = s;
  if (s.sparsity <= 0) {
    issues.push({ path: 'sparsify.sparsity', message: 'Expected a sparsity > 0 for imp and lrr (the last level\'s sparsity)' });
    return { issues };
  }
  if (levels === undefined) {
    const p = pruneFraction ?? DEFAULT_PRUNE_FRACTION;
    levels = 1 + Math.max(1, Math.round(Math.log(keep) / Math.log(1 - p)));
    if (pruneFraction === undefined) pruneFraction = 1 - keep ** (1 / (levels - 1));
  } else if (pruneFraction === undefined) {
    pruneFraction = 1 - keep ** (1 / (levels - 1));
  }
  const reached = 1 - (1 - pruneFraction) ** (levels - 1);
  if (Math.abs(reached - s.sparsity) > SPARSITY_TOLERANCE) {
    issues.push({
      path: 'sparsify.pruneFraction',
      message: `Expected ${levels - 1} prunes of pruneFraction ${pruneFraction} to reach sparsify.sparsity ${pct(s.sparsity)} (they reach ${pct(reached)}); `
        + 'give levels or pruneFraction alone and the other is derived',
    });
  }
  let epochsPerLevel = s.epochsPerLevel;
  if (epochsPerLevel === undefined) {
    if (epochs % levels !== 0) {
      issues.push({ path: 'sparsify.epochsPerLevel', message: `Expected epochs (${epochs}) to be a multiple of the ${levels} levels; set epochs to levels × epochsPerLevel` });
      return { issues };
    }
    epochsPerLevel = epochs / levels;
  } else if (epochsPerLevel * levels !== epochs) {
    issues.push({ path: 'epochs', message: `Expected levels × epochsPerLevel = ${levels} × ${epochsPerLevel} = ${levels * epochsPerLevel} epochs but received ${epochs}` });
  }
  if (s.rewindEpoch !== undefined && s.rewindEpoch >= epochsPerLevel) {
    issues.push({ path: 'sparsify.rewindEpoch', message: `Expected an epoch of level 0 (< epochsPerLevel = ${epochsPerLevel}) but received ${s.rewindEpoch}` });
  }
  return issues.length ? { issues } : { plan: { levels, pruneFraction, epochsPerLevel }, issues };
}
