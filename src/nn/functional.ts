/**
 * Functional ops (torch.nn.functional): each validates its arguments, naming them, and then calls
 * one ATen operator through the dispatcher, so autograd records it like any other op.
 */
import { InvalidArgumentError, describeValue } from '../errors';
import * as aten from '../tensor/aten';
import { Tensor } from '../tensor/tensor';
import { bool, int, isInt, keysOf, num, oneOf, options, pair } from '../validate';

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];
/** at::Reduction::Reduction: None = 0, Mean = 1, Sum = 2. */
const REDUCTION_ENUM: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export type IntOrPair = number | [number, number];

/**
 * An InvalidArgumentError whose received part is a description ("a Tensor of shape [2, 3]")
 * rather than a value, for arguments that are tensors of the wrong shape or content.
 */
export function invalidTensorArg(name: string, expected: string, received: string | Tensor): InvalidArgumentError {
  const e = new InvalidArgumentError(name, expected, undefined);
  const old = e.message;
  // The message ends in the description of `undefined`; the received part replaces it.
  e.message = `${old.slice(0, -describeValue(undefined).length)}${describeReceived(received)}`;
  if (e.stack) e.stack = e.stack.replace(old, e.message);
  return e;
}

function describeReceived(received: unknown): string {
  if (typeof received === 'string') return received;
  if (!(received instanceof Tensor)) return describeValue(received);
  return received.isDisposed ? 'a disposed Tensor' : `a Tensor of shape [${received.shape.join(', ')}]`;
}

export function tensorArg(name: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw new InvalidArgumentError(name, 'Tensor', v);
  return v;
}

function optionalTensor(name: string, v: unknown): Tensor | undefined {
  return v === undefined || v === null ? undefined : tensorArg(name, v);
}

function ndimArg(name: string, t: Tensor, allowed: number[]): void {
  if (!allowed.includes(t.ndim)) {
    const what = allowed.length === 1 ? `a ${allowed[0]}-D Tensor` : `a ${allowed.join('-D or ')}-D Tensor`;
    throw invalidTensorArg(name, what, t);
  }
}

const FLOAT_DTYPES: readonly string[] = ['float32', 'float64', 'float16', 'bfloat16'];

/**
 * A classification target: int64 class indices or, where the loss takes them (cross-entropy),
 * class probabilities of the scores' shape. Checked here because libtorch's refusal ("expected
 * scalar type Long but found Float") names neither the argument nor what to pass.
 */
function classTarget(scores: Tensor, target: Tensor, probabilities: boolean): void {
  if (target.dtype === 'int64') return;
  const sameShape = target.ndim === scores.ndim && target.shape.every((d, i) => d === scores.shape[i]);
  if (probabilities && FLOAT_DTYPES.includes(target.dtype) && sameShape) return;
  const indices = `int64 class indices of shape [${scores.shape.filter((_, i) => i !== (scores.ndim > 1 ? 1 : 0)).join(', ')}] (.long())`;
  const expected = probabilities ? `${indices} or floating class probabilities of shape [${scores.shape.join(', ')}]` : indices;
  throw invalidTensorArg('target', expected, `${target.dtype.startsWith('i') ? 'an' : 'a'} ${target.dtype} Tensor of shape [${target.shape.join(', ')}]`);
}

function reductionArg(v: unknown): number {
  return REDUCTION_ENUM[oneOf('reduction', v ?? 'mean', REDUCTIONS)];
}

function dimArg(name: string, v: unknown): number {
  if (!isInt(v)) throw new InvalidArgumentError(name, 'integer', v);
  return v;
}

export interface Conv2dOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  groups?: number;
}

/** 2-D convolution of x [N, C, H, W] (or [C, H, W]) with weight [O, C/groups, kH, kW]. */
const CONV_OPTIONS = keysOf<Conv2dOptions>({ stride: true, padding: true, dilation: true, groups: true });

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, opts: Conv2dOptions = {}): Tensor {
  tensorArg('input', x);
  tensorArg('weight', weight);
  optionalTensor('bias', bias);
  const o = options<Conv2dOptions>('options', opts, CONV_OPTIONS);
  ndimArg('input', x, [3, 4]);
  ndimArg('weight', weight, [4]);
  const stride = pair('stride', o.stride ?? 1, 1);
  const padding = pair('padding', o.padding ?? 0, 0);
  const dilation = pair('dilation', o.dilation ?? 1, 1);
  const groups = int('groups', o.groups ?? 1, 1);
  return aten.conv2d(x, weight, bias, stride, padding, dilation, groups);
}

