/**
 * AdamW (torch.optim.AdamW: Adam with decoupled weight decay), mask-aware, with parameter groups
 * and the entries of registered AdamW kinds (./adamw-kind.ts; Sign-In's pairs under `signin`).
 * The DeiT recipe: `AdamW.forModel(model, { lr, weightDecay: 0.05, noWeightDecay:
 * isNormBiasOrToken })` puts norms, biases, `pos_embed` and `cls_token` in a group without decay.
 *
 * - Masks: a parameter with a mask (from options.masks, or the masked layers in forModel) has its
 *   gradient masked and its weight and both moments multiplied by the mask after the update, so
 *   masked elements of all three are exactly 0 after every step.
 * - A kind's entries are updated by the kind from their driving gradient, with their group's
 *   hyperparameters (Sign-In, after applySignIn: AdamW on m and w exactly as torch.optim.AdamW on
 *   the leaves of θ = mask ⊙ m ⊙ w, src/signin/adamw.ts). entryBuffers() gives a reset the
 *   entry's first moments by factor.
 * - Unlike the SGD, this is not one fused native call: each tensor's update is a handful of ATen
 *   ops from TypeScript (fine for a ViT's few dozen tensors per step).
 * - stateDict(): per tensor `<name>.exp_avg`, `<name>.exp_avg_sq`, `<name>.step` (a one-element
 *   float64 count); a kind's entry gives its moments under `<name>.<suffix>` and `<name>.step`
 *   (Sign-In, named by θ's parameter name: `m_exp_avg`, `m_exp_avg_sq`, `w_exp_avg`, `w_exp_avg_sq`).
 */
import { InvalidArgumentError } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import { tensorHandle, type Tensor } from '../tensor/tensor';
import { num, str } from '../validate';
import { adamwKinds, type AdamWEntry, type AdamWEntryState, type AdamWKind, type AdamWKindEntries } from './adamw-kind';
import { adamwUpdate, type AdamWHyper } from './adamw-update';
import { forModelArgs, type ParamEntry } from './model-groups';
import { Optimizer, type StateSlot } from './optimizer';
import { checkParamGroups, checkPlain, type MaskLookup } from './param-groups';

export interface AdamWOptions {
  /** Learning rate, ≥ 0. */
  lr: number;
  /** (β₁, β₂), each in [0, 1); default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the denominator; default 1e-8. */
  eps?: number;
  /** Decoupled weight decay λ ≥ 0 (p ← p·(1 − lr·λ)); default 0.01 as torch.optim.AdamW. */
  weightDecay?: number;
}

/**
 * One parameter group: its own tensors, optionally its own hyperparameters, and entries of the
 * registered AdamW kinds under their keys (Sign-In: `signin`, src/signin/adamw-kind.ts).
 */
export type AdamWParamGroup = Partial<AdamWOptions> & { params?: ParamEntry[] } & { [K in keyof AdamWKindEntries]?: AdamWKindEntries[K][] };

export interface AdamWConstructorOptions extends AdamWOptions {
  masks?: MaskLookup;
}

export interface AdamWForModelOptions extends AdamWOptions {
  /** Parameters that get no weight decay (a second group with weightDecay 0), e.g. isNormBiasOrToken. */
  noWeightDecay?: (name: string, param: Tensor) => boolean;
}

/** timm's split for ViTs: no decay on 1-D parameters (norms, biases), `pos_embed` and `cls_token`. */
export function isNormBiasOrToken(name: string, param: Tensor): boolean {
  str('name', name);
  tensorHandle('param', param);
  const last = name.slice(name.lastIndexOf('.') + 1);
  return param.ndim <= 1 || last === 'pos_embed' || last === 'cls_token';
}

interface ParamState {
  name: string;
  param: Tensor;
  mask: Tensor | undefined;
  expAvg: Tensor;
  expAvgSq: Tensor;
  steps: number;
}

interface EntryState {
  kind: AdamWKind;
  entry: AdamWEntry;
  grad: Tensor;
  state: AdamWEntryState;
}

interface GroupState extends AdamWHyper {
  lrScale: number;
  params: ParamState[];
  entries: EntryState[];
}

const HYPER_KEYS = ['lr', 'betas', 'eps', 'weightDecay'] as const;

function adamwHyper(where: string, o: Partial<AdamWOptions>, base: AdamWHyper | undefined): AdamWHyper {
  const p = (k: string) => (where ? `${where}.${k}` : k);
  const finite = (k: string, v: number) => {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(p(k), 'finite number', v);
    return v;
  };
  const lr = finite('lr', num(p('lr'), o.lr ?? base?.lr, 0));
  let beta1 = base?.beta1 ?? 0.9;
  let beta2 = base?.beta2 ?? 0.999;
  if (o.betas !== undefined) {
    const b = o.betas as unknown;
    if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => typeof x === 'number' && x >= 0 && x < 1)) {
      throw new InvalidArgumentError(p('betas'), 'a pair of numbers in [0, 1)', b);
    }
    [beta1, beta2] = b as [number, number];
  }
  const eps = finite('eps', num(p('eps'), o.eps ?? base?.eps ?? 1e-8, 0));
  const weightDecay = finite('weightDecay', num(p('weightDecay'), o.weightDecay ?? base?.weightDecay ?? 0.01, 0));
  return { lr, beta1, beta2, eps, weightDecay };
}

