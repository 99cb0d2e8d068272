/**
 * What SGD and AdamW share once their groups are built: the base lr that every group follows,
 * zeroGrad, the state dict and dispose. An optimizer lists its state as slots, each key with a live
 * tensor (a momentum buffer, a moment) or an update count (saved as a one-element float64), so
 * that saving and loading, all or nothing, are written once.
 */
import { InvalidArgumentError, IssuesError, ToolkitError, type Issue } from '../errors';
import { noGrad } from '../tensor/autograd';
import { zeros } from '../tensor/creation';
import { keep } from '../tensor/keep';
import { Tensor, sameShape } from '../tensor/tensor';
import { num } from '../validate';

/** An update count the optimizer keeps (a parameter's, an entry's). */
export interface Counter {
  steps: number;
}

/** One state-dict key and what it holds. */
export type StateSlot = readonly [key: string, target: Tensor | Counter];

export interface OptimizerGroup {
  lr: number;
  lrScale: number;
  params: { param: Tensor }[];
  entries: { grad: Tensor }[];
}

export abstract class Optimizer<G extends OptimizerGroup> {
  protected readonly groups: G[] = [];
  private baseLr: number;
  private disposed = false;
  // One kept float64 [1] tensor per count, so that stateDict() returns tensors like the rest.
  private readonly countTensors = new Map<string, Tensor>();

  protected constructor(private readonly title: string, baseLr: number) {
    this.baseLr = baseLr;
  }

  /** The state-dict slots, in the order stateDict() lists them. */
  protected abstract slots(): Iterable<StateSlot>;

  /** Frees the tensors the optimizer owns (also after a failed allocation: some may be missing). */
  protected abstract releaseState(): void;

  /** Runs the allocation of the state; on failure, frees what was allocated and rethrows. */
  protected allocate(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.releaseState();
      throw e;
    }
  }

  protected checkLive(): void {
    if (this.disposed) throw new ToolkitError('ERR_TENSOR_DISPOSED', `This ${this.title} optimizer was disposed`);
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

  /** Sets every gradient (parameters and kind entries) to undefined, as zero_grad(set_to_none=True). */
  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) if (!p.param.isDisposed) p.param.grad = undefined;
      for (const e of g.entries) if (!e.grad.isDisposed) e.grad.grad = undefined;
    }
  }

  private countTensor(key: string, value: number): Tensor {
    let t = this.countTensors.get(key);
    if (!t) {
      t = keep(zeros([1], { dtype: 'float64' }));
      this.countTensors.set(key, t);
    }
    noGrad(() => t!.fill_(value));
    return t;
  }

  /** The state by key (live tensors: copy them to keep a snapshot). */
  stateDict(): Map<string, Tensor> {
    this.checkLive();
    const out = new Map<string, Tensor>();
    for (const [key, target] of this.slots()) out.set(key, target instanceof Tensor ? target : this.countTensor(key, target.steps));
    return out;
  }

  /**
   * The state tensors loadStateDict copies into, by key: every momentum buffer or moment, made
   * (zeros) when the optimizer is, so they exist before the first step; not the update counts,
   * which stateDict() gives as one-element copies. A restore may read a file straight into them.
   */
  liveState(): Map<string, Tensor> {
    this.checkLive();
    const out = new Map<string, Tensor>();
    for (const [key, target] of this.slots()) if (target instanceof Tensor) out.set(key, target);
    return out;
  }

  /** Copies a stateDict() back, all or nothing: every key present, none extra, shapes equal. */
  loadStateDict(state: Map<string, Tensor>): void {
    this.prepareLoad(state).apply();
  }

  /**
   * loadStateDict in two halves (as Module.prepareLoad): every check now, writing nothing, then
   * `apply()`, the copies and the update counts.
   */
  prepareLoad(state: Map<string, Tensor>): { apply(): void } {
    this.checkLive();
    if (!(state instanceof Map)) throw new InvalidArgumentError('state', 'Map of name to Tensor', state);
    const issues: Issue[] = [];
    const used = new Set<string>();
    const copies: [Tensor, Tensor][] = [];
    const counts: [Counter, number][] = [];
    for (const [key, target] of this.slots()) {
      used.add(key);
      const t = state.get(key);
      if (!t) {
        issues.push({ code: 'missing_key', path: key, message: 'missing key' });
      } else if (!(t instanceof Tensor) || t.isDisposed) {
        issues.push({ code: 'invalid_type', path: key, message: 'expected a live Tensor' });
      } else if (target instanceof Tensor) {
        if (sameShape(t, target)) copies.push([target, t]);
        else issues.push({ code: 'size_mismatch', path: key, message: `expected shape [${target.shape.join(', ')}] but found [${t.shape.join(', ')}]` });
      } else {
        const v = t.numel === 1 ? t.item() : NaN;
        if (Number.isInteger(v) && v >= 0) counts.push([target, v]);
        else issues.push({ code: 'invalid_value', path: key, message: 'expected one non-negative integer' });
      }
    }
    for (const k of state.keys()) if (!used.has(k)) issues.push({ code: 'unexpected_key', path: k, message: 'unexpected key' });
    if (issues.length) throw new IssuesError('ERR_STATE_DICT', `Error(s) in loading the ${this.title} state dict`, issues);
    return {
      apply: () => {
        noGrad(() => {
          for (const [dst, src] of copies) dst.copy_(src);
        });
        for (const [target, v] of counts) target.steps = v;
      },
    };
  }

  /** Frees the optimizer's state and count tensors (the parameters are the model's). */
  dispose(): void {
    if (this.disposed) return;
    this.releaseState();
    for (const t of this.countTensors.values()) t.dispose();
    this.countTensors.clear();
    this.disposed = true;
  }
}
