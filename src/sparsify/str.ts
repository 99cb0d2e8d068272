/**
 * STR, soft threshold reparameterization (Kusupati et al. 2020, RAIVNLab/STR): each masked layer
 * computes with θ = sign(w)·relu(|w| − σ(s)) from a dense raw weight w and one learned threshold
 * s per layer; sparsity comes from weight decay on w and s, not from a target.
 *
 * It does not fit the masked layers' "forward uses `weight` as is" directly, so it is its own
 * parametrization run by this callback: w (kept tensors) and s (numbers) live here, the layer's
 * `weight` holds θ and its mask holds θ ≠ 0. After backward the callback reads θ's gradient g,
 * forms ∂L/∂w = g·1[|w| > σ(s)] and ∂L/∂s = −σ'(s)·Σ g·sign(w)·1[|w| > σ(s)], applies SGD with
 * momentum and weight decay (torch.optim.SGD's rule) to w and s, writes θ and the mask, and
 * clears θ's gradient so that the model's optimizer (which still steps BatchNorm and biases)
 * leaves θ alone. Not combined with Sign-In (the paper has no STR + Sign-In row): a Sign-In
 * layer is refused.
 */
import { InvalidArgumentError } from '../errors';
import { signinFactors } from '../signin/parametrization';
import type { MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import type { Tensor } from '../tensor/tensor';
import { num, options } from '../validate';
import type { SparsifyCallback, SparsifyContext, SparsifyState } from './hooks';
import { layersByName } from './mask-change';

export interface StrOptions {
  /** Initial threshold parameter s (σ(s) is the threshold); default −3200 (the reference's ResNet-50 value). */
  sInit?: number;
  /** SGD momentum for w and s; default 0.875 (reference ResNet-50). */
  momentum?: number;
  /** Weight decay on w and s; default 2.251757813e-05 (reference 90% ResNet-50). */
  weightDecay?: number;
}

interface StrLayer {
  w: Tensor;
  bufW: Tensor;
  s: number;
  bufS: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export class Str implements SparsifyCallback {
  readonly name = 'str';
  readonly sInit: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private layers = new Map<string, StrLayer>();
  private steps = 0;

  constructor(opts: StrOptions = {}) {
    const o = options<StrOptions>('options', opts);
    this.sInit = num('sInit', o.sInit ?? -3200);
    if (!Number.isFinite(this.sInit)) throw new InvalidArgumentError('sInit', 'finite number', o.sInit);
    this.momentum = num('momentum', o.momentum ?? 0.875, 0, 1);
    this.weightDecay = num('weightDecay', o.weightDecay ?? 2.251757813e-05, 0);
  }

  /** The learned thresholds σ(s) by layer. */
  thresholds(): Record<string, number> {
    return Object.fromEntries([...this.layers].map(([n, l]) => [n, sigmoid(l.s)]));
  }

  /** Takes the current (dense) θ of every masked layer as w and writes θ = sign(w)·relu(|w| − σ(s)). */
  initialize(model: Module): void {
    for (const [name, layer] of layersByName(model)) {
      if (signinFactors(layer)) throw new InvalidArgumentError(`layer ${name}`, "a plain masked layer (STR does not combine with Sign-In)", 'a Sign-In layer');
      const w = noGrad(() => keep(layer.weight.detach().clone()));
      this.layers.set(name, { w, bufW: keep(zerosLike(w)), s: this.sInit, bufS: 0 });
      this.write(layer, this.layers.get(name)!);
    }
  }

  private write(layer: MaskedLayer, l: StrLayer): void {
    noGrad(() => tidy(() => {
      const theta = l.w.sign().mul(l.w.abs().sub(sigmoid(l.s)).relu());
      layer.setMask(theta.ne(0).to(layer.mask.dtype));
      layer.weight.copy_(theta);
    }));
  }

  /** One STR step of every layer from θ's gradients (lr: the current learning rate). */
  step(model: Module, lr: number): void {
    const first = this.steps === 0;
    for (const [name, layer] of layersByName(model)) {
      const l = this.layers.get(name);
      const g = layer.weight.grad;
      if (!l || !g) continue;
      const tau = sigmoid(l.s);
      const gs = noGrad(() => tidy(() => {
        const active = l.w.abs().gt(tau).to(l.w.dtype);
        const ga = g.mul(active);
        const sumTerm = ga.mul(l.w.sign()).to('float64').sum().item();
        const gw = ga.add(l.w.mul(this.weightDecay));
        if (first) l.bufW.copy_(gw);
        else l.bufW.mul_(this.momentum).add_(gw);
        l.w.sub_(l.bufW.mul(lr));
        return -tau * (1 - tau) * sumTerm + this.weightDecay * l.s;
      }));
      l.bufS = first ? gs : this.momentum * l.bufS + gs;
      l.s -= lr * l.bufS;
      this.write(layer, l);
      layer.weight.grad = undefined;
    }
    this.steps++;
  }

  onTrainStart(ctx: SparsifyContext): void {
    if (this.layers.size === 0) this.initialize(ctx.model);
  }

  onAfterBackward(ctx: SparsifyContext): void {
    this.step(ctx.model, ctx.optimizer.lr);
  }

  onEpochEnd(_ctx: SparsifyContext, metrics: Record<string, unknown>): void {
    metrics.strThresholds = this.thresholds();
  }

  getState(): SparsifyState {
    const tensors = new Map<string, Tensor>();
    for (const [n, l] of this.layers) {
      tensors.set(`${n}.w`, l.w);
      tensors.set(`${n}.buf_w`, l.bufW);
    }
    return { tensors, json: { steps: this.steps, s: Object.fromEntries([...this.layers].map(([n, l]) => [n, [l.s, l.bufS]])) } };
  }

  setState(state: SparsifyState): void {
    const j = state.json as { steps?: number; s?: Record<string, [number, number]> } | undefined;
    if (!j?.s || !state.tensors) return;
    this.dispose();
    for (const [n, [s, bufS]] of Object.entries(j.s)) {
      const w = state.tensors.get(`${n}.w`);
      const b = state.tensors.get(`${n}.buf_w`);
      if (!w || !b) throw new InvalidArgumentError(`state.tensors['${n}.w']`, 'the STR raw weight and its momentum saved by getState', w);
      this.layers.set(n, { w: noGrad(() => keep(w.clone())), bufW: noGrad(() => keep(b.clone())), s, bufS });
    }
    this.steps = j.steps ?? 0;
  }

  /** Frees w and its momentum. */
  dispose(): void {
    for (const l of this.layers.values()) { l.w.dispose(); l.bufW.dispose(); }
    this.layers.clear();
  }
}