/** y = x Wᵀ + b, with weight [out, in] and x [..., in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  tensorArg('input', x);
  tensorArg('weight', weight);
  optionalTensor('bias', bias);
  ndimArg('weight', weight, [2]);
  if (x.ndim === 0) throw invalidTensorArg('input', 'a Tensor with at least 1 dimension', x);
  // libtorch's "mat1 and mat2 shapes cannot be multiplied (2x200 and 288x3)" names neither side.
  const inFeatures = weight.shape[1];
  if (x.shape[x.ndim - 1] !== inFeatures) {
    throw invalidTensorArg('input', `a Tensor whose last dimension is the weight's ${inFeatures} input features ([..., ${inFeatures}])`, x);
  }
  return aten.linear(x, weight, bias);
}

export interface BatchNormOptions {
  /** Use batch statistics (and update the running ones when given); default false. */
  training?: boolean;
  /** Weight of the new batch statistic in the running average; default 0.1. */
  momentum?: number;
  eps?: number;
}

const BATCH_NORM_OPTIONS = keysOf<BatchNormOptions>({ training: true, momentum: true, eps: true });

/**
 * Batch normalization over dim 1. In training mode the batch statistics are used and
 * runningMean/runningVar (if given) are updated in place with the unbiased batch variance,
 * exactly like torch.nn.functional.batch_norm.
 */
export function batchNorm(
  x: Tensor, runningMean?: Tensor, runningVar?: Tensor, weight?: Tensor, bias?: Tensor, opts: BatchNormOptions = {},
): Tensor {
  tensorArg('input', x);
  optionalTensor('runningMean', runningMean);
  optionalTensor('runningVar', runningVar);
  optionalTensor('weight', weight);
  optionalTensor('bias', bias);
  const o = options<BatchNormOptions>('options', opts, BATCH_NORM_OPTIONS);
  const training = bool('training', o.training ?? false);
  const momentum = num('momentum', o.momentum ?? 0.1, 0, 1);
  const eps = num('eps', o.eps ?? 1e-5, 0);
  if (x.ndim < 2) throw invalidTensorArg('input', 'a Tensor with at least 2 dimensions [N, C, ...]', x);
  if (training) checkBatchStatistics(x);
  if (!training && (!runningMean || !runningVar)) {
    throw invalidTensorArg('runningMean and runningVar', 'Tensors when training is false', 'undefined');
  }
  return aten.batch_norm(x, weight, bias, runningMean, runningVar, training, momentum, eps, true);
}

/**
 * Batch statistics need more than one value per channel (torch's _verify_batch_size): with one,
 * the unbiased variance that updates running_var is 0/0, and the running statistics would turn
 * NaN without a word.
 */
export function checkBatchStatistics(x: Tensor): void {
  const s = tensorArg('input', x).shape;
  const perChannel = s.reduce((a, d, i) => (i === 1 ? a : a * d), 1);
  if (perChannel === 1) throw invalidTensorArg('input', 'more than 1 value per channel when training (batch statistics)', x);
}

export function relu(x: Tensor): Tensor {
  return aten.relu(tensorArg('input', x));
}

export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: IntOrPair;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceilMode?: boolean;
}

const MAX_POOL_OPTIONS = keysOf<MaxPool2dOptions>({ stride: true, padding: true, dilation: true, ceilMode: true });

export function maxPool2d(x: Tensor, kernelSize: IntOrPair, opts: MaxPool2dOptions = {}): Tensor {
  tensorArg('input', x);
  ndimArg('input', x, [3, 4]);
  const o = options<MaxPool2dOptions>('options', opts, MAX_POOL_OPTIONS);
  const kernel = pair('kernelSize', kernelSize, 1);
  const stride = o.stride === undefined ? kernel : pair('stride', o.stride, 1);
  const padding = pair('padding', o.padding ?? 0, 0);
  const dilation = pair('dilation', o.dilation ?? 1, 1);
  const ceilMode = bool('ceilMode', o.ceilMode ?? false);
  return aten.max_pool2d(x, kernel, stride, padding, dilation, ceilMode);
}

