/**
 * VGG with BatchNorm for 32x32 inputs (CIFAR), as in the pruning-at-initialization literature
 * (open_lth cifar_vgg, SynFlow, GraSP): torchvision's convolutional `features` (3x3 convs with
 * bias, BatchNorm, ReLU, five 2x2 max-pools; same indices, so `features.0.weight`,
 * `features.1.running_mean` ... match torchvision's vgg*_bn), then a global average pool and ONE
 * linear classifier `classifier` (512 → numClasses).
 *
 * Classifier choice: torchvision's three-layer 4096-wide head (for 224x224 inputs, 7x7x512
 * features) would add ~120 M parameters to a 32x32 network whose last feature map is 1x1, so we
 * use the single linear layer of the CIFAR pruning papers. The adaptive pool makes inputs larger
 * than 32 (any multiple-of-32 size) work too.
 *
 * Init is torchvision's: convs kaiming-normal fan_out (ReLU) with zero bias, BN 1/0, the
 * classifier N(0, 0.01²) with zero bias.
 */
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import type { Module } from '../nn/module';
import { MaskedConv2d, MaskedLinear } from '../nn/masked';
import { BatchNorm2d } from '../nn/batchnorm';
import { ReLU } from '../nn/activation';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pooling';
import { Sequential } from '../nn/container';
import { InvalidArgumentError } from '../errors';
import { int, obj } from '../validate';
import { Model } from './base';
import { initBatchNorm, initConvKaimingFanOut, initNormal } from './init';

/** Layer plans (torchvision's cfgs A, B, D, E): numbers are conv widths, 'M' a 2x2 max-pool. */
export const VGG_PLANS = {
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const satisfies Record<number, readonly (number | 'M')[]>;

export type VggDepth = keyof typeof VGG_PLANS;
const VGG_DEPTHS = Object.keys(VGG_PLANS).map(Number) as VggDepth[];

export interface VggOptions {
  depth: VggDepth;
  numClasses: number;
  inChannels?: number;
  inputSize?: number;
}

export class Vgg extends Model {
  readonly outputLayerName = 'classifier';
  readonly inputShape: readonly number[];
  readonly features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly classifier: MaskedLinear;

  constructor(options: VggOptions) {
    super();
    obj('options', options, 'Vgg options ({ depth, numClasses, inChannels?, inputSize? })');
    const depth = options.depth;
    if (!VGG_DEPTHS.includes(depth)) throw new InvalidArgumentError('depth', `one of ${VGG_DEPTHS.join(', ')}`, depth);
    const numClasses = int('numClasses', options.numClasses, 1);
    const inChannels = int('inChannels', options.inChannels ?? 3, 1);
    const size = int('inputSize', options.inputSize ?? 32, 1);
    this.inputShape = [inChannels, size, size];
    const layers: Module[] = [];
    let c = inChannels;
    for (const v of VGG_PLANS[depth]) {
      if (v === 'M') {
        layers.push(new MaxPool2d(2, { stride: 2 }));
      } else {
        layers.push(new MaskedConv2d(c, v, 3, { padding: 1 }), new BatchNorm2d(v), new ReLU());
        c = v;
      }
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.classifier = this.registerModule('classifier', new MaskedLinear(c, numClasses));
    for (const [, m] of this.namedModules()) {
      if (m instanceof MaskedConv2d) initConvKaimingFanOut(m);
      else if (m instanceof BatchNorm2d) initBatchNorm(m);
    }
    initNormal(this.classifier, 0.01);
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.classifier.forward(this.avgpool.forward(this.features.forward(x)).flatten(1)));
  }
}
