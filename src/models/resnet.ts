/**
 * ResNets with torchvision's exact module tree and parameter names (`conv1`, `bn1`,
 * `layer1.0.conv1`, `layer1.0.downsample.0`/`.1`, `fc`), so weights move to and from
 * torchvision.models.resnet18/34/50 by name. Every conv and the classifier are masked layers.
 *
 * - `resnet18/34/50`: torchvision's ImageNet ResNet (7x7 stride-2 stem, 3x3 max-pool, 4 stages,
 *   ResNet v1.5: the bottleneck's stride sits on its 3x3 conv).
 * - `cifar_resnet18/34/50`: the same blocks and names for 32x32 inputs, with a 3x3 stride-1 stem
 *   and no max-pool (the variant of Sign-In's CIFAR-100 ResNet-18, kuangliu/pytorch-cifar style).
 *
 * Init is torchvision's: convs kaiming-normal (fan_out, ReLU gain), BatchNorm weight 1 and bias 0,
 * the classifier PyTorch's Linear default; `zeroInitResidual` zeroes the last BN weight of each block.
 */
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { Module, moduleArg } from '../nn/module';
import { MaskedConv2d, MaskedLinear } from '../nn/masked';
import { BatchNorm2d } from '../nn/batchnorm';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pooling';
import { Sequential } from '../nn/container';
import { InvalidArgumentError } from '../errors';
import { bool, int, isInt, keysOf, list, obj, oneOf, options } from '../validate';
import { Model } from './base';
import { initBatchNorm, initConvKaimingFanOut } from './init';

export interface BlockOptions {
  stride?: number;
  /** The shortcut when shape changes (or undefined for identity). */
  downsample?: Module;
}

function blockOptions(v: unknown): { stride: number; downsample: Module | undefined } {
  const o = options<BlockOptions>('options', v, keysOf<BlockOptions>({ stride: true, downsample: true }));
  return {
    stride: int('stride', o.stride ?? 1, 1),
    downsample: o.downsample === undefined ? undefined : moduleArg('downsample', o.downsample),
  };
}

/** conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU (torchvision.models.resnet.BasicBlock). */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: MaskedConv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: MaskedConv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Module | undefined;

  constructor(inplanes: number, planes: number, options: BlockOptions = {}) {
    super();
    const { stride, downsample } = blockOptions(options);
    this.conv1 = this.registerModule('conv1', new MaskedConv2d(inplanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new MaskedConv2d(planes, planes, 3, { stride: 1, padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : undefined;
  }

  /** The BatchNorm whose weight zeroInitResidual sets to 0. */
  get lastBn(): BatchNorm2d {
    return this.bn2;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return out.add(identity).relu();
    });
  }
}

/** 1x1-3x3-1x1 bottleneck with expansion 4, stride on the 3x3 (torchvision's Bottleneck, v1.5). */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: MaskedConv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: MaskedConv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: MaskedConv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Module | undefined;

  constructor(inplanes: number, planes: number, options: BlockOptions = {}) {
    super();
    const { stride, downsample } = blockOptions(options);
    this.conv1 = this.registerModule('conv1', new MaskedConv2d(inplanes, planes, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new MaskedConv2d(planes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', new MaskedConv2d(planes, planes * 4, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : undefined;
  }

  get lastBn(): BatchNorm2d {
    return this.bn3;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let out = this.bn1.forward(this.conv1.forward(x)).relu();
      out = this.bn2.forward(this.conv2.forward(out)).relu();
      out = this.bn3.forward(this.conv3.forward(out));
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return out.add(identity).relu();
    });
  }
}

export type BlockKind = 'basic' | 'bottleneck';

export interface ResNetOptions {
  block: BlockKind;
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18. */
  layers: readonly number[];
  numClasses: number;
  inChannels?: number;
  inputSize?: number;
  /** 'imagenet': 7x7 stride-2 conv + 3x3 max-pool (torchvision); 'cifar': 3x3 stride-1 conv, no pool. */
  stem?: 'imagenet' | 'cifar';
  /** Channels of the first stage (64 in torchvision); stage i has width * 2^i. */
  width?: number;
  zeroInitResidual?: boolean;
}

type Block = BasicBlock | Bottleneck;

/** The 1x1 conv + BN projection shortcut (torchvision's `downsample`, He et al.'s option B). */
export function projectionShortcut(inplanes: number, outplanes: number, stride: number): Sequential {
  return new Sequential(
    new MaskedConv2d(inplanes, outplanes, 1, { stride, bias: false }),
    new BatchNorm2d(outplanes),
  );
}

/** The shared init: convs kaiming-normal fan_out, BN 1/0; optionally the last BN of each block 0. */
export function initResNetWeights(model: Module, zeroInitResidual: boolean): void {
  for (const [, m] of model.namedModules()) {
    if (m instanceof MaskedConv2d) initConvKaimingFanOut(m);
    else if (m instanceof BatchNorm2d) initBatchNorm(m);
  }
  if (zeroInitResidual) {
    for (const [, m] of model.namedModules()) {
      if (m instanceof BasicBlock || m instanceof Bottleneck) initBatchNorm(m.lastBn, 0);
    }
  }
}

/** Bounds of ResNetOptions.layers: torchvision's ResNets have 4 stages of at most 36 blocks. */
const MAX_STAGES = 8;
const MAX_BLOCKS_PER_STAGE = 1000;

/** torchvision.models.resnet.ResNet (and its CIFAR-stem variant), masked. */
export class ResNet extends Model {
  readonly outputLayerName = 'fc';
  readonly inputShape: readonly number[];
  readonly conv1: MaskedConv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d | undefined;
  readonly stages: Sequential[] = [];
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: MaskedLinear;

  constructor(options: ResNetOptions) {
    super();
    obj('options', options, 'ResNet options ({ block, layers, numClasses, ... })');
    const block = oneOf('block', options.block, ['basic', 'bottleneck']);
    // The bounds keep junk from building millions of blocks (ResNet-152's deepest stage has 36).
    const layers = list<number>('layers', options.layers, `array of 1 to ${MAX_STAGES} block counts, integers in [1, ${MAX_BLOCKS_PER_STAGE}]`,
      (n) => isInt(n) && n >= 1 && n <= MAX_BLOCKS_PER_STAGE);
    if (layers.length < 1 || layers.length > MAX_STAGES) {
      throw new InvalidArgumentError('layers', `array of 1 to ${MAX_STAGES} block counts`, layers);
    }
    const numClasses = int('numClasses', options.numClasses, 1);
    const inChannels = int('inChannels', options.inChannels ?? 3, 1);
    const stem = oneOf('stem', options.stem ?? 'imagenet', ['imagenet', 'cifar']);
    const width = int('width', options.width ?? 64, 1);
    const size = int('inputSize', options.inputSize ?? (stem === 'imagenet' ? 224 : 32), 1);
    const zeroInitResidual = bool('zeroInitResidual', options.zeroInitResidual ?? false);
    this.inputShape = [inChannels, size, size];
    const BlockClass = block === 'basic' ? BasicBlock : Bottleneck;
    const expansion = BlockClass.expansion;

    this.conv1 = this.registerModule('conv1', stem === 'imagenet'
      ? new MaskedConv2d(inChannels, width, 7, { stride: 2, padding: 3, bias: false })
      : new MaskedConv2d(inChannels, width, 3, { stride: 1, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.maxpool = stem === 'imagenet' ? this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 })) : undefined;

    let inplanes = width;
    layers.forEach((numBlocks, i) => {
      const planes = width * 2 ** i;
      const stride = i === 0 ? 1 : 2;
      const blocks: Block[] = [];
      for (let b = 0; b < numBlocks; b++) {
        const s = b === 0 ? stride : 1;
        const downsample = b === 0 && (s !== 1 || inplanes !== planes * expansion)
          ? projectionShortcut(inplanes, planes * expansion, s) : undefined;
        blocks.push(new BlockClass(inplanes, planes, { stride: s, downsample }));
        inplanes = planes * expansion;
      }
      this.stages.push(this.registerModule(`layer${i + 1}`, new Sequential(...blocks)));
    });
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new MaskedLinear(inplanes, numClasses));
    initResNetWeights(this, zeroInitResidual);
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let out = this.bn1.forward(this.conv1.forward(x)).relu();
      if (this.maxpool) out = this.maxpool.forward(out);
      for (const stage of this.stages) out = stage.forward(out);
      return this.fc.forward(this.avgpool.forward(out).flatten(1));
    });
  }
}

/** Blocks per stage of torchvision's ResNets. */
export const RESNET_LAYERS = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
} as const satisfies Record<number, { block: BlockKind; layers: readonly number[] }>;

export type ResNetDepth = keyof typeof RESNET_LAYERS;
