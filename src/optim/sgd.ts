/**
 * SGD: torch.optim.SGD (momentum, dampening, nesterov, weight decay), fused and mask-aware. One
 * native call per step updates every parameter of every group (architecture.md decision 1):
 * dense parameters with the masked SGD kernel, and the entries of registered update kinds
 * (./update-kind.ts; Sign-In's factor pairs under `signin`) with their kind's fused step, with
 * the hyperparameters of their group.
 *
 * - Masks: a parameter with a mask (from options.masks, or the masked layers in forModel) has its
 *   gradient, decay term, momentum buffer and weight masked, so masked elements of all three are
 *   exactly 0 after every step (decision 2).
 * - Momentum buffers are created at construction (zeros, kept) when the group's momentum ≠ 0.
 *   First step: as PyTorch, the first update of a tensor sets buf = d (no dampening); the
 *   optimizer counts the updates applied to each tensor (parameters without a gradient are
 *   skipped and not counted). A reset with momentum 'zero' zeroes the buffers but keeps the
 *   count, so the next update is buf = μ·0 + (1 − dampening)·d.
 * - stateDict(): per tensor `<name>.momentum_buffer` (the live buffer) and `<name>.step` (a live
 *   one-element float64 count); an update kind's entry gives `<name>.<factor>_momentum_buffer` per
 *   factor (Sign-In: `m_momentum_buffer`, `w_momentum_buffer`, named by θ's parameter name) and
 *   `<name>.step`. Groups without momentum have no state. Nothing is returned for them.
 * - lr: the setter scales every group's lr by the same factor as the base lr (groups created with
 *   their own lr keep their ratio to the base lr), as a schedule on the optimizer expects.
 */
import { InvalidArgumentError, IssuesError, ToolkitError, type Issue } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zeros, zerosLike } from '../tensor/creation';
import { keep } from '../tensor/keep';
import { Tensor, sameShape } from '../tensor/tensor';
import { bool, knownKeys, num, options } from '../validate';
import { modelGroups, type ParamEntry } from './model-groups';
import { handleOf, optionalHandleOf, sgdNative, type NativeSgdGroup } from './native';
import { updateKinds, type KindEntry, type UpdateKind, type UpdateKindEntries } from './update-kind';

export interface SGDOptions {
  /** Learning rate, ≥ 0. */
  lr: number;
  /** Momentum factor μ ≥ 0; default 0. */
  momentum?: number;
  /** Dampening of the momentum (buf = μ·buf + (1 − dampening)·d); default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0); default false. */
  nesterov?: boolean;
  /** L2 weight decay λ ≥ 0 added to the gradient (on m and w for Sign-In pairs); default 0. */
  weightDecay?: number;
}

export type { ParamEntry } from './model-groups';

/**
 * One parameter group: its own tensors, optionally its own hyperparameters, and entries of the
 * registered update kinds under their keys (Sign-In: `signin`, src/signin/update-kind.ts).
 */
export type ParamGroup = Partial<SGDOptions> & { params?: ParamEntry[] } & { [K in keyof UpdateKindEntries]?: UpdateKindEntries[K][] };

/** Masks by parameter tensor or parameter name, or a lookup function. */
export type MaskLookup = Map<Tensor | string, Tensor> | ((name: string, param: Tensor) => Tensor | undefined);

export interface SGDConstructorOptions extends SGDOptions {
  masks?: MaskLookup;
}

export interface SGDForModelOptions extends SGDOptions {
  /**
   * Parameters that get no weight decay (a second group with weightDecay 0), e.g. BatchNorm
   * weights and biases: `noWeightDecay: isNormOrBias`. Default: none (PyTorch's plain SGD).
   */
  noWeightDecay?: (name: string, param: Tensor) => boolean;
}

/** True for one-dimensional parameters (BatchNorm weights and biases, layer biases). */
export function isNormOrBias(_name: string, param: Tensor): boolean {
  if (!(param instanceof Tensor)) throw new InvalidArgumentError('param', 'Tensor', param);
  return param.ndim <= 1;
}

interface ParamState {
  name: string;
  param: Tensor;
  mask: Tensor | undefined;
  buf: Tensor | undefined;
  steps: number;
}

interface EntryState {
  kind: UpdateKind;
  entry: KindEntry;
  /** Momentum buffers by factor name (none without momentum). */
  bufs: Record<string, Tensor>;
  steps: number;
}

interface GroupState {
  lr: number;
  lrScale: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  params: ParamState[];
  entries: EntryState[];
}

const HYPER_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'] as const;

