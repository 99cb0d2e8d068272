/**
 * timm's PatchEmbed: a conv with kernel = stride = patch size cuts the image into patches and
 * projects each to embedDim; the output is [B, numPatches, embedDim]. The conv (`proj`) is a
 * MaskedConv2d when `masked` (pruners and Sign-In then reach it), a plain Conv2d otherwise.
 */
import { InvalidArgumentError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { bool, int, keysOf, options } from '../validate';
import { Conv2d } from './conv';
import { invalidTensorArg, tensorArg } from './functional';
import { MaskedConv2d } from './masked';
import { Module } from './module';

export interface PatchEmbedOptions {
  imgSize: number;
  patchSize: number;
  inChannels: number;
  embedDim: number;
  /** Mask the projection conv; default true. */
  masked?: boolean;
}

export class PatchEmbed extends Module {
  readonly imgSize: number;
  readonly patchSize: number;
  readonly gridSize: number;
  readonly proj: Conv2d;

  constructor(opts: PatchEmbedOptions) {
    super();
    const o = options<PatchEmbedOptions>('options', opts, keysOf<PatchEmbedOptions>({
      imgSize: true, patchSize: true, inChannels: true, embedDim: true, masked: true,
    }));
    this.imgSize = int('imgSize', o.imgSize, 1);
    this.patchSize = int('patchSize', o.patchSize, 1);
    if (this.imgSize % this.patchSize !== 0) {
      throw new InvalidArgumentError('patchSize', `a divisor of imgSize (${this.imgSize})`, this.patchSize);
    }
    this.gridSize = this.imgSize / this.patchSize;
    const inChannels = int('inChannels', o.inChannels, 1);
    const embedDim = int('embedDim', o.embedDim, 1);
    const Layer = bool('masked', o.masked ?? true) ? MaskedConv2d : Conv2d;
    this.proj = this.registerModule('proj', new Layer(inChannels, embedDim, this.patchSize, { stride: this.patchSize }));
  }

  get numPatches(): number {
    return this.gridSize * this.gridSize;
  }

  forward(x: Tensor): Tensor {
    tensorArg('input', x);
    const s = this.imgSize;
    if (x.ndim !== 4 || x.shape[1] !== this.proj.inChannels || x.shape[2] !== s || x.shape[3] !== s) {
      throw invalidTensorArg('input', `a Tensor [B, ${this.proj.inChannels}, ${s}, ${s}]`, x);
    }
    return this.proj.forward(x).flatten(2).transpose(1, 2);
  }
}
