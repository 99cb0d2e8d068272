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
import { InvalidArgumentError, IssuesError, ToolkitError, type Issue } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zeros, zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import { Tensor, tensorHandle, sameShape } from '../tensor/tensor';
import { knownKeys, num, options, str } from '../validate';
import { adamwKinds, type AdamWEntryState, type AdamWKind, type AdamWKindEntries } from './adamw-kind';
import { adamwUpdate, type AdamWHyper } from './adamw-update';
import { modelGroups, type ParamEntry } from './model-groups';
import type { MaskLookup } from './sgd';

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
  name: string;
  grad: Tensor;
  state: AdamWEntryState;
}

interface GroupState extends AdamWHyper {
  lrScale: number;
  params: ParamState[];
  entries: EntryState[];
}

const HYPER_KEYS = ['lr', 'betas', 'eps', 'weightDecay'] as const;

function hyper(where: string, o: Partial<AdamWOptions>, base: AdamWHyper | undefined): AdamWHyper {
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

function liveTensor(where: string, t: unknown): Tensor {
  if (!(t instanceof Tensor) || t.isDisposed) throw new InvalidArgumentError(where, 'a live Tensor', t);
  return t;
}

export class AdamW {
  private readonly groups: GroupState[] = [];
  private baseLr: number;
  private disposed = false;
  private readonly stepTensors = new Map<string, Tensor>();

  /**
   * params: parameters (bare or named), or parameter groups with their own hyperparameters.
   * Unnamed parameters are named `group<g>.param<i>` in state dicts. A tensor may appear once,
   * as a parameter or as the driving tensor of a kind's entry (a Sign-In θ).
   */
  constructor(params: Iterable<ParamEntry> | AdamWParamGroup[], opts: AdamWConstructorOptions) {
    const o = options<AdamWConstructorOptions>('options', opts) as AdamWConstructorOptions;
    knownKeys('options', o, [...HYPER_KEYS, 'masks']);
    const base = hyper('', o, undefined);
    this.baseLr = base.lr;
    const list = [...(params ?? [])] as unknown[];
    const isGroups = list.length > 0 && list.every((g) => typeof g === 'object' && g !== null && !(g instanceof Tensor) && !Array.isArray(g));
    const specs: AdamWParamGroup[] = isGroups ? (list as AdamWParamGroup[]) : [{ params: list as ParamEntry[] }];
    const lookup = o.masks;
    if (lookup !== undefined && !(lookup instanceof Map) && typeof lookup !== 'function') {
      throw new InvalidArgumentError('masks', 'Map or function', lookup);
    }
    const seen = new Set<Tensor>();
    const names = new Set<string>();
    const claim = (where: string, t: Tensor, name: string) => {
      if (seen.has(t) || names.has(name)) throw new InvalidArgumentError(where, 'a tensor and name not already given to this optimizer', name);
      seen.add(t);
      names.add(name);
    };
    try {
      specs.forEach((spec, g) => {
        const where = isGroups ? `params[${g}]` : '';
        const go = options<AdamWParamGroup>(where || 'params', spec);
        const kinds = adamwKinds();
        if (isGroups) knownKeys(where, go, ['params', ...kinds.map((k) => k.key), ...HYPER_KEYS]);
        const h = hyper(where, go, base);
        const group: GroupState = { ...h, lrScale: base.lr > 0 ? h.lr / base.lr : 1, params: [], entries: [] };
        this.groups.push(group);
        const entries = spec.params ?? [];
        if (!Array.isArray(entries)) throw new InvalidArgumentError(`${where || 'params'}.params`, 'array of tensors or [name, tensor] pairs', entries);
        entries.forEach((e, i) => {
          const at = `${where ? `${where}.` : ''}params[${i}]`;
          const [name, param] = Array.isArray(e) ? e : [`group${g}.param${i}`, e];
          if (typeof name !== 'string') throw new InvalidArgumentError(at, 'Tensor or [name, Tensor]', e);
          liveTensor(at, param);
          claim(at, param, name);
          const mask = lookup instanceof Map ? lookup.get(param) ?? lookup.get(name) : lookup?.(name, param);
          if (mask !== undefined && (!(mask instanceof Tensor) || !sameShape(mask, param))) {
            throw new InvalidArgumentError(`the mask of ${name}`, `a Tensor of shape [${param.shape.join(', ')}]`, mask);
          }
          const [expAvg, expAvgSq] = noGrad(() => [keep(zerosLike(param)), keep(zerosLike(param))]);
          group.params.push({ name, param, mask, expAvg, expAvgSq, steps: 0 });
        });
        for (const kind of kinds) {
          const list = (go as Record<string, unknown>)[kind.key] ?? [];
          if (!Array.isArray(list)) throw new InvalidArgumentError(`${where || 'params'}.${kind.key}`, `array of ${kind.key} entries`, list);
          list.forEach((value, i) => {
            const at = `${where ? `${where}.` : ''}${kind.key}[${i}]`;
            const entry = kind.entry(value, at, `group${g}.${kind.key}${i}`);
            claim(at, entry.grad, entry.name);
            group.entries.push({ kind, name: entry.name, grad: entry.grad, state: entry.createState() });
          });
        }
      });
    } catch (e) {
      this.releaseState();
      throw e;
    }
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
    const o = options<AdamWForModelOptions>('options', opts) as AdamWForModelOptions;
    knownKeys('options', o, [...HYPER_KEYS, 'noWeightDecay']);
    const { noWeightDecay, ...hyperOpts } = o;
    const { groups, masks } = modelGroups(model, noWeightDecay, adamwKinds());
    return new AdamW(groups as AdamWParamGroup[], { ...hyperOpts, masks });
  }

  get lr(): number {
    return this.baseLr;
  }

  /** Sets the base learning rate; every group's lr follows (keeping its ratio to the base). */
  set lr(value: number) {
    num('lr', value, 0);
    if (!Number.isFinite(value)) throw new InvalidArgumentError('lr', 'finite number', value);
    this.baseLr = value;
    for (const g of this.groups) g.lr = value * g.lrScale;
  }

  /** Each group's hyperparameters and sizes (read-only snapshot); numEntries by kind key. */
  get paramGroups(): { lr: number; betas: [number, number]; eps: number; weightDecay: number; numParams: number; numEntries: Record<string, number> }[] {
    return this.groups.map((g) => ({
      lr: g.lr, betas: [g.beta1, g.beta2], eps: g.eps, weightDecay: g.weightDecay, numParams: g.params.length,
      numEntries: Object.fromEntries(adamwKinds().map((k) => [k.key, g.entries.filter((e) => e.kind === k).length])),
    }));
  }

  private checkLive(): void {
    if (this.disposed) throw new ToolkitError('ERR_TENSOR_DISPOSED', 'This AdamW optimizer was disposed');
  }

  /** One AdamW step over every parameter and kind entry that has a gradient. */
  step(): void {
    this.checkLive();
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

  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) if (!p.param.isDisposed) p.param.grad = undefined;
      for (const e of g.entries) if (!e.grad.isDisposed) e.grad.grad = undefined;
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

  private stepTensor(name: string, value: number): Tensor {
    let t = this.stepTensors.get(name);
    if (!t) {
      t = keep(zeros([1], { dtype: 'float64' }));
      this.stepTensors.set(name, t);
    }
    noGrad(() => t!.fill_(value));
    return t;
  }

  private *entries(): IterableIterator<[string, Tensor, { steps: number }]> {
    for (const g of this.groups) {
      for (const p of g.params) {
        yield [`${p.name}.exp_avg`, p.expAvg, p];
        yield [`${p.name}.exp_avg_sq`, p.expAvgSq, p];
      }
      for (const { name, state } of g.entries) {
        for (const [suffix, t] of Object.entries(state.moments)) yield [`${name}.${suffix}`, t, state];
      }
    }
  }

  private stepNames(): [string, { steps: number }][] {
    const out: [string, { steps: number }][] = [];
    for (const g of this.groups) {
      for (const p of g.params) out.push([p.name, p]);
      for (const e of g.entries) out.push([e.name, e.state]);
    }
    return out;
  }

  /** Moments and step counts by parameter name (live tensors: copy to keep a snapshot). */
  stateDict(): Map<string, Tensor> {
    this.checkLive();
    const out = new Map<string, Tensor>();
    for (const [key, t] of this.entries()) out.set(key, t);
    for (const [name, holder] of this.stepNames()) out.set(`${name}.step`, this.stepTensor(name, holder.steps));
    return out;
  }

  /** Copies a stateDict() back, all or nothing (every key present, none extra, shapes equal). */
  loadStateDict(state: Map<string, Tensor>): void {
    this.checkLive();
    if (!(state instanceof Map)) throw new InvalidArgumentError('state', 'Map of name to Tensor', state);
    const issues: Issue[] = [];
    const used = new Set<string>();
    const copies: [Tensor, Tensor][] = [];
    const steps: [{ steps: number }, number][] = [];
    const take = (key: string): Tensor | undefined => {
      used.add(key);
      const t = state.get(key);
      if (!t) issues.push({ code: 'missing_key', path: key, message: 'missing key' });
      else if (!(t instanceof Tensor) || t.isDisposed) issues.push({ code: 'invalid_type', path: key, message: 'expected a live Tensor' });
      else return t;
      return undefined;
    };
    for (const [key, dst] of this.entries()) {
      const t = take(key);
      if (t && !sameShape(t, dst)) {
        issues.push({ code: 'size_mismatch', path: key, message: `expected shape [${dst.shape.join(', ')}] but found [${t.shape.join(', ')}]` });
      } else if (t) copies.push([dst, t]);
    }
    for (const [name, holder] of this.stepNames()) {
      const t = take(`${name}.step`);
      if (!t) continue;
      const v = t.numel === 1 ? t.item() : NaN;
      if (!Number.isInteger(v) || v < 0) issues.push({ code: 'invalid_value', path: `${name}.step`, message: 'expected one non-negative integer' });
      else steps.push([holder, v]);
    }
    for (const k of state.keys()) if (!used.has(k)) issues.push({ code: 'unexpected_key', path: k, message: 'unexpected key' });
    if (issues.length) throw new IssuesError('ERR_STATE_DICT', 'Error(s) in loading the AdamW state dict', issues);
    noGrad(() => { for (const [dst, src] of copies) dst.copy_(src); });
    for (const [holder, v] of steps) holder.steps = v;
  }

  private releaseState(): void {
    for (const g of this.groups) {
      for (const p of g.params) {
        p.expAvg.dispose();
        p.expAvgSq.dispose();
      }
      for (const e of g.entries) e.state.dispose();
    }
    for (const t of this.stepTensors.values()) t.dispose();
    this.stepTensors.clear();
  }

  /** Frees the moments and step tensors (the parameters are the model's). */
  dispose(): void {
    if (this.disposed) return;
    this.releaseState();
    this.disposed = true;
  }
}
