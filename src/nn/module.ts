/**
 * Module: the model graph lives in TypeScript (architecture.md decision 1). Parameters, buffers
 * and children are registered by name; dotted names (`layer1.0.conv1.weight`) follow PyTorch so
 * state dicts move between this toolkit and PyTorch both ways.
 */
import { InvalidArgumentError, IssuesError, type Issue } from '../errors';
import { noGrad } from '../tensor/autograd';
import { keep } from '../tensor/keep';
import { DEVICE_PATTERN, DTYPES, Tensor, checkDeviceVisible, type DType } from '../tensor/tensor';
import { bool, obj, options as optionsArg, str } from '../validate';

export type StateDict = Map<string, Tensor>;

const FLOAT_DTYPES: readonly string[] = ['float32', 'float64', 'float16', 'bfloat16'];
// torch.optim's docs ask for the model to be moved before optimizers are made; here an optimizer
// made before holds the replaced tensors, and its error should say so.
const MOVED_BY_TO = 'replaced by Module.to(), which moves a module into new tensors: make optimizers (and anything else holding its parameters) after moving the model';

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

function checkName(kind: string, name: string, taken: (n: string) => boolean): void {
  if (typeof name !== 'string' || name.length === 0 || name.includes('.')) {
    throw new InvalidArgumentError(`${kind} name`, 'non-empty string without dots', name);
  }
  if (taken(name)) throw new InvalidArgumentError(`${kind} name`, 'a name not already registered', name);
}