export interface AvgPool2dOptions {
  /** Default: the kernel size. */
  stride?: IntOrPair;
  padding?: IntOrPair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

const AVG_POOL_OPTIONS = keysOf<AvgPool2dOptions>({ stride: true, padding: true, ceilMode: true, countIncludePad: true });

export function avgPool2d(x: Tensor, kernelSize: IntOrPair, opts: AvgPool2dOptions = {}): Tensor {
  tensorArg('input', x);
  ndimArg('input', x, [3, 4]);
  const o = options<AvgPool2dOptions>('options', opts, AVG_POOL_OPTIONS);
  const kernel = pair('kernelSize', kernelSize, 1);
  const stride = o.stride === undefined ? kernel : pair('stride', o.stride, 1);
  const padding = pair('padding', o.padding ?? 0, 0);
  const ceilMode = bool('ceilMode', o.ceilMode ?? false);
  const countIncludePad = bool('countIncludePad', o.countIncludePad ?? true);
  return aten.avg_pool2d(x, kernel, stride, padding, ceilMode, countIncludePad, undefined);
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: IntOrPair): Tensor {
  tensorArg('input', x);
  ndimArg('input', x, [3, 4]);
  return aten.adaptive_avg_pool2d(x, pair('outputSize', outputSize, 1));
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p); identity when not training. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  tensorArg('input', x);
  num('p', p, 0, 1);
  bool('training', training);
  return aten.dropout(x, p, training);
}

/** Tensor.softmax's, whose dim check (in range, not only an integer) both share. */
export function softmax(x: Tensor, dim: number): Tensor {
  return tensorArg('input', x).softmax(dim);
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  return tensorArg('input', x).logSoftmax(dim);
}

export interface CrossEntropyOptions {
  /** Mixes the target with the uniform distribution: (1 - ε)·onehot + ε/C. Default 0. */
  labelSmoothing?: number;
  reduction?: Reduction;
  /** A manual rescaling weight per class [C]. */
  weight?: Tensor;
  /** Targets equal to this class index are ignored (class-index targets only). Default -100. */
  ignoreIndex?: number;
}

const CROSS_ENTROPY_OPTIONS = keysOf<CrossEntropyOptions>({ labelSmoothing: true, reduction: true, weight: true, ignoreIndex: true });

/**
 * Cross-entropy between logits [N, C, ...] and class indices [N, ...] (int64) or class
 * probabilities shaped like the logits, as torch.nn.functional.cross_entropy.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  tensorArg('logits', logits);
  tensorArg('target', target);
  const o = options<CrossEntropyOptions>('options', opts, CROSS_ENTROPY_OPTIONS);
  const labelSmoothing = num('labelSmoothing', o.labelSmoothing ?? 0, 0, 1);
  const reduction = reductionArg(o.reduction);
  const weight = optionalTensor('weight', o.weight);
  const ignoreIndex = int('ignoreIndex', o.ignoreIndex ?? -100);
  if (logits.ndim < 1) throw invalidTensorArg('logits', 'a Tensor with at least 1 dimension', logits);
  classTarget(logits, target, true);
  return aten.cross_entropy_loss(logits, target, weight, reduction, ignoreIndex, labelSmoothing);
}

export interface NllLossOptions {
  reduction?: Reduction;
  weight?: Tensor;
  ignoreIndex?: number;
}

const NLL_LOSS_OPTIONS = keysOf<NllLossOptions>({ reduction: true, weight: true, ignoreIndex: true });

/** Negative log-likelihood of log-probabilities [N, C, ...] at class indices [N, ...]. */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  tensorArg('logProbs', logProbs);
  tensorArg('target', target);
  const o = options<NllLossOptions>('options', opts, NLL_LOSS_OPTIONS);
  const reduction = reductionArg(o.reduction);
  const weight = optionalTensor('weight', o.weight);
  const ignoreIndex = int('ignoreIndex', o.ignoreIndex ?? -100);
  if (logProbs.ndim < 1) throw invalidTensorArg('logProbs', 'a Tensor with at least 1 dimension', logProbs);
  classTarget(logProbs, target, false);
  return aten.nll_loss_nd(logProbs, target, weight, reduction, ignoreIndex);
}

export interface MseLossOptions {
  reduction?: Reduction;
}

const MSE_LOSS_OPTIONS = keysOf<MseLossOptions>({ reduction: true });

/** Mean squared error between two tensors of the same shape. */
export function mseLoss(input: Tensor, target: Tensor, opts: MseLossOptions = {}): Tensor {
  tensorArg('input', input);
  tensorArg('target', target);
  const o = options<MseLossOptions>('options', opts, MSE_LOSS_OPTIONS);
  return aten.mse_loss(input, target, reductionArg(o.reduction));
}

/** Flattens dims startDim..endDim into one (torch.flatten; startDim defaults to 0). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  tensorArg('input', x);
  return aten.flatten(x, dimArg('startDim', startDim), dimArg('endDim', endDim));
}
