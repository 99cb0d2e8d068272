/**
 * Wide ResNets for CIFAR (Zagoruyko & Komodakis 2016), WRN-d-k: a 3x3 conv stem with 16 filters,
 * three stages of n = (d - 4) / 6 pre-activation basic blocks with 16k, 32k, 64k filters
 * (BN-ReLU-conv3x3-BN-ReLU-[dropout]-conv3x3), a final BN-ReLU, global average pooling and a
 * linear classifier. Where the width or stride changes, the shortcut is a bias-free 1x1 conv
 * applied to the block's pre-activated input (the authors' code). WRN-28-10 has 36,479,194
 * parameters with 10 classes.
 *
 * Names: `conv1`, `layer1.0.bn1`, `layer1.0.conv1`, `layer1.0.bn2`, `layer1.0.conv2`,
 * `layer1.0.shortcut`, `bn1` (final), `fc`.
 * Init (authors' code): convs kaiming-normal fan_out (ReLU), BN 1/0, classifier bias 0.
 */
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { Module } from '../nn/module';
import { MaskedConv2d, MaskedLinear } from '../nn/masked';
import { BatchNorm2d } from '../nn/batchnorm';
import { AdaptiveAvgPool2d } from '../nn/pooling';
import { Dropout, Sequential } from '../nn/container';
import { zeros_ } from '../nn/init';
import { InvalidArgumentError } from '../errors';
import { int, num, obj } from '../validate';
import { Model } from './base';
import { initBatchNorm, initConvKaimingFanOut } from './init';

export interface WideResNetOptions {
  /** 6n + 4 with n >= 1: 16, 22, 28, 40, ... */
  depth: number;
  /** k: the stages have 16k, 32k, 64k filters. */
  widenFactor: number;
  numClasses: number;
  /** Dropout between the two convs of each block (0.3 in the paper's best CIFAR runs); default 0. */
  dropRate?: number;
  inChannels?: number;
  inputSize?: number;
}

/** The pre-activation wide basic block. */
export class WideBasicBlock extends Module {
  readonly bn1: BatchNorm2d;
  readonly conv1: MaskedConv2d;
  readonly bn2: BatchNorm2d;
  readonly dropout: Dropout | undefined;
  readonly conv2: MaskedConv2d;
  readonly shortcut: MaskedConv2d | undefined;

  constructor(inPlanes: number, outPlanes: number, stride: number, dropRate: number) {
    super();
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inPlanes));
    this.conv1 = this.registerModule('conv1', new MaskedConv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outPlanes));
    this.dropout = dropRate > 0 ? this.registerModule('dropout', new Dropout(dropRate)) : undefined;
    this.conv2 = this.registerModule('conv2', new MaskedConv2d(outPlanes, outPlanes, 3, { padding: 1, bias: false }));
    this.shortcut = inPlanes !== outPlanes || stride !== 1
      ? this.registerModule('shortcut', new MaskedConv2d(inPlanes, outPlanes, 1, { stride, bias: false }))
      : undefined;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const pre = this.bn1.forward(x).relu();
      let out = this.bn2.forward(this.conv1.forward(pre)).relu();
      if (this.dropout) out = this.dropout.forward(out);
      out = this.conv2.forward(out);
      return out.add(this.shortcut ? this.shortcut.forward(pre) : x);
    });
  }
}

export class WideResNet extends Model {
  readonly outputLayerName = 'fc';
  readonly inputShape: readonly number[];
  readonly conv1: MaskedConv2d;
  readonly stages: Sequential[] = [];
  readonly bn1: BatchNorm2d;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: MaskedLinear;

  constructor(options: WideResNetOptions) {
    super();
    obj('options', options, 'WideResNet options ({ depth, widenFactor, numClasses, dropRate?, inChannels?, inputSize? })');
    // The bound keeps a junk depth from building millions of blocks (as CifarResNet's).
    const depth = int('depth', options.depth, 10, 6004);
    if ((depth - 4) % 6 !== 0) throw new InvalidArgumentError('depth', '6n + 4 with n >= 1 (16, 22, 28, 40, ...)', depth);
    const k = int('widenFactor', options.widenFactor, 1);
    const numClasses = int('numClasses', options.numClasses, 1);
    const dropRate = num('dropRate', options.dropRate ?? 0, 0, 1);
    const inChannels = int('inChannels', options.inChannels ?? 3, 1);
    const size = int('inputSize', options.inputSize ?? 32, 1);
    this.inputShape = [inChannels, size, size];
    const n = (depth - 4) / 6;
    const widths = [16, 16 * k, 32 * k, 64 * k];

    this.conv1 = this.registerModule('conv1', new MaskedConv2d(inChannels, widths[0], 3, { padding: 1, bias: false }));
    let inPlanes = widths[0];
    for (let i = 0; i < 3; i++) {
      const blocks: WideBasicBlock[] = [];
      for (let b = 0; b < n; b++) {
        blocks.push(new WideBasicBlock(inPlanes, widths[i + 1], i > 0 && b === 0 ? 2 : 1, dropRate));
        inPlanes = widths[i + 1];
      }
      this.stages.push(this.registerModule(`layer${i + 1}`, new Sequential(...blocks)));
    }
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inPlanes));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new MaskedLinear(inPlanes, numClasses));

    for (const [, m] of this.namedModules()) {
      if (m instanceof MaskedConv2d) initConvKaimingFanOut(m);
      else if (m instanceof BatchNorm2d) initBatchNorm(m);
    }
    const bias = this.fc.getParameter('bias');
    if (bias) zeros_(bias);
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let out = this.conv1.forward(x);
      for (const stage of this.stages) out = stage.forward(out);
      out = this.bn1.forward(out).relu();
      return this.fc.forward(this.avgpool.forward(out).flatten(1));
    });
  }
}
