/**
 * DistributedDataParallel for a Module: every rank starts from rank 0's parameters and buffers
 * (masks drawn once, Sign-In factors, BatchNorm statistics), and right after backward the gradients
 * are averaged across ranks in flat buckets, so every rank takes the same optimizer step. It is the
 * Trainer's `dataParallel` hooks: the average happens before loss unscaling, the callbacks'
 * onAfterBackward (RiGL, STR) and clipping, which therefore see the global gradient on every rank.
 *
 * Gradients are reduced after backward rather than overlapped with it: libtorch's autograd runs
 * backward as one native call here, and c10d's Reducer needs per-parameter hooks registered from
 * C++ on the autograd graph. BatchNorm keeps local batch statistics (as PyTorch DDP does); with
 * broadcastBuffers (DDP's default) the running statistics are rank 0's whenever they are used.
 */
import { ToolkitError } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import { Tensor } from '../tensor/tensor';
import type { DataParallelHooks } from '../train/trainer';
import { list } from '../validate';
import { allReduce, broadcast, getWorldSize, isInitialized } from './process-group';

export interface DistributedDataParallelOptions {
  /** Largest flat gradient bucket in bytes (DDP's bucket_cap_mb; default 25 MiB). */
  bucketBytes?: number;
  /**
   * Copy rank 0's running statistics (BatchNorm) to every rank: before each training forward()
   * and in syncBuffers() (default true).
   */
  broadcastBuffers?: boolean;
}

/** Buffers that change during training without gradients (not masks, not Sign-In factors). */
const RUNNING_STAT = /(^|\.)(running_mean|running_var|num_batches_tracked)$/;

export interface CommStats {
  /** Gradient all-reduces performed (one per step) and their total wall time. */
  syncs: number;
  allReduceMs: number;
  /** Gradient bytes reduced per sync. */
  bytesPerSync: number;
}

export class DistributedDataParallel implements DataParallelHooks {
  readonly module: Module;
  readonly stats: CommStats = { syncs: 0, allReduceMs: 0, bytesPerSync: 0 };
  private readonly bucketBytes: number;
  private readonly broadcastBuffers: boolean;

  constructor(module: Module, options: DistributedDataParallelOptions = {}) {
    if (!isInitialized()) {
      throw new ToolkitError('ERR_DISTRIBUTED', 'DistributedDataParallel: no process group; call initProcessGroup() first');
    }
    this.module = module;
    this.bucketBytes = options.bucketBytes ?? 25 * 2 ** 20;
    this.broadcastBuffers = options.broadcastBuffers ?? true;
    this.syncState();
  }

  /** Copies rank 0's parameters and every buffer (masks, Sign-In factors, BN stats) to all ranks. */
  syncState(): void {
    const tensors = [...this.module.parameters(), ...[...this.module.namedBuffers()].map(([, b]) => b)];
    noGrad(() => broadcast(tensors, 0));
  }

  /** Grouped by dtype (float statistics, then the int64 counters): one collective per dtype, not two per layer. */
  private runningStats(): Tensor[] {
    const stats = [...this.module.namedBuffers()].filter(([n]) => RUNNING_STAT.test(n)).map(([, b]) => b);
    return stats.sort((a, b) => (a.dtype === b.dtype ? 0 : a.dtype < b.dtype ? -1 : 1));
  }

  /**
   * Copies rank 0's running statistics to every rank (when broadcastBuffers). The Trainer calls it
   * once per epoch, before evaluation and checkpoints, rather than before every forward as
   * forward() does: training-mode BatchNorm normalizes with batch statistics, so the running ones
   * only matter when evaluated or saved, and rank 0's, the broadcast's source, evolve the same
   * either way.
   */
  syncBuffers(): void {
    if (!this.broadcastBuffers || getWorldSize() === 1) return;
    const stats = this.runningStats();
    if (stats.length > 0) noGrad(() => broadcast(stats, 0));
  }

  /** The module's forward, after taking rank 0's running statistics in training mode (DDP's broadcast_buffers). */
  forward(x: Tensor): Tensor {
    if (this.module.training) this.syncBuffers();
    return this.module.forward(x);
  }

  /**
   * Averages the gradients of the trainable parameters (default: the module's) across ranks; call
   * right after backward, before anything reads them. A parameter without a gradient takes a zero
   * one, so that every rank reduces the same buckets.
   */
  syncGradients(parameters: readonly Tensor[] = this.module.parameters()): void {
    list('parameters', parameters, 'array of Tensors', (p) => p instanceof Tensor);
    if (getWorldSize() === 1) return;
    const params = parameters.filter((p) => p.requiresGrad);
    const grads = params.map((p) => {
      const g = p.grad;
      if (g) return g;
      const z = zerosLike(p);
      p.grad = z;
      return z;
    });
    const t0 = performance.now();
    try {
      allReduce(grads, { op: 'avg', bucketBytes: this.bucketBytes });
    } finally {
      for (const g of grads) g.dispose();
    }
    this.stats.allReduceMs += performance.now() - t0;
    this.stats.syncs++;
    this.stats.bytesPerSync = params.reduce((s, p) => s + p.numel * 4, 0);
  }
}
