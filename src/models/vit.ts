/**
 * Vision transformers (Dosovitskiy et al. 2021; DeiT, Touvron et al. 2021) with timm's module
 * layout and state-dict names (`cls_token`, `pos_embed`, `patch_embed.proj.weight`,
 * `blocks.0.norm1.weight`, `blocks.0.attn.qkv.weight`, `blocks.0.attn.proj.weight`,
 * `blocks.0.mlp.fc1.weight`, `norm.weight`, `head.weight`, ...), so timm's
 * vit_*_patch16_224 / deit_*_patch16_224 weights load by name (loadStateDict with strict: false:
 * this model also has the `weight_mask` buffers). Class-token pooling, pre-norm blocks.
 *
 * Every linear (qkv, proj, fc1, fc2, head) is a MaskedLinear and the patch-embedding conv a
 * MaskedConv2d unless maskPatchEmbed is false, so every pruner, layer distribution and Sign-In
 * applies as to a CNN.
 *
 * Init (timm's default): pos_embed ~ trunc_normal(std .02), cls_token ~ N(0, 1e-6²), every
 * linear weight ~ trunc_normal(std .02) with zero bias, LayerNorm 1/0, the patch conv PyTorch's
 * default. Stochastic depth rises linearly from 0 to dropPathRate over the blocks.
 */
import { GELU } from '../nn/gelu';
import { DropPath } from '../nn/drop-path';
import { dropout } from '../nn/functional';
import { normal_, truncNormal_, zeros_ } from '../nn/init';
import { LayerNorm } from '../nn/layer-norm';
import { MaskedLinear } from '../nn/masked';
import { Module } from '../nn/module';
import { MultiHeadAttention } from '../nn/attention';
import { PatchEmbed } from '../nn/patch-embed';
import { Sequential } from '../nn/container';
import { empty } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import { cat } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { int, num, obj } from '../validate';
import { Model } from './base';

export interface VisionTransformerOptions {
  imgSize: number;
  patchSize: number;
  inChannels: number;
  numClasses: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  /** Hidden width of the MLP as a multiple of embedDim; default 4. */
  mlpRatio?: number;
  qkvBias?: boolean;
  /** Dropout after the position embedding, in the MLP and after the attention projection; default 0. */
  dropRate?: number;
  attnDropRate?: number;
  /** Stochastic depth of the last block (linear from 0); default 0. */
  dropPathRate?: number;
  /** Mask the patch-embedding conv (pruners and Sign-In then reach it); default true. */
  maskPatchEmbed?: boolean;
}

/** timm's Mlp: fc1 → GELU → dropout → fc2 → dropout. */
class TransformerMlp extends Module {
  readonly fc1: MaskedLinear;
  readonly act = new GELU();
  readonly fc2: MaskedLinear;

  constructor(dim: number, hidden: number, private readonly drop: number) {
    super();
    this.fc1 = this.registerModule('fc1', new MaskedLinear(dim, hidden));
    this.registerModule('act', this.act);
    this.fc2 = this.registerModule('fc2', new MaskedLinear(hidden, dim));
  }

  forward(x: Tensor): Tensor {
    const on = this.training && this.drop > 0;
    const h = dropout(this.act.forward(this.fc1.forward(x)), this.drop, on);
    return dropout(this.fc2.forward(h), this.drop, on);
  }
}

