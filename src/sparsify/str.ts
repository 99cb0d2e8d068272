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
 * leaves θ alone.
 *
 * With Sign-In (a layer that applySignIn put in the Sign-In parametrization) Sign-In
 * reparameterizes the raw weight, w = m ⊙ v with m² − v² = β (the layer's β) at the start and at
 * each reset: the fused Sign-In step trains m and v from ∂L/∂w (STR's momentum and weight decay
 * on both) and writes w = m·v; the reset re-splits (m, v) from w on the run's Sign-In schedule.
 * θ and the mask follow from w as without Sign-In. The layer stays a Sign-In layer for the rest
 * of the toolkit: after every write its own factors are re-split from θ with its β, so that
 * θ = mask ⊙ m ⊙ w holds for checkpoints, mergeSignIn and export (docs/sparsify.md).
 */
import { InvalidArgumentError } from '../errors';
import { signinReset, signinStep } from '../signin/kernels';
import { signinFactors } from '../signin/parametrization';
import { resetDueAtEpoch, resetDueAtStep, resolveResetOptions, type ResolvedResetOptions, type SignInResetOptions } from '../signin/schedule';
import type { MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import type { Tensor } from '../tensor/tensor';
import { keysOf, num, options } from '../validate';
import type { SparsifyCallback, SparsifyContext, SparsifyState } from './hooks';
import { layersByName } from './mask-change';

/** When STR re-splits the Sign-In factors of its raw weight: the Sign-In reset schedule's options (β is each layer's own). */
export type StrSignInReset = Omit<SignInResetOptions, 'beta' | 'optimizer'>;

export interface StrOptions {
  /** Initial threshold parameter s (σ(s) is the threshold); default −3200 (the reference's ResNet-50 value). */
  sInit?: number;
  /** SGD momentum for w and s; default 0.875 (reference ResNet-50). */
  momentum?: number;
  /** Weight decay on w and s; default 2.251757813e-05 (reference 90% ResNet-50). */
  weightDecay?: number;
  /**
   * Sign-In layers only: the reset schedule of the raw weight's factors m and v (default: every
   * epoch, momentum kept, as SignInResetSchedule); false: never reset.
   */
  signinReset?: StrSignInReset | false;
}

/** The Sign-In factors of a raw weight w = m ⊙ v, with their momentum and the layer's β. */
interface StrSignIn {
  m: Tensor;
  v: Tensor;
  bufM: Tensor;
  bufV: Tensor;
  beta: number;
}

interface StrLayer {
  w: Tensor;
  /** Momentum of w without Sign-In. */
  bufW?: Tensor;
  signin?: StrSignIn;
  s: number;
  bufS: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export class Str implements SparsifyCallback {
  readonly name = 'str';
  readonly sInit: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** The reset schedule of Sign-In layers' factors; undefined: never reset. */
  readonly signinReset: ResolvedResetOptions | undefined;
  private layers = new Map<string, StrLayer>();
  private steps = 0;
  private resets = 0;

  constructor(opts: StrOptions = {}) {
    const o = options<StrOptions>('options', opts, keysOf<StrOptions>({ sInit: true, momentum: true, weightDecay: true, signinReset: true }));
    this.sInit = num('sInit', o.sInit ?? -3200);
    if (!Number.isFinite(this.sInit)) throw new InvalidArgumentError('sInit', 'finite number', o.sInit);
    this.momentum = num('momentum', o.momentum ?? 0.875, 0, 1);
    this.weightDecay = num('weightDecay', o.weightDecay ?? 2.251757813e-05, 0);
    const r = o.signinReset;
    if (r !== undefined && r !== false && (typeof r !== 'object' || r === null || Array.isArray(r))) {
      throw new InvalidArgumentError('signinReset', 'reset options object or false', r);
    }
    this.signinReset = r === false ? undefined : resolveResetOptions({ ...(r ?? {}), beta: undefined });
  }

  /** The learned thresholds σ(s) by layer. */
  thresholds(): Record<string, number> {
    return Object.fromEntries([...this.layers].map(([n, l]) => [n, sigmoid(l.s)]));
  }

  /**
   * Takes the current (dense) θ of every masked layer as w and writes θ = sign(w)·relu(|w| − σ(s)).
   * A Sign-In layer's w is split into m ⊙ v with the layer's β (w moves by at most a rounding step).
   */
  initialize(model: Module): void {
    for (const [name, layer] of layersByName(model)) {
      const w = noGrad(() => keep(layer.weight.detach().clone()));
      const f = signinFactors(layer);
      const l: StrLayer = { w, s: this.sInit, bufS: 0 };
      if (f) {
        const [m, v, bufM, bufV] = [0, 1, 2, 3].map(() => keep(zerosLike(w)));
        signinReset({ theta: w, m, w: v, beta: f.beta });
        l.signin = { m, v, bufM, bufV, beta: f.beta };
      } else {
        l.bufW = keep(zerosLike(w));
      }
      this.layers.set(name, l);
      this.write(layer, l);
    }
  }

  /** θ = sign(w)·relu(|w| − σ(s)) and mask = θ ≠ 0; a Sign-In layer's own factors are re-split from θ. */
  private write(layer: MaskedLayer, l: StrLayer): void {
    noGrad(() => tidy(() => {
      const theta = l.w.sign().mul(l.w.abs().sub(sigmoid(l.s)).relu());
      layer.setMask(theta.ne(0).to(layer.mask.dtype));
      layer.weight.copy_(theta);
    }));
    const f = signinFactors(layer);
    if (f) signinReset({ theta: layer.weight, m: f.m, w: f.w, mask: layer.mask, beta: f.beta });
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
        if (l.signin) this.stepFactors(l.w, l.signin, ga, lr);
        else {
          const gw = ga.add(l.w.mul(this.weightDecay));
          if (first) l.bufW!.copy_(gw);
          else l.bufW!.mul_(this.momentum).add_(gw);
          l.w.sub_(l.bufW!.mul(lr));
        }
        return -tau * (1 - tau) * sumTerm + this.weightDecay * l.s;
      }));
      l.bufS = first ? gs : this.momentum * l.bufS + gs;
      l.s -= lr * l.bufS;
      this.write(layer, l);
      layer.weight.grad = undefined;
    }
    this.steps++;
  }

  /** The fused Sign-In step of w = m ⊙ v from ∂L/∂w (it writes w = m·v). */
  private stepFactors(w: Tensor, f: StrSignIn, gw: Tensor, lr: number): void {
    const momentum = this.momentum !== 0;
    w.grad = gw;
    try {
      signinStep({
        theta: w, m: f.m, w: f.v, bufM: momentum ? f.bufM : undefined, bufW: momentum ? f.bufV : undefined,
        lr, momentum: this.momentum, weightDecay: this.weightDecay, step: this.steps,
      });
    } finally {
      w.grad = undefined;
    }
  }

  /** Re-splits every Sign-In layer's (m, v) from w with its β, then writes θ and the mask from the new w. */
  resetFactors(model: Module): number {
    let n = 0;
    const zeroMomentum = this.signinReset?.momentum === 'zero';
    for (const [name, layer] of layersByName(model)) {
      const l = this.layers.get(name);
      if (!l?.signin) continue;
      const f = l.signin;
      signinReset({ theta: l.w, m: f.m, w: f.v, beta: f.beta, zeroMomentum, bufM: f.bufM, bufW: f.bufV });
      this.write(layer, l);
      n++;
    }
    if (n > 0) this.resets++;
    return n;
  }

  /** Mean of m² − v² over the raw-weight entries of the Sign-In layers (NaN without any), in float64. */
  innerScaling(): number {
    let sum = 0;
    let count = 0;
    for (const l of this.layers.values()) {
      if (!l.signin) continue;
      const { m, v } = l.signin;
      sum += noGrad(() => tidy(() => m.to('float64').square().sub(v.to('float64').square()).sum().item()));
      count += m.numel;
    }
    return count > 0 ? sum / count : NaN;
  }

  onTrainStart(ctx: SparsifyContext): void {
    if (this.layers.size === 0) this.initialize(ctx.model);
  }

  onAfterBackward(ctx: SparsifyContext): void {
    // STR steps w and s itself: with an inf/NaN gradient (float16) it skips as the optimizer does.
    if (ctx.gradsFinite === false) return;
    this.step(ctx.model, ctx.optimizer.lr);
  }

  onStepEnd(ctx: SparsifyContext): void {
    if (this.signinReset && resetDueAtStep(this.signinReset, ctx.step, ctx.epoch, ctx.stepsPerEpoch)) this.resetFactors(ctx.model);
  }

  onEpochEnd(ctx: SparsifyContext, metrics: Record<string, unknown>): void {
    metrics.strThresholds = this.thresholds();
    const beta = this.innerScaling();
    if (!Number.isNaN(beta)) {
      metrics.strBeta = beta;
      if (this.signinReset && resetDueAtEpoch(this.signinReset, ctx.epoch)) this.resetFactors(ctx.model);
      metrics.strSigninResets = this.resets;
    }
  }

  getState(): SparsifyState {
    const tensors = new Map<string, Tensor>();
    const signin: Record<string, number> = {};
    for (const [n, l] of this.layers) {
      tensors.set(`${n}.w`, l.w);
      if (l.bufW) tensors.set(`${n}.buf_w`, l.bufW);
      if (l.signin) {
        const f = l.signin;
        for (const [k, t] of [['m', f.m], ['v', f.v], ['buf_m', f.bufM], ['buf_v', f.bufV]] as const) tensors.set(`${n}.${k}`, t);
        signin[n] = f.beta;
      }
    }
    return {
      tensors,
      json: { steps: this.steps, resets: this.resets, s: Object.fromEntries([...this.layers].map(([n, l]) => [n, [l.s, l.bufS]])), signin },
    };
  }

  setState(state: SparsifyState): void {
    const j = state.json as { steps?: number; resets?: number; s?: Record<string, [number, number]>; signin?: Record<string, number> } | undefined;
    if (!j?.s || !state.tensors) return;
    const saved = state.tensors;
    const get = (key: string, what: string): Tensor => {
      const t = saved.get(key);
      if (!t) throw new InvalidArgumentError(`state.tensors['${key}']`, `${what} saved by getState`, t);
      return t;
    };
    // Every tensor is looked up before any is copied, so that a bad state leaves nothing behind.
    const found = Object.entries(j.s).map(([n, [s, bufS]]) => {
      const beta = j.signin?.[n];
      const w = get(`${n}.w`, 'the STR raw weight');
      const rest = beta === undefined
        ? [get(`${n}.buf_w`, 'its momentum')]
        : ['m', 'v', 'buf_m', 'buf_v'].map((k) => get(`${n}.${k}`, 'its Sign-In factors and their momentum'));
      return { n, s, bufS, beta, w, rest };
    });
    const copy = (t: Tensor) => noGrad(() => keep(t.clone()));
    const restored = new Map<string, StrLayer>();
    for (const { n, s, bufS, beta, w, rest } of found) {
      const [a, b, c, d] = rest.map(copy);
      restored.set(n, beta === undefined ? { w: copy(w), bufW: a, s, bufS } : { w: copy(w), signin: { m: a, v: b, bufM: c, bufV: d, beta }, s, bufS });
    }
    this.dispose();
    this.layers = restored;
    this.steps = j.steps ?? 0;
    this.resets = j.resets ?? 0;
  }

  /** Frees w, its factors and their momentum. */
  dispose(): void {
    for (const l of this.layers.values()) {
      for (const t of [l.w, l.bufW, l.signin?.m, l.signin?.v, l.signin?.bufM, l.signin?.bufV]) t?.dispose();
    }
    this.layers.clear();
  }
}
