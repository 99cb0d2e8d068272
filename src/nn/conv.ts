/** 2-D convolution layer (torch.nn.Conv2d). */
import { InvalidArgumentError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { bool, int, keysOf, options, pair } from '../validate';
import { conv2d, type IntOrPair } from './functional';
import { WeightLayer } from './weight-layer';

export interface Conv2dLayerOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  groups?: number;
  /** Learn an additive bias per output channel; default true. */
  bias?: boolean;
}

const CONV_OPTIONS = keysOf<Conv2dLayerOptions>({ stride: true, padding: true, dilation: true, groups: true, bias: true });

export class Conv2d extends WeightLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: IntOrPair, opts: Conv2dLayerOptions = {}) {
    super();
    const o = options<Conv2dLayerOptions>('options', opts, CONV_OPTIONS);
    this.inChannels = int('inChannels', inChannels, 1);
    this.outChannels = int('outChannels', outChannels, 1);
    this.kernelSize = pair('kernelSize', kernelSize, 1);
    this.stride = pair('stride', o.stride ?? 1, 1);
    this.padding = pair('padding', o.padding ?? 0, 0);
    this.dilation = pair('dilation', o.dilation ?? 1, 1);
    this.groups = int('groups', o.groups ?? 1, 1);
    const withBias = bool('bias', o.bias ?? true);
    if (inChannels % this.groups !== 0) {
      throw new InvalidArgumentError('inChannels', `a multiple of groups (${this.groups})`, inChannels);
    }
    if (outChannels % this.groups !== 0) {
      throw new InvalidArgumentError('outChannels', `a multiple of groups (${this.groups})`, outChannels);
    }
    this.initWeightAndBias([outChannels, inChannels / this.groups, ...this.kernelSize], withBias);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups,
    });
  }

  protected override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(', ')}]`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=[${this.stride.join(', ')}]`);
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=[${this.padding.join(', ')}]`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=[${this.dilation.join(', ')}]`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}
