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
import { InvalidArgumentError } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { keep } from '../tensor/keep';
import { Tensor } from '../tensor/tensor';
import { forModelArgs, type ParamEntry } from './model-groups';
import { handleOf, optionalHandleOf, sgdHyper, sgdNative, type NativeSgdGroup } from './native';
import { Optimizer, type StateSlot } from './optimizer';
import { checkParamGroups, checkPlain, type MaskLookup } from './param-groups';
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

export type { MaskLookup } from './param-groups';

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
  grad: Tensor;
  /** Momentum buffers by factor name (none without momentum). */
  bufs: Record<string, Tensor>;
  steps: number;
}

interface GroupState extends Required<SGDOptions> {
  lrScale: number;
  params: ParamState[];
  entries: EntryState[];
}

const HYPER_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'] as const;

export class SGD extends Optimizer<GroupState> {
  /**
   * params: parameters (bare or named), or parameter groups. Unnamed parameters are named
   * `group<g>.param<i>` in state dicts. A tensor may appear only once, and not both as a
   * parameter and as the driving tensor of an update kind's entry (a Sign-In θ).
   */
  constructor(params: Iterable<ParamEntry> | ParamGroup[], opts: SGDConstructorOptions) {
    const { base, groups } = checkParamGroups(params, opts, HYPER_KEYS, sgdHyper, updateKinds());
    super('SGD', base.lr);
    for (const g of groups) {
      this.groups.push({
        ...g.hyper,
        lrScale: g.lrScale,
        params: g.params.map((p) => ({ ...p, buf: undefined, steps: 0 })),
        entries: g.entries.map(({ kind, entry }) => ({ kind, entry, grad: entry.grad, bufs: {}, steps: 0 })),
      });
    }
    // Momentum buffers: zeros, kept, owned by the optimizer.
    this.allocate(() => noGrad(() => {
      for (const g of this.groups) {
        if (g.momentum === 0) continue;
        for (const p of g.params) p.buf = keep(zerosLike(p.param));
        for (const e of g.entries) {
          for (const [f, t] of Object.entries(e.entry.factors)) e.bufs[f] = keep(zerosLike(t));
        }
      }
    }));
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
    const { groups, options } = forModelArgs<SGDOptions>(model, opts, HYPER_KEYS, updateKinds());
    return new SGD(groups as ParamGroup[], options);
  }

  /** Each group's hyperparameters and sizes (read-only snapshot). */
  get paramGroups(): { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; numParams: number; numEntries: Record<string, number> }[] {
    return this.groups.map((g) => ({
      lr: g.lr, momentum: g.momentum, dampening: g.dampening, nesterov: g.nesterov, weightDecay: g.weightDecay,
      numParams: g.params.length,
      numEntries: Object.fromEntries(updateKinds().map((k) => [k.key, g.entries.filter((e) => e.kind === k).length])),
    }));
  }

  /** One SGD step over every parameter and update-kind entry with a gradient: one native call. */
  step(): void {
    this.checkLive();
    const kinds = updateKinds();
    for (const g of this.groups) for (const p of g.params) checkPlain(p.name, p.param, kinds);
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

  /**
   * The momentum buffers, by factor, of the update-kind entry driven by `grad` (a Sign-In θ): {}
   * without momentum, undefined for a tensor this optimizer has no entry for.
   */
  entryBuffers(grad: Tensor): Readonly<Record<string, Tensor>> | undefined {
    for (const g of this.groups) {
      for (const e of g.entries) if (e.grad === grad) return e.bufs;
    }
    return undefined;
  }

  /** The momentum buffer of a parameter (undefined without momentum or for unknown tensors). */
  momentumBuffer(param: Tensor): Tensor | undefined {
    for (const g of this.groups) for (const p of g.params) if (p.param === param) return p.buf;
    return undefined;
  }

  /** Per tensor `<name>.momentum_buffer` and `<name>.step`; per entry factor `<name>.<factor>_momentum_buffer`. */
  protected *slots(): Iterable<StateSlot> {
    for (const g of this.groups) {
      if (g.momentum === 0) continue;
      for (const p of g.params) {
        yield [`${p.name}.momentum_buffer`, p.buf!];
        yield [`${p.name}.step`, p];
      }
      for (const e of g.entries) {
        for (const [f, buf] of Object.entries(e.bufs)) yield [`${e.entry.name}.${f}_momentum_buffer`, buf];
        yield [`${e.entry.name}.step`, e];
      }
    }
  }

  protected releaseState(): void {
    for (const g of this.groups) {
      for (const p of g.params) p.buf?.dispose();
      for (const e of g.entries) for (const buf of Object.values(e.bufs)) buf.dispose();
    }
  }
}
