/** The weight inits the model zoo uses (torchvision's choices), over src/nn/init. */
import type { Module } from '../nn/module';
import { constant_, kaimingNormal_, normal_, zeros_ } from '../nn/init';

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
