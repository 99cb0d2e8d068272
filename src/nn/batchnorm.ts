/**
 * Batch normalization layers (torch.nn.BatchNorm1d/2d). Keys are PyTorch's and stay registered
 * whatever the options (weight, bias, running_mean, running_var, num_batches_tracked); a disabled
 * one simply holds no tensor and is left out of the state dict.
 */
import { noGrad } from '../tensor/autograd';
import { ones, zeros } from '../tensor/creation';
import type { Tensor } from '../tensor/tensor';
import { bool, int, num, options } from '../validate';
import { batchNorm, invalidTensorArg, tensorArg } from './functional';
import { Module } from './module';

export interface BatchNormLayerOptions {
  eps?: number;
  /** Weight of each batch in the running averages; null uses a cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Learn a per-channel scale (weight) and shift (bias); default true. */
  affine?: boolean;
  /** Keep running_mean/running_var for eval mode; default true. */
  trackRunningStats?: boolean;
}

export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super();
    const o = options<BatchNormLayerOptions>('options', opts);
    this.numFeatures = int('numFeatures', numFeatures, 1);
    this.eps = num('eps', o.eps ?? 1e-5, 0);
    this.momentum = o.momentum === null ? null : num('momentum', o.momentum ?? 0.1, 0, 1);
    this.affine = bool('affine', o.affine ?? true);
    this.trackRunningStats = bool('trackRunningStats', o.trackRunningStats ?? true);
    this.registerParameter('weight', this.affine ? ones([numFeatures]) : undefined);
    this.registerParameter('bias', this.affine ? zeros([numFeatures]) : undefined);
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros([numFeatures]) : undefined);
    this.registerBuffer('running_var', track ? ones([numFeatures]) : undefined);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'int64' }) : undefined);
  }

  get weight(): Tensor | undefined {
    return this.getParameter('weight');
  }

  get bias(): Tensor | undefined {
    return this.getParameter('bias');
  }

  get runningMean(): Tensor | undefined {
    return this.getBuffer('running_mean');
  }

  get runningVar(): Tensor | undefined {
    return this.getBuffer('running_var');
  }

  get numBatchesTracked(): Tensor | undefined {
    return this.getBuffer('num_batches_tracked');
  }

  /** running_mean = 0, running_var = 1, num_batches_tracked = 0. */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  /** Running stats reset, weight = 1, bias = 0. */
  resetParameters(): void {
    this.resetRunningStats();
    noGrad(() => {
      this.weight?.fill_(1);
      this.bias?.zero_();
    });
  }

  /** The number of dimensions this layer accepts (with the batch dim). */
  protected abstract readonly inputDims: readonly number[];

  forward(x: Tensor): Tensor {
    tensorArg('input', x);
    if (!this.inputDims.includes(x.ndim)) {
      throw invalidTensorArg('input', `a ${this.inputDims.join('-D or ')}-D Tensor`, x);
    }
    if (x.shape[1] !== this.numFeatures) {
      throw invalidTensorArg('input', `${this.numFeatures} channels in dim 1`, x);
    }
    // As torch.nn.modules.batchnorm._BatchNorm.forward.
    let factor = this.momentum ?? 0;
    const counter = this.numBatchesTracked;
    if (this.training && this.trackRunningStats && counter) {
      noGrad(() => counter.add_(1));
      if (this.momentum === null) factor = 1 / counter.item();
    }
    const mean = this.runningMean;
    const variance = this.runningVar;
    const useBatchStats = this.training || (!mean && !variance);
    const useRunning = !this.training || this.trackRunningStats;
    return batchNorm(x, useRunning ? mean : undefined, useRunning ? variance : undefined, this.weight, this.bias, {
      training: useBatchStats, momentum: factor, eps: this.eps,
    });
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Normalizes [N, C] or [N, C, L] over the batch (and length). */
export class BatchNorm1d extends BatchNormBase {
  protected readonly inputDims = [2, 3] as const;
}

/** Normalizes [N, C, H, W] over the batch and spatial dims. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly inputDims = [4] as const;
}
