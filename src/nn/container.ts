/** Structural modules: Sequential, Identity, Flatten, Dropout. */
import { InvalidArgumentError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { int, isInt, num } from '../validate';
import { dropout, flatten, tensorArg } from './functional';
import { Module } from './module';

/** Runs its children in order. Children are named '0', '1', ... like torch.nn.Sequential. */
export class Sequential extends Module {
  private readonly items: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => this.append(m, String(i)));
  }

  /** A Sequential with named children (torch.nn.Sequential(OrderedDict(...))). */
  static named(entries: Iterable<readonly [string, Module]>): Sequential {
    const s = new Sequential();
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new InvalidArgumentError('entries', 'an iterable of [name, Module] pairs', entry);
      s.append(entry[1], entry[0]);
    }
    return s;
  }

  /** Adds a module at the end, named by its index unless a name is given. */
  append(module: Module, name = String(this.items.length)): this {
    if (!(module instanceof Module)) throw new InvalidArgumentError(`module ${name}`, 'Module', module);
    this.registerModule(name, module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  /** The i-th child; negative i counts from the end. */
  at(i: number): Module {
    const n = this.items.length;
    if (!isInt(i) || i < -n || i >= n) throw new InvalidArgumentError('index', `integer in [${-n}, ${n - 1}]`, i);
    return this.items[i < 0 ? i + n : i];
  }

  [Symbol.iterator](): IterableIterator<Module> {
    return this.items[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.items) y = m.forward(y);
    return y;
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return tensorArg('input', x);
  }
}

/** Flattens dims startDim..endDim (default: all but the batch dim). */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = int('startDim', startDim);
    this.endDim = int('endDim', endDim);
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  protected override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/** Zeroes elements with probability p in training mode (scaling the rest by 1/(1-p)); identity in eval. */
export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = num('p', p, 0, 1);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
