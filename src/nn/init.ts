/**
 * Parameter initialisation in place (torch.nn.init). Fans and gains follow torch.nn.init exactly,
 * so a layer initialised here has the same distribution as in PyTorch. Every function runs
 * without recording gradients, takes an optional Generator and returns its tensor.
 */
import { noGrad } from '../tensor/autograd';
import * as aten from '../tensor/aten';
import { tensor } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import { keysOf, num, oneOf, options } from '../validate';
import { invalidTensorArg, tensorArg } from './functional';

export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
const NONLINEARITIES: readonly Nonlinearity[] = [
  'linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
  'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu',
];

export type FanMode = 'fan_in' | 'fan_out';

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (oneOf('nonlinearity', nonlinearity, NONLINEARITIES)) {
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param === undefined ? 0.01 : num('param', param);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
    default: return 1;
  }
}

/** fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (tensors of 2+ dims). */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  const shape = tensorArg('tensor', t).shape;
  if (shape.length < 2) {
    throw invalidTensorArg('tensor', 'a Tensor with at least 2 dimensions to compute fans', t);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

function fan(t: Tensor, mode: FanMode): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return oneOf('mode', mode, ['fan_in', 'fan_out']) === 'fan_in' ? fanIn : fanOut;
}

export function uniform_(t: Tensor, a = 0, b = 1, generator?: Generator): Tensor {
  tensorArg('tensor', t);
  num('a', a);
  num('b', b, a);
  return noGrad(() => t.uniform_(a, b, generator));
}

export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  tensorArg('tensor', t);
  num('mean', mean);
  num('std', std, 0);
  return noGrad(() => t.normal_(mean, std, generator));
}

export function constant_(t: Tensor, value: number): Tensor {
  tensorArg('tensor', t);
  num('value', value);
  return noGrad(() => t.fill_(value));
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

export interface KaimingOptions {
  /** The negative slope of leaky_relu (PyTorch layers use √5). Default 0. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

const KAIMING_OPTIONS = keysOf<KaimingOptions>({ a: true, mode: true, nonlinearity: true, generator: true });

/** U(-b, b) with b = gain·√(3 / fan) (He et al. 2015). */
export function kaimingUniform_(t: Tensor, kaiming: KaimingOptions = {}): Tensor {
  const opts = options<KaimingOptions>('options', kaiming, KAIMING_OPTIONS);
  if (tensorArg('tensor', t).numel === 0) return t;
  const f = fan(t, opts.mode ?? 'fan_in');
  const std = calculateGain(opts.nonlinearity ?? 'leaky_relu', num('a', opts.a ?? 0)) / Math.sqrt(f);
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound, opts.generator);
}

/** N(0, std²) with std = gain / √fan. */
export function kaimingNormal_(t: Tensor, kaiming: KaimingOptions = {}): Tensor {
  const opts = options<KaimingOptions>('options', kaiming, KAIMING_OPTIONS);
  if (tensorArg('tensor', t).numel === 0) return t;
  const f = fan(t, opts.mode ?? 'fan_in');
  const std = calculateGain(opts.nonlinearity ?? 'leaky_relu', num('a', opts.a ?? 0)) / Math.sqrt(f);
  return normal_(t, 0, std, opts.generator);
}

export interface XavierOptions {
  gain?: number;
  generator?: Generator;
}

const XAVIER_OPTIONS = keysOf<XavierOptions>({ gain: true, generator: true });

/** U(-a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio 2010). */
export function xavierUniform_(t: Tensor, xavier: XavierOptions = {}): Tensor {
  const opts = options<XavierOptions>('options', xavier, XAVIER_OPTIONS);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const a = num('gain', opts.gain ?? 1, 0) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, opts.generator);
}

/** N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, xavier: XavierOptions = {}): Tensor {
  const opts = options<XavierOptions>('options', xavier, XAVIER_OPTIONS);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const std = num('gain', opts.gain ?? 1, 0) * Math.sqrt(2 / (fanIn + fanOut));
  return normal_(t, 0, std, opts.generator);
}

function normalCdf(x: number): number {
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  return tidy(() => (1 + aten.erf(tensor([x / Math.SQRT2], { dtype: 'float64' })).item()) / 2);
}

/**
 * torch.nn.init.trunc_normal_: N(mean, std²) truncated to [a, b] (absolute bounds), by PyTorch's
 * inverse-CDF method: u ~ U(2Φ(α) − 1, 2Φ(β) − 1), x = mean + std·√2·erfinv(u), clamped to [a, b].
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, generator?: Generator): Tensor {
  tensorArg('tensor', t);
  num('mean', mean);
  num('std', std, 0);
  num('a', a);
  num('b', b, a);
  const lo = normalCdf((a - mean) / std);
  const hi = normalCdf((b - mean) / std);
  return noGrad(() => tidy(() => {
    t.uniform_(2 * lo - 1, 2 * hi - 1, generator);
    const x = aten.erfinv(t).mul(std * Math.SQRT2).add(mean).clamp(a, b);
    t.copy_(x);
    return t;
  }));
}
