/**
 * Sharpness of a trained network: the largest-magnitude eigenvalue of the Hessian of the training
 * loss, by power iteration on Hessian-vector products (double backward, as PyHessian does). The
 * paper's flat-minima claim for Sign-In is a claim about this number.
 *
 * The coordinates are the ones the forward pass uses: θ for masked and Sign-In layers (so plain
 * and Sign-In runs are measured in the same space), restricted to the mask, since pruned entries
 * are not free parameters; biases and BatchNorm affine parameters are included. At a minimum the
 * Hessian is close to positive semi-definite and this is its top eigenvalue.
 */
import { InvalidArgumentError } from '../errors';
import { crossEntropy } from '../nn/functional';
import { maskedLayers } from '../nn/masked';
import { moduleArg, type Module } from '../nn/module';
import { grad } from '../tensor/autograd';
import { randn } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import { Generator } from '../tensor/runtime';
import { Tensor } from '../tensor/tensor';
import { int, list, num, options as optionsArg } from '../validate';

export interface TopEigenOptions {
  /** 0/1 masks per parameter (undefined: dense); Hv and v are kept inside them. */
  masks?: readonly (Tensor | undefined)[];
  /** Most power iterations; default 50. */
  maxIterations?: number;
  /** Stop when successive estimates differ by less than this, relatively; default 1e-3. */
  tol?: number;
  generator?: Generator;
}

export interface TopEigenResult {
  eigenvalue: number;
  iterations: number;
  converged: boolean;
}

/**
 * Power iteration for the Hessian of the mean of `losses` (each a closure computing one batch's
 * scalar loss from `params`).
 */
export function topHessianEigenvalue(params: readonly Tensor[], losses: readonly (() => Tensor)[], options: TopEigenOptions = {}): TopEigenResult {
  list('params', params, 'array of Tensors', (p) => p instanceof Tensor);
  list('losses', losses, 'array of loss closures', (f) => typeof f === 'function');
  optionsArg<TopEigenOptions>('options', options);
  const maxIterations = int('maxIterations', options.maxIterations ?? 50, 1);
  const tol = num('tol', options.tol ?? 1e-3, 0);
  generatorArg(options.generator);
  const masks = options.masks ?? params.map(() => undefined);
  list('masks', masks, `array of ${params.length} masks (a Tensor or undefined per parameter)`, (m) => m === undefined || m instanceof Tensor);
  if (masks.length !== params.length) throw new InvalidArgumentError('masks', `array of ${params.length} masks, one per parameter`, masks);
  if (params.length === 0) throw new InvalidArgumentError('params', 'at least one parameter tensor', params);
  if (losses.length === 0) throw new InvalidArgumentError('losses', 'at least one loss closure', losses);

  let v = normalized(tidy(() => params.map((p, i) => keep(masked(randn(p.shape, { dtype: p.dtype, generator: options.generator }), masks[i])))));
  let estimate = NaN;
  try {
    for (let it = 1; it <= maxIterations; it++) {
      const hv = hessianVector(params, losses, v, masks);
      const next = tidy(() => v.reduce((s, vi, i) => s + (vi.mul(hv[i]).sum().item() as number), 0));
      v.forEach((t) => t.dispose());
      v = normalized(hv);
      const converged = Math.abs(next - estimate) <= tol * Math.abs(next);
      estimate = next;
      if (converged) return { eigenvalue: estimate, iterations: it, converged: true };
    }
    return { eigenvalue: estimate, iterations: maxIterations, converged: false };
  } finally {
    v.forEach((t) => t.dispose());
  }
}

/** The top Hessian eigenvalue of a model's cross-entropy loss over `batches`, in eval mode. */
export function modelTopHessianEigenvalue(model: Module, batches: readonly { x: Tensor; y: Tensor }[], options: Omit<TopEigenOptions, 'masks'> = {}): TopEigenResult {
  moduleArg('model', model);
  list('batches', batches, 'array of batches ({ x, y } Tensors)', (b) => typeof b === 'object' && b !== null);
  batches.forEach((b, i) => {
    if (!(b.x instanceof Tensor) || !(b.y instanceof Tensor)) throw new InvalidArgumentError(`batches[${i}]`, 'a batch { x, y } of Tensors', b);
  });
  optionsArg('options', options);
  const params = model.parameters();
  const maskOf = new Map<Tensor, Tensor>(maskedLayers(model).map(([, layer]) => [layer.weight, layer.mask]));
  const wasTraining = model.training;
  model.eval();
  try {
    const losses = batches.map(({ x, y }) => () => crossEntropy(model.forward(x), y));
    return topHessianEigenvalue(params, losses, { ...options, masks: params.map((p) => maskOf.get(p)) });
  } finally {
    model.train(wasTraining);
  }
}

function generatorArg(g: unknown): void {
  if (g !== undefined && !(g instanceof Generator)) throw new InvalidArgumentError('options.generator', 'Generator', g);
}

function masked(t: Tensor, mask: Tensor | undefined): Tensor {
  return mask ? t.mul(mask) : t;
}

// Mean over the batches of H_b v, each from the gradient of ⟨∇L_b, v⟩.
function hessianVector(params: readonly Tensor[], losses: readonly (() => Tensor)[], v: readonly Tensor[], masks: readonly (Tensor | undefined)[]): Tensor[] {
  return tidy(() => {
    let sum: Tensor[] | undefined;
    for (const loss of losses) {
      const g = grad(loss(), [...params], { createGraph: true, allowUnused: true });
      const gv = g.reduce<Tensor | undefined>((s, gi, i) => (gi ? (s ? s.add(gi.mul(v[i]).sum()) : gi.mul(v[i]).sum()) : s), undefined);
      if (!gv) throw new InvalidArgumentError('losses', 'losses that depend on params', loss);
      const h = grad(gv, [...params], { allowUnused: true }).map((hi, i) => hi ?? params[i].mul(0));
      sum = sum ? sum.map((s, i) => s.add(h[i])) : h;
    }
    return sum!.map((s, i) => keep(masked(s.div(losses.length), masks[i]).detach()));
  });
}

function normalized(vs: Tensor[]): Tensor[] {
  const norm = Math.sqrt(tidy(() => vs.reduce((s, t) => s + (t.square().sum().item() as number), 0)));
  const out = tidy(() => vs.map((t) => keep(norm > 0 ? t.div(norm) : t.clone())));
  vs.forEach((t) => t.dispose());
  return out;
}
