/** 2-D pooling layers (torch.nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d). */
import type { Tensor } from '../tensor/tensor';
import { bool, keysOf, options, pair } from '../validate';
import {
  adaptiveAvgPool2d, avgPool2d, maxPool2d, type AvgPool2dOptions, type IntOrPair, type MaxPool2dOptions,
} from './functional';
import { Module } from './module';

export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;

  /** stride defaults to the kernel size. */
  constructor(kernelSize: IntOrPair, opts: MaxPool2dOptions = {}) {
    super();
    const o = options<MaxPool2dOptions>('options', opts, keysOf<MaxPool2dOptions>({ stride: true, padding: true, dilation: true, ceilMode: true }));
    this.kernelSize = pair('kernelSize', kernelSize, 1);
    this.stride = o.stride === undefined ? this.kernelSize : pair('stride', o.stride, 1);
    this.padding = pair('padding', o.padding ?? 0, 0);
    this.dilation = pair('dilation', o.dilation ?? 1, 1);
    this.ceilMode = bool('ceilMode', o.ceilMode ?? false);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, {
      stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode,
    });
  }

  protected override extraRepr(): string {
    return `kernelSize=[${this.kernelSize.join(', ')}], stride=[${this.stride.join(', ')}], padding=[${this.padding.join(', ')}]`;
  }
}

export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  /** stride defaults to the kernel size. */
  constructor(kernelSize: IntOrPair, opts: AvgPool2dOptions = {}) {
    super();
    const o = options<AvgPool2dOptions>('options', opts, keysOf<AvgPool2dOptions>({
      stride: true, padding: true, ceilMode: true, countIncludePad: true,
    }));
    this.kernelSize = pair('kernelSize', kernelSize, 1);
    this.stride = o.stride === undefined ? this.kernelSize : pair('stride', o.stride, 1);
    this.padding = pair('padding', o.padding ?? 0, 0);
    this.ceilMode = bool('ceilMode', o.ceilMode ?? false);
    this.countIncludePad = bool('countIncludePad', o.countIncludePad ?? true);
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad,
    });
  }

  protected override extraRepr(): string {
    return `kernelSize=[${this.kernelSize.join(', ')}], stride=[${this.stride.join(', ')}], padding=[${this.padding.join(', ')}]`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];

  constructor(outputSize: IntOrPair) {
    super();
    this.outputSize = pair('outputSize', outputSize, 1);
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  protected override extraRepr(): string {
    return `outputSize=[${this.outputSize.join(', ')}]`;
  }
}
