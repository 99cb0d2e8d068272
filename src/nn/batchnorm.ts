/**
 * Batch normalization layers (torch.nn.BatchNorm1d/2d). Keys are PyTorch's and stay registered
 * whatever the options (weight, bias, running_mean, running_var, num_batches_tracked); a disabled
 * one simply holds no tensor and is left out of the state dict. With a BatchNormSync
 * (src/distributed's convertSyncBatchNorm) a layer is torch.nn.SyncBatchNorm.
 */
import { InvalidArgumentError } from '../errors';
import { noGrad } from '../tensor/autograd';
import { ones, zeros } from '../tensor/creation';
import type { Tensor } from '../tensor/tensor';
import { bool, int, keysOf, num, options } from '../validate';
import { batchNorm, checkBatchStatistics, invalidTensorArg, tensorArg } from './functional';
import { Module } from './module';

/**
 * Training-mode batch normalization over the batches of every process of a data-parallel job
 * (SyncBatchNorm). Set on a layer (setSync), it replaces the layer's own batch statistics;
 * src/distributed provides the one over the process group (convertSyncBatchNorm).
 */
export interface BatchNormSync {
  /** Whether there is anything to synchronize now (false: the layer normalizes its own batch). */
  active(): boolean;
  /**
   * The normalized input (differentiable in input, weight and bias) with the statistics of all
   * processes' inputs: their mean, biased variance and number of values per channel.
   */
  forward(input: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, eps: number): { y: Tensor; mean: Tensor; variance: Tensor; count: number };
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

const BATCH_NORM_OPTIONS = keysOf<BatchNormLayerOptions>({ eps: true, momentum: true, affine: true, trackRunningStats: true });

export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  private syncWith: BatchNormSync | undefined;

  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super();
    const o = options<BatchNormLayerOptions>('options', opts, BATCH_NORM_OPTIONS);
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

  /** The synchronization of training statistics, if any (setSync). */
  get sync(): BatchNormSync | undefined {
    return this.syncWith;
  }

  /** Normalizes training batches with `sync` (undefined: with this process's batch alone). */
  setSync(sync: BatchNormSync | undefined): void {
    if (sync !== undefined && (typeof sync !== 'object' || sync === null || typeof sync.active !== 'function' || typeof sync.forward !== 'function')) {
      throw new InvalidArgumentError('sync', 'undefined or a BatchNormSync ({ active(), forward(input, weight, bias, eps) })', sync);
    }
    this.syncWith = sync;
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
    const mean = this.runningMean;
    const variance = this.runningVar;
    const useBatchStats = this.training || (!mean && !variance);
    const sync = this.training ? this.syncWith : undefined;
    const synced = sync?.active() ?? false;
    // Refused before the counter moves, so that a refused batch leaves the layer as it was.
    if (useBatchStats && !synced) checkBatchStatistics(x);
    // As torch.nn.modules.batchnorm._BatchNorm.forward.
    let factor = this.momentum ?? 0;
    const counter = this.numBatchesTracked;
    if (this.training && this.trackRunningStats && counter) {
      noGrad(() => counter.add_(1));
      if (this.momentum === null) factor = 1 / counter.item();
    }
    if (synced) return this.syncedForward(x, sync!, factor);
    const useRunning = !this.training || this.trackRunningStats;
    return batchNorm(x, useRunning ? mean : undefined, useRunning ? variance : undefined, this.weight, this.bias, {
      training: useBatchStats, momentum: factor, eps: this.eps,
    });
  }

  /** Training-mode normalization by `sync`; the running statistics take the global batch's, unbiased as PyTorch's. */
  private syncedForward(x: Tensor, sync: BatchNormSync, factor: number): Tensor {
    const { y, mean, variance, count } = sync.forward(x, this.weight, this.bias, this.eps);
    const runningMean = this.runningMean;
    const runningVar = this.runningVar;
    if (this.trackRunningStats && runningMean && runningVar) {
      noGrad(() => {
        runningMean.mul_(1 - factor).add_(mean, factor);
        runningVar.mul_(1 - factor).add_(variance, (factor * count) / (count - 1));
      });
    }
    return y;
  }

  protected override extraRepr(): string {
    const sync = this.syncWith ? ', sync=true' : '';
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