function hyper(where: string, o: Partial<SGDOptions>, base: SGDOptions | undefined): Required<SGDOptions> {
  const p = (k: string) => (where ? `${where}.${k}` : k);
  const lr = num(p('lr'), o.lr ?? base?.lr, 0, Infinity);
  const momentum = num(p('momentum'), o.momentum ?? base?.momentum ?? 0, 0, Infinity);
  const dampening = num(p('dampening'), o.dampening ?? base?.dampening ?? 0);
  const nesterov = bool(p('nesterov'), o.nesterov ?? base?.nesterov ?? false);
  const weightDecay = num(p('weightDecay'), o.weightDecay ?? base?.weightDecay ?? 0, 0, Infinity);
  for (const [k, v] of [['lr', lr], ['momentum', momentum], ['dampening', dampening], ['weightDecay', weightDecay]] as const) {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(p(k), 'finite number', v);
  }
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new InvalidArgumentError(p('nesterov'), `false unless momentum > 0 and dampening = 0 (momentum is ${momentum}, dampening ${dampening})`, nesterov);
  }
  return { lr, momentum, dampening, nesterov, weightDecay };
}

export class SGD {
  private readonly groups: GroupState[];
  private baseLr: number;
  private disposed = false;

  /**
   * params: parameters (bare or named), or parameter groups. Unnamed parameters are named
   * `group<g>.param<i>` in state dicts. A tensor may appear only once, and not both as a
   * parameter and as the driving tensor of an update kind's entry (a Sign-In θ).
   */
  constructor(params: Iterable<ParamEntry> | ParamGroup[], opts: SGDConstructorOptions) {
    const o = options<SGDConstructorOptions>('options', opts) as SGDConstructorOptions;
    knownKeys('options', o, [...HYPER_KEYS, 'masks']);
    const base = hyper('', o, undefined);
    this.baseLr = base.lr;
    const list = [...(params ?? [])] as unknown[];
    const isGroups = list.length > 0 && list.every((g) => typeof g === 'object' && g !== null && !(g instanceof Tensor) && !Array.isArray(g));
    const specs: ParamGroup[] = isGroups ? (list as ParamGroup[]) : [{ params: list as ParamEntry[] }];
    const lookup = o.masks;
    if (lookup !== undefined && !(lookup instanceof Map) && typeof lookup !== 'function') {
      throw new InvalidArgumentError('masks', 'Map or function', lookup);
    }
    const seen = new Set<Tensor>();
    const names = new Set<string>();
    const claim = (where: string, t: Tensor, name: string) => {
      if (seen.has(t)) throw new InvalidArgumentError(where, 'a tensor not already given to this optimizer', `${name} again`);
      if (names.has(name)) throw new InvalidArgumentError(where, 'a unique parameter name', name);
      seen.add(t);
      names.add(name);
    };
    this.groups = [];
    try {
      specs.forEach((spec, g) => {
        const where = isGroups ? `params[${g}]` : '';
        const groupOptions = options<ParamGroup>(where || 'params', spec);
        const kinds = updateKinds();
        if (isGroups) knownKeys(where, groupOptions, ['params', ...kinds.map((k) => k.key), ...HYPER_KEYS]);
        const h = hyper(where, groupOptions, base);
        const group: GroupState = {
          ...h, lrScale: base.lr > 0 ? h.lr / base.lr : 1, params: [], entries: [],
        };
        this.groups.push(group);
        const entries = spec.params ?? [];
        if (!Array.isArray(entries)) throw new InvalidArgumentError(`${where || 'params'}.params`, 'array of tensors or [name, tensor] pairs', entries);
        entries.forEach((e, i) => {
          const at = `${where ? `${where}.` : ''}params[${i}]`;
          const [name, param] = Array.isArray(e) ? e : [`group${g}.param${i}`, e];
          if (typeof name !== 'string' || !(param instanceof Tensor)) throw new InvalidArgumentError(at, 'Tensor or [name, Tensor]', e);
          handleOf(name, param);
          claim(at, param, name);
          const mask = lookup instanceof Map ? lookup.get(param) ?? lookup.get(name) : lookup?.(name, param);
          if (mask !== undefined) {
            handleOf(`the mask of ${name}`, mask);
            if (!sameShape(mask, param)) {
              throw new InvalidArgumentError(`the mask of ${name}`, `a Tensor of shape [${param.shape.join(', ')}]`, `a Tensor of shape [${mask.shape.join(', ')}]`);
            }
          }
          group.params.push({ name, param, mask, buf: undefined, steps: 0 });
        });
        for (const kind of kinds) {
          const list = (groupOptions as Record<string, unknown>)[kind.key] ?? [];
          if (!Array.isArray(list)) throw new InvalidArgumentError(`${where || 'params'}.${kind.key}`, `array of ${kind.key} entries`, list);
          list.forEach((value, i) => {
            const at = `${where ? `${where}.` : ''}${kind.key}[${i}]`;
            const entry = kind.entry(value, at, `group${g}.${kind.key}${i}`);
            claim(at, entry.grad, entry.name);
            group.entries.push({ kind, entry, bufs: {}, steps: 0 });
          });
        }
      });
      // Momentum buffers: zeros, kept, owned by the optimizer.
      noGrad(() => {
        for (const g of this.groups) {
          if (g.momentum === 0) continue;
          for (const p of g.params) p.buf = keep(zerosLike(p.param));
          for (const e of g.entries) {
            for (const [f, t] of Object.entries(e.entry.factors)) e.bufs[f] = keep(zerosLike(t));
          }
        }
      });
    } catch (e) {
      this.releaseBuffers();
      throw e;
    }
  }

