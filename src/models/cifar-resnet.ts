/**
 * The CIFAR ResNets of He et al. 2016 (sec. 4.2): a 3x3 conv stem with 16 filters, three stages
 * of n basic blocks with 16, 32, 64 filters (stride 2 at the start of stages 2 and 3), global
 * average pooling and a linear classifier; depth = 6n + 2 (ResNet-20/32/44/56/110).
 *
 * Shortcut: by default option B, a 1x1 conv + BatchNorm projection where the shape changes, as in
 * open_lth's cifar_resnet (the Lottery Ticket / Sign-In literature): ResNet-20 then has 272,474
 * parameters with 10 classes. Option A (`shortcut: 'padding'`, the original paper: stride-2
 * subsampling and zero-padded channels, no parameters) gives 269,722.
 *
 * Names follow torchvision (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`), not
 * open_lth (`conv`, `bn`, `blocks.3.shortcut.0`), so every ResNet in the zoo shares one scheme.
 */
import { tidy } from '../tensor/engine';
import * as aten from '../tensor/aten';
import type { Tensor } from '../tensor/tensor';
import { Module } from '../nn/module';
import { MaskedConv2d, MaskedLinear } from '../nn/masked';
import { BatchNorm2d } from '../nn/batchnorm';
import { AdaptiveAvgPool2d } from '../nn/pooling';
import { Sequential } from '../nn/container';
import { InvalidArgumentError } from '../errors';
import { bool, int, obj, oneOf } from '../validate';
import { Model } from './base';
import { BasicBlock, initResNetWeights, projectionShortcut } from './resnet';

export type CifarShortcut = 'projection' | 'padding';

/** He et al.'s letters for the shortcuts: 'B' is 'projection', 'A' is 'padding'. */
export const CIFAR_SHORTCUT_ALIASES: Readonly<Record<string, CifarShortcut>> = { A: 'padding', B: 'projection' };

/** A shortcut name or its letter, as the canonical name. */
export function cifarShortcut(v: 'projection' | 'padding' | 'A' | 'B'): CifarShortcut {
  return CIFAR_SHORTCUT_ALIASES[v] ?? (v as CifarShortcut);
}

export interface CifarResNetOptions {
  /** 6n + 2 with n >= 1: 20, 32, 44, 56, 110, ... */
  depth: number;
  numClasses: number;
  inChannels?: number;
  inputSize?: number;
  /** Filters of the first stage (16 in He et al.); the stages have width, 2·width, 4·width. */
  width?: number;
  /** 'projection' (option B, default) or 'padding' (option A); configs may write 'B' or 'A'. */
  shortcut?: CifarShortcut;
  zeroInitResidual?: boolean;
}

/** He et al.'s option A: x[:, :, ::s, ::s] with the new channels zero-padded half before, half after. */
export class PaddingShortcut extends Module {
  constructor(readonly inPlanes: number, readonly outPlanes: number, readonly stride: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const sub = this.stride === 1 ? x : x.slice(2, 0, undefined, this.stride).slice(3, 0, undefined, this.stride);
      const extra = this.outPlanes - this.inPlanes;
      const before = Math.floor(extra / 2);
      return aten.constant_pad_nd(sub, [0, 0, 0, 0, before, extra - before], 0);
    });
  }

  protected override extraRepr(): string {
    return `${this.inPlanes}, ${this.outPlanes}, stride=${this.stride}`;
  }
}

export class CifarResNet extends Model {
  readonly outputLayerName = 'fc';
  readonly inputShape: readonly number[];
  readonly conv1: MaskedConv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Sequential[] = [];
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: MaskedLinear;

  constructor(options: CifarResNetOptions) {
    super();
    obj('options', options, 'CifarResNet options ({ depth, numClasses, ... })');
    // The bound keeps a junk depth from building millions of blocks (ResNet-1202 is the deepest in use).
    const depth = int('depth', options.depth, 8, 6002);
    if ((depth - 2) % 6 !== 0) throw new InvalidArgumentError('depth', '6n + 2 with n >= 1 (20, 32, 44, 56, 110, ...)', depth);
    const numClasses = int('numClasses', options.numClasses, 1);
    const inChannels = int('inChannels', options.inChannels ?? 3, 1);
    const width = int('width', options.width ?? 16, 1);
    const shortcut = oneOf('shortcut', options.shortcut ?? 'projection', ['projection', 'padding']);
    const size = int('inputSize', options.inputSize ?? 32, 1);
    bool('zeroInitResidual', options.zeroInitResidual ?? false);
    this.inputShape = [inChannels, size, size];
    const n = (depth - 2) / 6;

    this.conv1 = this.registerModule('conv1', new MaskedConv2d(inChannels, width, 3, { padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    let inplanes = width;
    for (let i = 0; i < 3; i++) {
      const planes = width * 2 ** i;
      const blocks: BasicBlock[] = [];
      for (let b = 0; b < n; b++) {
        const stride = i > 0 && b === 0 ? 2 : 1;
        let downsample: Module | undefined;
        if (stride !== 1 || inplanes !== planes) {
          downsample = shortcut === 'projection'
            ? projectionShortcut(inplanes, planes, stride)
            : new PaddingShortcut(inplanes, planes, stride);
        }
        blocks.push(new BasicBlock(inplanes, planes, { stride, downsample }));
        inplanes = planes;
      }
      this.stages.push(this.registerModule(`layer${i + 1}`, new Sequential(...blocks)));
    }
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new MaskedLinear(inplanes, numClasses));
    initResNetWeights(this, options.zeroInitResidual ?? false);
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let out = this.bn1.forward(this.conv1.forward(x)).relu();
      for (const stage of this.stages) out = stage.forward(out);
      return this.fc.forward(this.avgpool.forward(out).flatten(1));
    });
  }
}
