/**
 * DistributedDataParallel for a Module: every rank starts from rank 0's parameters and buffers
 * (masks drawn once, Sign-In factors, BatchNorm statistics), and after backward the gradients are
 * averaged across ranks in flat buckets, so every rank takes the same optimizer step.
 *
 * Gradients are reduced after backward rather than overlapped with it: libtorch's autograd runs
 * backward as one native call here, and c10d's Reducer needs per-parameter hooks registered from
 * C++ on the autograd graph. BatchNorm keeps local batch statistics (as PyTorch DDP does) and,
 * with broadcastBuffers (DDP's default), takes rank 0's running statistics before each forward.
 */
import { ToolkitError } from '../errors';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { zerosLike } from '../tensor/creation';
import type { Tensor } from '../tensor/tensor';
import type { Optimizer } from '../train/callbacks';
import { allReduce, broadcast, getWorldSize, isInitialized } from './process-group';

export interface DistributedDataParallelOptions {
  /** Largest flat gradient bucket in bytes (DDP's bucket_cap_mb; default 25 MiB). */
  bucketBytes?: number;
  /** Copy rank 0's buffers (BatchNorm running statistics) to every rank before each forward. */
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

export class DistributedDataParallel {
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

  private runningStats(): Tensor[] {
    return [...this.module.namedBuffers()].filter(([n]) => RUNNING_STAT.test(n)).map(([, b]) => b);
  }

  forward(x: Tensor): Tensor {
    if (this.broadcastBuffers && this.module.training && getWorldSize() > 1) {
      const stats = this.runningStats();
      if (stats.length > 0) noGrad(() => broadcast(stats, 0));
    }
    return this.module.forward(x);
  }

  /**
   * Averages the gradients of all trainable parameters across ranks (call after backward, before
   * the optimizer step). A parameter without a gradient takes a zero one, so that every rank
   * reduces the same buckets.
   */
  syncGradients(): void {
    if (getWorldSize() === 1) return;
    const params = this.module.parameters().filter((p) => p.requiresGrad);
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

  /**
   * The optimizer for the Trainer: step() averages the gradients across ranks first. (Gradient
   * clipping in the Trainer runs before step() on local gradients: do not combine the two.)
   */
  wrapOptimizer<O extends Optimizer>(optimizer: O): O {
    const sync = () => this.syncGradients();
    return new Proxy(optimizer, {
      get(target, prop, receiver) {
        if (prop === 'step') {
          return () => {
            sync();
            target.step();
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
      set(target, prop, value) {
        return Reflect.set(target, prop, value);
      },
    });
  }
}