/** A Module argument, or an error naming the argument. */
export function moduleArg(name: string, v: unknown): Module {
  if (!(v instanceof Module)) throw new InvalidArgumentError(name, 'Module', v);
  return v;
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | undefined>();
  private readonly buffers = new Map<string, { tensor: Tensor | undefined; persistent: boolean }>();
  private readonly children = new Map<string, Module>();

  abstract forward(input: Tensor, ...rest: unknown[]): Tensor;

  private taken = (n: string): boolean => this.params.has(n) || this.buffers.has(n) || this.children.has(n);

  /** Registers a trainable tensor (kept, requires grad). undefined keeps the name reserved. */
  protected registerParameter(name: string, t: Tensor | undefined): Tensor | undefined {
    checkName('parameter', name, this.taken);
    if (t) keep(t).requiresGrad_(true);
    this.params.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor (running stats, masks). Persistent buffers enter the state dict. */
  protected registerBuffer(name: string, t: Tensor | undefined, persistent = true): Tensor | undefined {
    checkName('buffer', name, this.taken);
    if (t) keep(t);
    this.buffers.set(name, { tensor: t, persistent });
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    checkName('module', name, this.taken);
    if (!(m instanceof Module)) throw new InvalidArgumentError(`module ${name}`, 'Module', m);
    this.children.set(name, m);
    return m;
  }

  /** Replaces a registered parameter's tensor (the old one is disposed unless it is the same). */
  protected setParameter(name: string, t: Tensor | undefined): void {
    if (!this.params.has(name)) throw new InvalidArgumentError('parameter name', 'a registered parameter', name);
    const old = this.params.get(name);
    if (t) keep(t).requiresGrad_(true);
    if (old && old !== t) old.dispose();
    this.params.set(name, t);
  }

  protected setBuffer(name: string, t: Tensor | undefined): void {
    const slot = this.buffers.get(name);
    if (!slot) throw new InvalidArgumentError('buffer name', 'a registered buffer', name);
    if (t) keep(t);
    if (slot.tensor && slot.tensor !== t) slot.tensor.dispose();
    slot.tensor = t;
  }

  getParameter(name: string): Tensor | undefined {
    return this.params.get(name);
  }

  getBuffer(name: string): Tensor | undefined {
    return this.buffers.get(name)?.tensor;
  }

  /** A direct child by name, or a descendant by dotted path ('layer1.0'). */
  getModule(path: string): Module | undefined {
    let m: Module | undefined = this;
    for (const part of str('path', path).split('.')) m = m?.children.get(part);
    return m;
  }

  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this.children.entries();
  }

  /** This module ('' ) and all descendants with dotted names, depth first in registration order. */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this.children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  *namedParameters(prefix = '', recurse = true): IterableIterator<[string, Tensor]> {
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [n, t] of m.params) if (t) yield [mp ? `${mp}.${n}` : n, t];
    }
  }

  parameters(recurse = true): Tensor[] {
    return [...this.namedParameters('', recurse)].map(([, t]) => t);
  }

  *namedBuffers(prefix = '', recurse = true): IterableIterator<[string, Tensor]> {
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [n, b] of m.buffers) if (b.tensor) yield [mp ? `${mp}.${n}` : n, b.tensor];
    }
  }

  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.numel, 0);
  }

  train(mode = true): this {
    bool('mode', mode);
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Sets every parameter's gradient to undefined (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = undefined;
  }

  /**
   * Moves or casts every parameter and buffer to a device or a floating dtype (as torch's
   * Module.to). The tensors are replaced: create optimizers after calling to(). Integer buffers
   * (counters) keep their dtype when a float dtype is given; parameters keep requiresGrad.
   */
  to(target: DType | string): this {
    const isFloat = (d: string) => FLOAT_DTYPES.includes(d);
    // Checked before any tensor moves: a parameter refused halfway would leave a mixed model.
    if (typeof target !== 'string' || (DTYPES.includes(target as DType) ? !isFloat(target) : !DEVICE_PATTERN.test(target))) {
      throw new InvalidArgumentError('target', `a floating dtype (${FLOAT_DTYPES.join(', ')}) or a device ('cpu', 'cuda', 'cuda:N')`, target);
    }
    checkDeviceVisible('target', target);
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        for (const [n, t] of m.params) {
          if (!t) continue;
          m.params.set(n, keep(t.to(target as DType)).requiresGrad_(t.requiresGrad));
          t.disposeAs(MOVED_BY_TO);
        }
        for (const slot of m.buffers.values()) {
          const t = slot.tensor;
          if (!t || (isFloat(target) && !isFloat(t.dtype))) continue;
          slot.tensor = keep(t.to(target as DType));
          t.disposeAs(MOVED_BY_TO);
        }
      }
    });
    for (const [, m] of this.namedModules()) m.afterTo();
    return this;
  }

  /** Parameters and persistent buffers by dotted name (the live tensors, not copies). */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [mp, m] of this.namedModules()) {
      const key = (n: string) => (mp ? `${mp}.${n}` : n);
      for (const [n, t] of m.params) if (t) out.set(key(n), t);
      for (const [n, b] of m.buffers) if (b.tensor && b.persistent) out.set(key(n), b.tensor);
    }
    return out;
  }

  /**
   * Copies values from a state dict into this module's tensors, all or nothing. strict (default)
   * throws one ERR_STATE_DICT error listing every missing, unexpected, mis-shaped and invalid key;
   * otherwise the missing and unexpected keys are returned. Shape mismatches and values a module
   * refuses (checkLoad: a mask holding a 0.5) always throw, before any tensor is written.
   */
  loadStateDict(state: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    return this.prepareLoad(state, options).apply();
  }

  /**
   * loadStateDict in two halves: every check now, writing nothing (it throws what loadStateDict
   * would), then `apply()`, the copies and the modules' after-load hooks. A restore that reads a
   * file straight into this module's tensors checks first, reads, then applies: a tensor it read
   * into is given as its own source, and copy_ of a tensor onto itself writes nothing.
   */
  prepareLoad(state: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): { apply(): LoadResult } {
    const strict = bool('strict', optionsArg<{ strict?: boolean }>('options', options).strict ?? true);
    const src = state instanceof Map ? state : new Map(Object.entries(obj('state', state, 'a Map or a record of name to Tensor')));
    const own = this.stateDict();
    const issues: Issue[] = [];
    const missingKeys = [...own.keys()].filter((k) => !src.has(k));
    const unexpectedKeys = [...src.keys()].filter((k) => !own.has(k));
    for (const [k, t] of own) {
      const s = src.get(k);
      if (!s) continue;
      if (!(s instanceof Tensor)) {
        issues.push({ code: 'invalid_type', path: k, message: `expected a Tensor but received ${typeof s}` });
      } else if (s.shape.join(',') !== t.shape.join(',')) {
        issues.push({
          code: 'size_mismatch', path: k,
          message: `size mismatch: copying a param with shape [${s.shape.join(', ')}], the shape in the current model is [${t.shape.join(', ')}]`,
        });
      }
    }
    for (const [mp, m] of this.namedModules()) {
      const key = (n: string) => (mp ? `${mp}.${n}` : n);
      const incoming = new Map<string, Tensor>();
      for (const n of [...m.params.keys(), ...m.buffers.keys()]) {
        const s = src.get(key(n));
        const t = own.get(key(n));
        if (s instanceof Tensor && t && s.shape.join(',') === t.shape.join(',')) incoming.set(n, s);
      }
      if (incoming.size) for (const i of m.checkLoad(incoming)) issues.push({ ...i, path: key(i.path) });
    }
    if (strict) {
      for (const k of missingKeys) issues.push({ code: 'missing_key', path: k, message: 'missing key' });
      for (const k of unexpectedKeys) issues.push({ code: 'unexpected_key', path: k, message: 'unexpected key' });
    }
    if (issues.length) {
      throw new IssuesError('ERR_STATE_DICT', `Error(s) in loading state_dict for ${this.constructor.name}`, issues);
    }
    return {
      apply: () => {
        noGrad(() => {
          for (const [k, t] of own) {
            const s = src.get(k);
            if (s) t.copy_(s);
          }
        });
        for (const [, m] of this.namedModules()) m.afterLoadStateDict();
        return { missingKeys, unexpectedKeys };
      },
    };
  }

  /**
   * Hook for modules that refuse some values (keyed by local name, shapes already checked):
   * the problems found, each with the local name as path. Runs before anything is copied.
   */
  protected checkLoad(_incoming: ReadonlyMap<string, Tensor>): Issue[] {
    return [];
  }

  /** Hook for modules whose tensors must stay consistent after a load (masked layers re-apply masks). */
  protected afterLoadStateDict(): void {}

  /** Hook for modules whose tensors must stay consistent after to() replaced them. */
  protected afterTo(): void {}

  /** Disposes every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m.params.values()) t?.dispose();
      for (const b of m.buffers.values()) b.tensor?.dispose();
    }
  }

  toString(): string {
    const lines = [...this.children].map(([n, c]) => `  (${n}): ${c.toString().replace(/\n/g, '\n  ')}`);
    return lines.length ? `${this.constructor.name}(\n${lines.join('\n')}\n)` : `${this.constructor.name}(${this.extraRepr()})`;
  }

  protected extraRepr(): string {
    return '';
  }
}