  /**
   * An SGD over every parameter of a model: each registered update kind takes its entries from
   * the model (Sign-In layers' θ become fused Sign-In entries), masked layers' weights get their
   * masks (pruned weights stay 0), and
   * `noWeightDecay` parameters go to a second group with weightDecay 0. One native call per step.
   * Create it after applySignIn and model.to().
   *
   * @param opts `lr` (required), `momentum`, `nesterov`, `weightDecay`, `noWeightDecay` (a
   *   predicate on parameter names, e.g. isNormOrBias).
   * @throws InvalidArgumentError naming a bad option.
   * @example
   * const opt = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, noWeightDecay: isNormOrBias });
   */
  static forModel(model: Module, opts: SGDForModelOptions): SGD {
    const o = options<SGDForModelOptions>('options', opts) as SGDForModelOptions;
    knownKeys('options', o, [...HYPER_KEYS, 'noWeightDecay']);
    const { noWeightDecay, ...hyperOpts } = o;
    const { groups, masks } = modelGroups(model, noWeightDecay, updateKinds());
    return new SGD(groups as ParamGroup[], { ...hyperOpts, masks });
  }

  /** The base learning rate. */
  get lr(): number {
    return this.baseLr;
  }

  /** Sets the base learning rate; every group's lr follows (keeping its ratio to the base). */
  set lr(value: number) {
    num('lr', value, 0, Infinity);
    if (!Number.isFinite(value)) throw new InvalidArgumentError('lr', 'finite number', value);
    this.baseLr = value;
    for (const g of this.groups) g.lr = value * g.lrScale;
  }

  /** Each group's hyperparameters and sizes (read-only snapshot). */
  get paramGroups(): { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; numParams: number; numEntries: Record<string, number> }[] {
    return this.groups.map((g) => ({
      lr: g.lr, momentum: g.momentum, dampening: g.dampening, nesterov: g.nesterov, weightDecay: g.weightDecay,
      numParams: g.params.length,
      numEntries: Object.fromEntries(updateKinds().map((k) => [k.key, g.entries.filter((e) => e.kind === k).length])),
    }));
  }

  private checkLive(): void {
    if (this.disposed) throw new ToolkitError('ERR_TENSOR_DISPOSED', 'This SGD optimizer was disposed');
  }

  /** One SGD step over every parameter and update-kind entry with a gradient: one native call. */
  step(): void {
    this.checkLive();
    const kinds = updateKinds();
    const groups: NativeSgdGroup[] = this.groups.map((g) => {
      const momentum = g.momentum !== 0;
      const group: NativeSgdGroup = {
        lr: g.lr, momentum: g.momentum, dampening: g.dampening, nesterov: g.nesterov, weightDecay: g.weightDecay,
        params: g.params.map((p) => handleOf(`parameter ${p.name}`, p.param)),
        masks: g.params.map((p) => optionalHandleOf(`the mask of ${p.name}`, p.mask)),
        momentumBuffers: momentum ? g.params.map((p) => handleOf(`the momentum buffer of ${p.name}`, p.buf)) : undefined,
        steps: momentum ? g.params.map((p) => p.steps) : undefined,
        names: g.params.map((p) => p.name),
      };
      for (const k of kinds) group[k.key] = g.entries.filter((e) => e.kind === k).map((e) => e.entry.toNative(momentum ? e.bufs : {}, e.steps));
      return group;
    });
    const result = sgdNative().sgdStep(groups);
    result.forEach((r, gi) => {
      const g = this.groups[gi];
      r.params.forEach((done, i) => { if (done) g.params[i].steps += 1; });
      for (const k of kinds) {
        const done = r[k.key] ?? [];
        g.entries.filter((e) => e.kind === k).forEach((e, i) => { if (done[i]) e.steps += 1; });
      }
    });
  }

