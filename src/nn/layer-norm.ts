/** Layer normalization (torch.nn.LayerNorm) over the trailing dimensions. */
import * as aten from '../tensor/aten';
import { empty } from '../tensor/creation';
import type { Tensor } from '../tensor/tensor';
import { bool, intList, keysOf, num, options } from '../validate';
import { invalidTensorArg, tensorArg } from './functional';
import { constant_ } from './init';
import { Module } from './module';

/**
 * Normalizes x over its last normalizedShape.length dimensions to mean 0 and variance 1 (biased),
 * then scales by weight and shifts by bias when given (torch.nn.functional.layer_norm).
 */
export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  tensorArg('input', x);
  const shape = intList('normalizedShape', normalizedShape, 1);
  num('eps', eps, 0);
  const tail = x.shape.slice(x.ndim - shape.length);
  if (x.ndim < shape.length || tail.join(',') !== shape.join(',')) {
    throw invalidTensorArg('input', `a Tensor whose last dimensions are [${shape.join(', ')}]`, x);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t !== undefined && tensorArg(name, t).shape.join(',') !== shape.join(',')) {
      throw invalidTensorArg(name, `a Tensor of shape [${shape.join(', ')}]`, t);
    }
  }
  return aten.layer_norm(x, shape, weight, bias, eps, true);
}

export interface LayerNormOptions {
  /** Added to the variance; default 1e-5 (timm's ViTs use 1e-6). */
  eps?: number;
  /** Learn a weight (init 1) and a bias (init 0) of normalizedShape; default true. */
  elementwiseAffine?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;

  constructor(normalizedShape: number | number[], opts: LayerNormOptions = {}) {
    super();
    const o = options<LayerNormOptions>('options', opts, keysOf<LayerNormOptions>({ eps: true, elementwiseAffine: true }));
    this.normalizedShape = intList('normalizedShape', typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape, 1);
    this.eps = num('eps', o.eps ?? 1e-5, 0);
    const affine = bool('elementwiseAffine', o.elementwiseAffine ?? true);
    this.registerParameter('weight', affine ? empty(this.normalizedShape) : undefined);
    this.registerParameter('bias', affine ? empty(this.normalizedShape) : undefined);
    this.resetParameters();
  }

  resetParameters(): void {
    const w = this.getParameter('weight');
    const b = this.getParameter('bias');
    if (w) constant_(w, 1);
    if (b) constant_(b, 0);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.getParameter('weight'), this.getParameter('bias'), this.eps);
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.getParameter('weight') !== undefined}`;
  }
}