export class AdamW extends Optimizer<GroupState> {
  /**
   * params: parameters (bare or named), or parameter groups with their own hyperparameters.
   * Unnamed parameters are named `group<g>.param<i>` in state dicts. A tensor may appear once,
   * as a parameter or as the driving tensor of a kind's entry (a Sign-In θ).
   */
  constructor(params: Iterable<ParamEntry> | AdamWParamGroup[], opts: AdamWConstructorOptions) {
    const { base, groups } = checkParamGroups(params, opts, HYPER_KEYS, adamwHyper, adamwKinds());
    super('AdamW', base.lr);
    this.allocate(() => {
      for (const g of groups) {
        const group: GroupState = { ...g.hyper, lrScale: g.lrScale, params: [], entries: [] };
        this.groups.push(group);
        for (const p of g.params) {
          const [expAvg, expAvgSq] = noGrad(() => [keep(zerosLike(p.param)), keep(zerosLike(p.param))]);
          group.params.push({ ...p, expAvg, expAvgSq, steps: 0 });
        }
        for (const { kind, entry } of g.entries) group.entries.push({ kind, entry, grad: entry.grad, state: entry.createState() });
      }
    });
  }

  /**
   * An AdamW over every parameter of a model: each registered kind takes its entries from the
   * model (Sign-In layers' θ become Sign-In pairs), masked layers' weights get their masks, `noWeightDecay` parameters go to a group with weightDecay 0.
   * Create it after applySignIn and model.to().
   *
   * @example
   * const opt = AdamW.forModel(model, { lr: 5e-4, weightDecay: 0.05, noWeightDecay: isNormBiasOrToken });
   */
  static forModel(model: Module, opts: AdamWForModelOptions): AdamW {
    const { groups, options } = forModelArgs<AdamWOptions>(model, opts, HYPER_KEYS, adamwKinds());
    return new AdamW(groups as AdamWParamGroup[], options);
  }

  /** Each group's hyperparameters and sizes (read-only snapshot); numEntries by kind key. */
  get paramGroups(): { lr: number; betas: [number, number]; eps: number; weightDecay: number; numParams: number; numEntries: Record<string, number> }[] {
    return this.groups.map((g) => ({
      lr: g.lr, betas: [g.beta1, g.beta2], eps: g.eps, weightDecay: g.weightDecay, numParams: g.params.length,
      numEntries: Object.fromEntries(adamwKinds().map((k) => [k.key, g.entries.filter((e) => e.kind === k).length])),
    }));
  }

  /** One AdamW step over every parameter and kind entry that has a gradient. */
  step(): void {
    this.checkLive();
    const kinds = adamwKinds();
    for (const g of this.groups) for (const p of g.params) checkPlain(p.name, p.param, kinds);
    for (const g of this.groups) {
      for (const p of g.params) {
        const grad = p.param.grad;
        if (!grad) continue;
        p.steps += 1;
        tidy(() => {
          const mask = p.mask;
          adamwUpdate(p.param, mask ? grad.mul(mask) : grad, p.expAvg, p.expAvgSq, p.steps, g);
          if (mask) noGrad(() => { for (const t of [p.param, p.expAvg, p.expAvgSq]) t.mul_(mask); });
        });
      }
      for (const e of g.entries) e.state.step(g);
    }
  }

  /**
   * The first moments, by factor, of the kind entry driven by `grad` (a Sign-In θ: m and w, for
   * resets); undefined for a tensor this optimizer has no entry for.
   */
  entryBuffers(grad: Tensor): Readonly<Record<string, Tensor>> | undefined {
    for (const g of this.groups) {
      for (const e of g.entries) if (e.grad === grad) return e.state.firstMoments;
    }
    return undefined;
  }

  /** Per tensor `<name>.exp_avg`, `<name>.exp_avg_sq`, `<name>.step`; per entry its moments and `<name>.step`. */
  protected *slots(): Iterable<StateSlot> {
    for (const g of this.groups) {
      for (const p of g.params) {
        yield [`${p.name}.exp_avg`, p.expAvg];
        yield [`${p.name}.exp_avg_sq`, p.expAvgSq];
        yield [`${p.name}.step`, p];
      }
      for (const { entry, state } of g.entries) {
        for (const [suffix, t] of Object.entries(state.moments)) yield [`${entry.name}.${suffix}`, t];
        yield [`${entry.name}.step`, state];
      }
    }
  }

  protected releaseState(): void {
    for (const g of this.groups) {
      for (const p of g.params) {
        p.expAvg.dispose();
        p.expAvgSq.dispose();
      }
      for (const e of g.entries) e.state.dispose();
    }
  }
}