  /** Sets every gradient (parameters and update-kind entries) to undefined, as zero_grad(set_to_none=True). */
  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) if (!p.param.isDisposed) p.param.grad = undefined;
      for (const e of g.entries) if (!e.entry.grad.isDisposed) e.entry.grad.grad = undefined;
    }
  }

  /**
   * The momentum buffers, by factor, of the update-kind entry driven by `grad` (a Sign-In θ): {}
   * without momentum, undefined for a tensor this optimizer has no entry for.
   */
  entryBuffers(grad: Tensor): Readonly<Record<string, Tensor>> | undefined {
    for (const g of this.groups) {
      for (const e of g.entries) if (e.entry.grad === grad) return e.bufs;
    }
    return undefined;
  }

  /** The momentum buffer of a parameter (undefined without momentum or for unknown tensors). */
  momentumBuffer(param: Tensor): Tensor | undefined {
    for (const g of this.groups) for (const p of g.params) if (p.param === param) return p.buf;
    return undefined;
  }

  // One kept float64 [1] tensor per entry holds its step count for state dicts.
  private stepTensors = new Map<string, Tensor>();

  private stepTensor(name: string, value: number): Tensor {
    let t = this.stepTensors.get(name);
    if (!t) {
      t = keep(zeros([1], { dtype: 'float64' }));
      this.stepTensors.set(name, t);
    }
    noGrad(() => t!.fill_(value));
    return t;
  }

  /** Momentum buffers and step counts by parameter name (live tensors: copy to keep a snapshot). */
  stateDict(): Map<string, Tensor> {
    this.checkLive();
    const out = new Map<string, Tensor>();
    for (const g of this.groups) {
      if (g.momentum === 0) continue;
      for (const p of g.params) {
        out.set(`${p.name}.momentum_buffer`, p.buf!);
        out.set(`${p.name}.step`, this.stepTensor(p.name, p.steps));
      }
      for (const e of g.entries) {
        for (const [f, buf] of Object.entries(e.bufs)) out.set(`${e.entry.name}.${f}_momentum_buffer`, buf);
        out.set(`${e.entry.name}.step`, this.stepTensor(e.entry.name, e.steps));
      }
    }
    return out;
  }

  /** Copies a stateDict() back (strict: every key must be there, none extra, shapes must match). */
  loadStateDict(state: Map<string, Tensor>): void {
    this.checkLive();
    if (!(state instanceof Map)) throw new InvalidArgumentError('state', 'Map of name to Tensor', state);
    const issues: Issue[] = [];
    const used = new Set<string>();
    const copies: [Tensor, Tensor][] = [];
    const steps: [{ steps: number }, number][] = [];
    const take = (key: string, like?: Tensor): Tensor | undefined => {
      const t = state.get(key);
      used.add(key);
      if (!t) {
        issues.push({ code: 'missing_key', path: key, message: 'missing key' });
        return undefined;
      }
      if (!(t instanceof Tensor) || t.isDisposed) {
        issues.push({ code: 'invalid_type', path: key, message: 'expected a live Tensor' });
        return undefined;
      }
      if (like && !sameShape(t, like)) {
        issues.push({ code: 'size_mismatch', path: key, message: `expected shape [${like.shape.join(', ')}] but found [${t.shape.join(', ')}]` });
        return undefined;
      }
      return t;
    };
    const stepOf = (key: string, target: { steps: number }) => {
      const t = take(key);
      if (!t) return;
      const v = t.numel === 1 ? t.item() : NaN;
      if (!Number.isInteger(v) || v < 0) issues.push({ code: 'invalid_value', path: key, message: 'expected one non-negative integer' });
      else steps.push([target, v]);
    };
    for (const g of this.groups) {
      if (g.momentum === 0) continue;
      for (const p of g.params) {
        const b = take(`${p.name}.momentum_buffer`, p.buf);
        if (b) copies.push([p.buf!, b]);
        stepOf(`${p.name}.step`, p);
      }
      for (const e of g.entries) {
        for (const [f, buf] of Object.entries(e.bufs)) {
          const t = take(`${e.entry.name}.${f}_momentum_buffer`, buf);
          if (t) copies.push([buf, t]);
        }
        stepOf(`${e.entry.name}.step`, e);
      }
    }
    for (const k of state.keys()) if (!used.has(k)) issues.push({ code: 'unexpected_key', path: k, message: 'unexpected key' });
    if (issues.length) throw new IssuesError('ERR_STATE_DICT', 'Error(s) in loading the SGD state dict', issues);
    noGrad(() => {
      for (const [dst, src] of copies) dst.copy_(src);
    });
    for (const [target, v] of steps) target.steps = v;
  }

  private releaseBuffers(): void {
    for (const g of this.groups ?? []) {
      for (const p of g.params) p.buf?.dispose();
      for (const e of g.entries) for (const buf of Object.values(e.bufs)) buf.dispose();
    }
    for (const t of this.stepTensors?.values() ?? []) t.dispose();
  }

  /** Frees the momentum buffers and step tensors (the parameters are the model's). */
  dispose(): void {
    if (this.disposed) return;
    this.releaseBuffers();
    this.stepTensors.clear();
    this.disposed = true;
  }
}
