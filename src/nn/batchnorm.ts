/**
 * Batch normalization layers (torch.nn.BatchNorm1d/2d). Keys are PyTorch's and stay registered
 * whatever the options (weight, bias, running_mean, running_var, num_batches_tracked); a disabled
 * one simply holds no tensor and is left out of the state dict. With a statistics reducer
 * (src/distributed's convertSyncBatchNorm) a layer is torch.nn.SyncBatchNorm.
 */
import { InvalidArgumentError, ToolkitError } from '../errors';
import { noGrad } from '../tensor/autograd';
import { full, ones, zeros } from '../tensor/creation';
import { cat } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { bool, int, num, options } from '../validate';
import { batchNorm, invalidTensorArg, tensorArg } from './functional';
import { Module } from './module';

/**
 * Sums per-channel batch statistics over the processes of a data-parallel job. Set on a layer
 * (setStatsReducer), it makes training-mode normalization use the whole global batch's mean and
 * variance: SyncBatchNorm. src/distributed provides the one over the process group.
 */
export interface BatchStatsReducer {
  /** Whether there is anything to sum over now (false: the layer normalizes its own batch). */
  active(): boolean;
  /** The sum of `t` over the processes, same shape; autograd must sum its gradient likewise. */
  sum(t: Tensor): Tensor;
}

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
  private reducer: BatchStatsReducer | undefined;

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

  /** The reducer of synchronized statistics, if any (setStatsReducer). */
  get statsReducer(): BatchStatsReducer | undefined {
    return this.reducer;
  }

  /** Normalizes training batches with statistics summed by `reducer` (undefined: this process's batch alone). */
  setStatsReducer(reducer: BatchStatsReducer | undefined): void {
    if (reducer !== undefined && (typeof reducer !== 'object' || reducer === null || typeof reducer.active !== 'function' || typeof reducer.sum !== 'function')) {
      throw new InvalidArgumentError('reducer', 'undefined or a BatchStatsReducer ({ active(), sum(t) })', reducer);
    }
    this.reducer = reducer;
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
    if (this.training && this.reducer?.active()) return this.syncedForward(x, this.reducer, factor);
    const mean = this.runningMean;
    const variance = this.runningVar;
    const useBatchStats = this.training || (!mean && !variance);
    const useRunning = !this.training || this.trackRunningStats;
    return batchNorm(x, useRunning ? mean : undefined, useRunning ? variance : undefined, this.weight, this.bias, {
      training: useBatchStats, momentum: factor, eps: this.eps,
    });
  }

  /**
   * Training-mode normalization with the statistics of every process's batch together, in two
   * passes over the reducer (the mean, then the squared deviations from it) as one process would
   * compute them over the global batch. The reducer's sums are differentiated through, so each
   * input's gradient includes its effect on the other processes' outputs (PyTorch's SyncBatchNorm
   * all-reduces sum_dy and sum_dy_xmu to the same end). Half-precision inputs are normalized in
   * float32, as libtorch's batch norm computes its statistics.
   */
  private syncedForward(x: Tensor, reducer: BatchStatsReducer, factor: number): Tensor {
    const c = this.numFeatures;
    const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
    const shape = [1, c, ...Array<number>(x.ndim - 2).fill(1)];
    const xf = x.dtype === 'float16' || x.dtype === 'bfloat16' ? x.float() : x;
    const sums = reducer.sum(cat([xf.sum(dims), full([1], x.numel / c, { dtype: xf.dtype, device: x.device })]));
    const count = sums.narrow(0, c, 1).item();
    if (count <= 1) {
      throw new ToolkitError('ERR_INVALID_ARG', `input: expected more than 1 value per channel over all processes when training, got ${count} (this process's input is ${JSON.stringify(x.shape)})`);
    }
    const mean = sums.narrow(0, 0, c).div(count);
    const centered = xf.sub(mean.view(shape));
    const variance = reducer.sum(centered.square().sum(dims)).div(count);
    let y = centered.mul(variance.add(this.eps).rsqrt().view(shape));
    if (this.weight) y = y.mul(this.weight.view(shape));
    if (this.bias) y = y.add(this.bias.view(shape));
    const runningMean = this.runningMean;
    const runningVar = this.runningVar;
    if (this.trackRunningStats && runningMean && runningVar) {
      noGrad(() => {
        runningMean.mul_(1 - factor).add_(mean, factor);
        runningVar.mul_(1 - factor).add_(variance, (factor * count) / (count - 1));
      });
    }
    return y.dtype === x.dtype ? y : y.to(x.dtype);
  }

  protected override extraRepr(): string {
    const sync = this.reducer ? ', syncStats=true' : '';
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}${sync}`;
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