/** Pre-norm transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))). */
export class TransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly dropPath: DropPath;
  readonly norm2: LayerNorm;
  readonly mlp: TransformerMlp;

  constructor(dim: number, o: { numHeads: number; mlpRatio: number; qkvBias: boolean; dropRate: number; attnDropRate: number; dropPath: number }) {
    super();
    // Each value is checked by the layer it configures.
    obj('options', o, 'TransformerBlock options ({ numHeads, mlpRatio, qkvBias, dropRate, attnDropRate, dropPath })');
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, { eps: 1e-6 }));
    this.attn = this.registerModule('attn', new MultiHeadAttention(dim, {
      numHeads: o.numHeads, qkvBias: o.qkvBias, attnDrop: o.attnDropRate, projDrop: o.dropRate,
    }));
    this.dropPath = this.registerModule('drop_path', new DropPath(o.dropPath));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, { eps: 1e-6 }));
    this.mlp = this.registerModule('mlp', new TransformerMlp(dim, Math.round(dim * o.mlpRatio), o.dropRate));
  }

  forward(x: Tensor): Tensor {
    const y = x.add(this.dropPath.forward(this.attn.forward(this.norm1.forward(x))));
    return y.add(this.dropPath.forward(this.mlp.forward(this.norm2.forward(y))));
  }
}

export class VisionTransformer extends Model {
  readonly outputLayerName = 'head';
  readonly inputShape: readonly number[];
  readonly patchEmbed: PatchEmbed;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly head: MaskedLinear;
  private readonly dropRate: number;

  constructor(o: VisionTransformerOptions) {
    super();
    obj('options', o, 'VisionTransformer options ({ imgSize, patchSize, inChannels, numClasses, embedDim, depth, numHeads, ... })');
    // The bound keeps a junk depth from building millions of blocks (ViT-G has 48).
    const depth = int('depth', o.depth, 1, 1000);
    num('mlpRatio', o.mlpRatio ?? 4, 1 / 64, 64);
    num('dropPathRate', o.dropPathRate ?? 0, 0, 0.999);
    this.inputShape = [o.inChannels, o.imgSize, o.imgSize];
    this.dropRate = num('dropRate', o.dropRate ?? 0, 0, 0.999);
    const dim = o.embedDim;
    this.patchEmbed = this.registerModule('patch_embed', new PatchEmbed({
      imgSize: o.imgSize, patchSize: o.patchSize, inChannels: o.inChannels, embedDim: dim, masked: o.maskPatchEmbed ?? true,
    }));
    this.registerParameter('cls_token', empty([1, 1, dim]));
    this.registerParameter('pos_embed', empty([1, this.patchEmbed.numPatches + 1, dim]));
    const blocks: TransformerBlock[] = [];
    for (let i = 0; i < depth; i++) {
      const dp = depth > 1 ? ((o.dropPathRate ?? 0) * i) / (depth - 1) : 0;
      blocks.push(new TransformerBlock(dim, {
        numHeads: o.numHeads, mlpRatio: o.mlpRatio ?? 4, qkvBias: o.qkvBias ?? true,
        dropRate: this.dropRate, attnDropRate: o.attnDropRate ?? 0, dropPath: dp,
      }));
    }
    this.blocks = this.registerModule('blocks', new Sequential(...blocks));
    this.norm = this.registerModule('norm', new LayerNorm(dim, { eps: 1e-6 }));
    this.head = this.registerModule('head', new MaskedLinear(dim, o.numClasses));
    this.initWeights();
  }

  private initWeights(): void {
    truncNormal_(this.getParameter('pos_embed')!, 0, 0.02);
    normal_(this.getParameter('cls_token')!, 0, 1e-6);
    for (const [, m] of this.namedModules()) {
      if (!(m instanceof MaskedLinear)) continue;
      truncNormal_(m.weight, 0, 0.02);
      if (m.bias) zeros_(m.bias);
    }
  }

  /** The normalized class-token features [B, embedDim] (before the head). */
  forwardFeatures(x: Tensor): Tensor {
    return tidy(() => {
      const tokens = this.patchEmbed.forward(x);
      const cls = this.getParameter('cls_token')!.expand([tokens.shape[0], -1, -1]);
      let h = cat([cls, tokens], 1).add(this.getParameter('pos_embed')!);
      h = dropout(h, this.dropRate, this.training && this.dropRate > 0);
      h = this.blocks.forward(h);
      return this.norm.forward(h).select(1, 0);
    });
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.head.forward(this.forwardFeatures(x)));
  }
}
