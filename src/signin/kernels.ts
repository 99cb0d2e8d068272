/**
 * Typed wrappers over the fused Sign-In kernels (architecture.md decision 3): the step, reset
 * and split (native/signin/). The SGD runs the same step for its `signin` entries
 * (./update-kind.ts). Each call is synchronous, runs one pass over the tensors' memory on the CPU
 * (at::parallel_for, vectorized loops) or one CUDA kernel, and writes in place.
 *
 * Conventions (the same in C++ and CUDA; native/signin/signin_kernels.h):
 * - The SGD on m and w is exactly torch.optim.SGD (native/optim/sgd_kernels.h): d = g + λ·p;
 *   buf = d on a tensor's first update (`step` 0), else buf = μ·buf + (1 − dampening)·d;
 *   d = nesterov ? d + μ·buf : buf; p −= lr·d. `step` counts the updates already applied to that
 *   tensor (the optimizer keeps the count); zeroing a buffer (momentum 'zero' at a reset) does
 *   not reset the count.
 * - A mask element ≠ 0 keeps the element, 0 drops it (float masks of the tensor's dtype or bool).
 * - signinStep: g = θ.grad, g_m = w·g and g_w = m·g with the OLD m and w, the SGD above on m and
 *   w (weight decay on m and w), then θ = m·w. Dropped elements: θ = 0, w = 0, both momentum
 *   buffers 0, m unchanged (√β from the split). θ without a gradient: nothing happens (false).
 * - signinReset: m = sqrt((β + sqrt(β² + 4θ²))/2), w = θ/m, so m² − w² = β, then θ = m·w (the
 *   layer invariant, exactly; θ moves by at most a rounding step). Dropped elements: θ = 0,
 *   m = √β, w = 0, buffers 0. zeroMomentum zeroes both buffers.
 * - signinSplitFused: the same formula into new m and w (θ is not written).
 *
 * Errors name the argument ("Expected m with the shape of theta [64, 3, 3, 3] but received
 * [64, 3, 3]"); the TS layer reports disposed tensors by argument name before calling in.
 */
import { InvalidArgumentError } from '../errors';
import { native, type NativeTensor } from '../native';
import { handleOf, optionalHandleOf, sgdHyper, type NativeSgdHyper, type SgdNative } from '../optim/native';
import { Tensor } from '../tensor/tensor';

/** One Sign-In factor pair as the native step takes it. */
export interface NativeSigninEntry {
  theta: NativeTensor;
  m: NativeTensor;
  w: NativeTensor;
  mask?: NativeTensor;
  bufM?: NativeTensor;
  bufW?: NativeTensor;
  /** Updates already applied to this pair (0 on the first step). */
  step?: number;
}

/** The fused functions of the addon (declared here; src/native/binding.ts keeps the core surface). */
export interface FusedNative extends SgdNative {
  signinStep(args: NativeSigninEntry & NativeSgdHyper): boolean;
  signinReset(args: {
    theta: NativeTensor; m: NativeTensor; w: NativeTensor; mask?: NativeTensor; beta?: number; zeroMomentum?: boolean;
    bufM?: NativeTensor; bufW?: NativeTensor;
  }): void;
  signinSplit(args: { theta: NativeTensor; mask?: NativeTensor; beta?: number }): { m: NativeTensor; w: NativeTensor };
}

export function fusedNative(): FusedNative {
  return native() as unknown as FusedNative;
}

/** β, the m² − w² of a split: the one check for every public entry (the kernels trust it). */
export function checkBeta(name: string, beta: unknown): number {
  if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta)) throw new InvalidArgumentError(name, 'finite number > 0', beta);
  return beta;
}

function objectArg<T>(name: string, v: unknown): T {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(name, 'options object', v);
  return v as T;
}

export interface SigninStepArgs {
  theta: Tensor;
  m: Tensor;
  w: Tensor;
  mask?: Tensor;
  /** Momentum buffers of m and w; required when momentum ≠ 0. */
  bufM?: Tensor;
  bufW?: Tensor;
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /**
   * Updates already applied to this pair (0 on the first step: buf = d, as PyTorch). Required
   * when momentum ≠ 0 (the caller keeps the count); ignored otherwise.
   */
  step?: number;
}

/** The live handles of a pair's tensors (a missing or disposed one is named). */
function pairHandles(a: { theta: Tensor; m: Tensor; w: Tensor; mask?: Tensor; bufM?: Tensor; bufW?: Tensor }): Omit<NativeSigninEntry, 'step'> {
  return {
    theta: handleOf('theta', a.theta), m: handleOf('m', a.m), w: handleOf('w', a.w),
    mask: optionalHandleOf('mask', a.mask), bufM: optionalHandleOf('bufM', a.bufM), bufW: optionalHandleOf('bufW', a.bufW),
  };
}

/** One fused Sign-In step on one tensor (see the module comment). False when θ has no gradient. */
export function signinStep(args: SigninStepArgs): boolean {
  const a = objectArg<SigninStepArgs>('args', args);
  return fusedNative().signinStep({ ...pairHandles(a), ...sgdHyper('', a, undefined), step: a.step });
}

export interface SigninResetArgs {
  theta: Tensor;
  m: Tensor;
  w: Tensor;
  mask?: Tensor;
  /** m² − w² after the reset (> 0); default 1. */
  beta?: number;
  /** Zero the momentum buffers (default false: keep them, masked). */
  zeroMomentum?: boolean;
  bufM?: Tensor;
  bufW?: Tensor;
}

/** The Sign-In reset of one tensor, in place (see the module comment). */
export function signinReset(args: SigninResetArgs): void {
  const a = objectArg<SigninResetArgs>('args', args);
  fusedNative().signinReset({ ...pairHandles(a), beta: checkBeta('beta', a.beta ?? 1), zeroMomentum: a.zeroMomentum });
}

/**
 * The Sign-In split of θ into new contiguous m and w (one fused pass; θ is not written):
 * m = sqrt((β + sqrt(β² + 4θ²))/2), w = θ/m; dropped elements m = √β, w = 0.
 */
export function signinSplitFused(args: { theta: Tensor; mask?: Tensor; beta?: number }): { m: Tensor; w: Tensor } {
  const a = objectArg<{ theta: Tensor; mask?: Tensor; beta?: number }>('args', args);
  const theta = handleOf('theta', a.theta);
  const mask = optionalHandleOf('mask', a.mask);
  const r = fusedNative().signinSplit({ theta, mask, beta: checkBeta('beta', a.beta ?? 1) });
  return { m: new Tensor(r.m), w: new Tensor(r.w) };
}
