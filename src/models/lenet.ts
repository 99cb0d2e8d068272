/**
 * LeNet-5 (LeCun et al. 1998) in its modern form, for 28x28 grey images (MNIST, Fashion-MNIST):
 * conv 5x5 (6, padding 2) → ReLU → max-pool 2 → conv 5x5 (16) → ReLU → max-pool 2 → flatten →
 * fc 120 → ReLU → fc 84 → ReLU → fc numClasses. ReLU and max-pooling replace the original tanh
 * and subsampling layers. 61,706 parameters for 1x28x28 inputs and 10 classes; other input sizes
 * change the first fc layer's width (16·s², s = ⌊(⌊inputSize/2⌋ - 4) / 2⌋).
 * Init: PyTorch's layer defaults. Names: conv1, conv2, fc1, fc2, fc3.
 *
 * `batchNorm: true` adds BatchNorm after conv1, conv2, fc1 and fc2 (bn1..bn4): without it, a very
 * sparse LeNet-5 trains slowly, because each sparse layer shrinks the signal by about √density.
 */
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { MaskedConv2d, MaskedLinear } from '../nn/masked';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm';
import { Identity } from '../nn/container';
import type { Module } from '../nn/module';
import { MaxPool2d } from '../nn/pooling';
import { bool, int, obj } from '../validate';
import { Model } from './base';

export interface LeNet5Options {
  numClasses: number;
  inChannels?: number;
  /** At least 12 (the second conv needs a 6x6 map). */
  inputSize?: number;
  /** BatchNorm after each hidden layer (default false: the classic network). */
  batchNorm?: boolean;
}

/** Side of LeNet-5's last feature map for a square input. */
export function lenet5FeatureSize(inputSize: number): number {
  return Math.floor((Math.floor(inputSize / 2) - 4) / 2);
}

export class LeNet5 extends Model {
  readonly outputLayerName = 'fc3';
  readonly inputShape: readonly number[];
  readonly conv1: MaskedConv2d;
  readonly pool: MaxPool2d;
  readonly conv2: MaskedConv2d;
  readonly fc1: MaskedLinear;
  readonly fc2: MaskedLinear;
  readonly fc3: MaskedLinear;
  private readonly norms: Module[];

  constructor(options: LeNet5Options) {
    super();
    obj('options', options, 'LeNet5 options ({ numClasses, inChannels?, inputSize?, batchNorm? })');
    const inChannels = int('inChannels', options.inChannels ?? 1, 1);
    const size = int('inputSize', options.inputSize ?? 28, 12);
    const numClasses = int('numClasses', options.numClasses, 1);
    const batchNorm = bool('batchNorm', options.batchNorm ?? false);
    this.inputShape = [inChannels, size, size];
    const s = lenet5FeatureSize(size);
    this.conv1 = this.registerModule('conv1', new MaskedConv2d(inChannels, 6, 5, { padding: 2 }));
    this.pool = this.registerModule('pool', new MaxPool2d(2, { stride: 2 }));
    this.conv2 = this.registerModule('conv2', new MaskedConv2d(6, 16, 5));
    this.fc1 = this.registerModule('fc1', new MaskedLinear(16 * s * s, 120));
    this.fc2 = this.registerModule('fc2', new MaskedLinear(120, 84));
    this.fc3 = this.registerModule('fc3', new MaskedLinear(84, numClasses));
    const norm = (name: string, make: () => Module): Module => (batchNorm ? this.registerModule(name, make()) : new Identity());
    this.norms = [
      norm('bn1', () => new BatchNorm2d(6)), norm('bn2', () => new BatchNorm2d(16)),
      norm('bn3', () => new BatchNorm1d(120)), norm('bn4', () => new BatchNorm1d(84)),
    ];
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [bn1, bn2, bn3, bn4] = this.norms;
      let out = this.pool.forward(bn1.forward(this.conv1.forward(x)).relu());
      out = this.pool.forward(bn2.forward(this.conv2.forward(out)).relu()).flatten(1);
      out = bn4.forward(this.fc2.forward(bn3.forward(this.fc1.forward(out)).relu())).relu();
      return this.fc3.forward(out);
    });
  }
}
