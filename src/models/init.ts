/**
 * The weight inits of the model zoo, over src/nn/init. Each model's own init ('default') follows
 * torchvision: convs Kaiming-normal fan_out (ReLU gain), BatchNorm 1/0, the classifier PyTorch's
 * Linear default (LeNet-5 and the MLP keep PyTorch's layer defaults throughout, VGG's classifier
 * N(0, 0.01²)). The model option `init: 'kaiming_fan_in'` re-initializes every conv and linear
 * weight Kaiming-normal fan_in (ReLU gain, std = √2 / √fan_in) with zero biases, the init of
 * Synaptic-Flow's and open_lth's models, which the pruning-at-initialization literature uses.
 */
import { moduleArg, type Module } from '../nn/module';
import { Conv2d } from '../nn/conv';
import { Linear } from '../nn/linear';
import { constant_, kaimingNormal_, normal_, zeros_ } from '../nn/init';
import { oneOf } from '../validate';

export const INIT_SCHEMES = ['default', 'kaiming_fan_in'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

/** Checks the `init` model option (`path` names it in the error). */
export function initScheme(path: string, value: unknown): InitScheme {
  return oneOf(path, value, INIT_SCHEMES);
}

/** Applies an init scheme to a freshly built model ('default' leaves the model's own init). */
export function applyInitScheme(model: Module, scheme: InitScheme): void {
  moduleArg('model', model);
  if (initScheme('scheme', scheme) === 'default') return;
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof Conv2d) && !(m instanceof Linear)) continue;
    const w = m.getParameter('weight');
    if (w) kaimingNormal_(w, { mode: 'fan_in', nonlinearity: 'relu' });
    const b = m.getParameter('bias');
    if (b) zeros_(b);
  }
}

/** kaiming_normal_(weight, mode='fan_out', nonlinearity='relu'); a bias, if any, zero. */
export function initConvKaimingFanOut(conv: Module): void {
  const w = conv.getParameter('weight');
  if (w) kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' });
  const b = conv.getParameter('bias');
  if (b) zeros_(b);
}

/** BatchNorm weight = `weight` (1 by default), bias = 0 (skipped when affine is off). */
export function initBatchNorm(bn: Module, weight = 1): void {
  const w = bn.getParameter('weight');
  if (w) constant_(w, weight);
  const b = bn.getParameter('bias');
  if (b) zeros_(b);
}

/** weight ~ N(0, std²), bias 0 (torchvision's VGG classifier init). */
export function initNormal(layer: Module, std: number): void {
  const w = layer.getParameter('weight');
  if (w) normal_(w, 0, std);
  const b = layer.getParameter('bias');
  if (b) zeros_(b);
}
