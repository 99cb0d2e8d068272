/**
 * DistributedDataParallel for a Module: every rank starts from rank 0's parameters and buffers
 * (masks drawn once, Sign-In factors, BatchNorm statistics), and by the end of backward the
 * gradients are averaged across ranks, so every rank takes the same optimizer step. It is the
 * Trainer's `dataParallel` hooks: the average is complete before loss unscaling, the callbacks'
 * onAfterBackward (RiGL, STR) and clipping, which therefore see the global gradient on every rank.
 *
 * By default the average runs during backward, in c10d's Reducer as PyTorch's DDP does: a bucket
 * is all-reduced as soon as its gradients are ready, overlapping the rest of backward. With
 * `overlap: false` the gradients are all-reduced in flat buckets after backward instead.
 * BatchNorm keeps local batch statistics (as PyTorch DDP does); with broadcastBuffers (DDP's
 * default) the running statistics are rank 0's whenever they are used.
 *
 * A loop of one's own: `ddp.forward(x)` (with gradients enabled it arms the reducer), backward,
 * `ddp.syncGradients()` (checks that every bucket was reduced, or reduces them without overlap),
 * the optimizer step.
 */
import { ToolkitError } from '../errors';
import type { Module } from '../nn/module';
import { isGradEnabled, noGrad } from '../tensor/autograd';
import { tensor, zerosLike } from '../tensor/creation';
import { Tensor } from '../tensor/tensor';
import type { DataParallelHooks } from '../train/trainer';
import { bool, func, list, options as optionsArg, int } from '../validate';
import { allReduce, broadcast, getWorldSize, isInitialized } from './process-group';
import { GradientReducer } from './reducer';

export interface DistributedDataParallelOptions {
  /** Largest flat gradient bucket in bytes (DDP's bucket_cap_mb; default 25 MiB). */
  bucketBytes?: number;
  /**
   * Copy rank 0's running statistics (BatchNorm) to every rank: before each training forward()
   * and in syncBuffers() (default true).
   */
  broadcastBuffers?: boolean;
  /**
   * All-reduce the gradients during backward in c10d's Reducer, overlapping communication with
   * backward (default true, as DDP); false: in flat buckets after backward.
   */
  overlap?: boolean;
  /**
   * Some trainable parameters may get no gradient in a step (DDP's find_unused_parameters,
   * default false): the reducer then searches the graph each step and reduces a used-parameter
   * map too. Without it such a step fails with ERR_DISTRIBUTED. Only with overlap.
   */
  findUnusedParameters?: boolean;
}

/** Buffers that change during training without gradients (not masks, not Sign-In factors). */
const RUNNING_STAT = /(^|\.)(running_mean|running_var|num_batches_tracked)$/;

export interface CommStats {
  /** Gradient synchronizations (one per step) and their total wall time after backward: the whole all-reduce without overlap, what backward left to wait for with it. */
  syncs: number;
  allReduceMs: number;
  /** Gradient bytes reduced per sync. */
  bytesPerSync: number;
  /** Buckets the reducer all-reduced during the last backward (0 without overlap). */
  buckets: number;
}

export class DistributedDataParallel implements DataParallelHooks {
  readonly module: Module;
  readonly stats: CommStats = { syncs: 0, allReduceMs: 0, bytesPerSync: 0, buckets: 0 };
  private readonly bucketBytes: number;
  private readonly broadcastBuffers: boolean;
  private readonly reducer: GradientReducer | undefined;
  private syncing = true;

  constructor(module: Module, options: DistributedDataParallelOptions = {}) {
    const o = optionsArg<DistributedDataParallelOptions>('options', options);
    this.bucketBytes = int('options.bucketBytes', o.bucketBytes ?? 25 * 2 ** 20, 1);
    this.broadcastBuffers = bool('options.broadcastBuffers', o.broadcastBuffers ?? true);
    const overlap = bool('options.overlap', o.overlap ?? true);
    const findUnusedParameters = bool('options.findUnusedParameters', o.findUnusedParameters ?? false);
    if (!isInitialized()) {
      throw new ToolkitError('ERR_DISTRIBUTED', 'DistributedDataParallel: no process group; call initProcessGroup() first');
    }
    this.module = module;
    this.syncState();
    if (overlap && getWorldSize() > 1) {
      const named = [...module.namedParameters()].filter(([, p]) => p.requiresGrad);
      this.reducer = new GradientReducer(named.map(([, p]) => p), named.map(([n]) => n), {
        bucketBytes: this.bucketBytes, findUnusedParameters,
      });
      this.stats.bytesPerSync = named.reduce((s, [, p]) => s + p.nbytes, 0);
    }
  }

  /** Frees the reducer (destroyProcessGroup() also does). */
  close(): void {
    this.reducer?.close();
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

  /**
   * Element-wise sums of `values` over the ranks, in float64 (exact for counts and flags): how the
   * Trainer's ranks agree to stop at one step and merge a mid-epoch checkpoint's training sums.
   */
  sumOverRanks(values: readonly number[]): number[] {
    list('values', values, 'array of numbers', (v) => typeof v === 'number');
    if (getWorldSize() === 1) return [...values];
    const t = tensor([...values], { dtype: 'float64' });
    try {
      allReduce(t);
      return t.toArray();
    } finally {
      t.dispose();
    }
  }

  /**
   * The module's forward, after taking rank 0's running statistics in training mode (DDP's
   * broadcast_buffers); with gradients enabled it arms the reducer for the backward that follows.
   */
  forward(x: Tensor): Tensor {
    if (this.module.training) this.syncBuffers();
    const out = this.module.forward(x);
    if (isGradEnabled() && this.syncing) this.prepareBackward(out);
    return out;
  }

  /**
   * Runs `fn` with reduction off (DDP's no_sync), for gradient accumulation in a loop of one's own:
   * forward() inside does not arm the reducer, so the backwards of those micro-batches accumulate
   * their gradients locally, and the next backward outside (or syncGradients() without overlap)
   * reduces their sum with its own.
   */
  noSync<T>(fn: () => T): T {
    func('fn', fn);
    const was = this.syncing;
    this.syncing = false;
    try {
      return fn();
    } finally {
      this.syncing = was;
    }
  }

  /**
   * Arms the reducer for the next backward, from `loss` or the outputs it depends on (searched
   * for unused parameters with findUnusedParameters). The Trainer calls it before each backward;
   * forward() does it for loops of one's own. A no-op without overlap or with one rank.
   */
  prepareBackward(outputs: Tensor | readonly Tensor[]): void {
    if (!this.reducer) return;
    const list = outputs instanceof Tensor ? [outputs] : outputs;
    this.reducer.prepare(list, this.module.parameters().filter((p) => p.requiresGrad));
  }

  /**
   * Call right after backward, before anything reads the gradients. With overlap the reducer has
   * averaged them during backward: this checks that it reduced every bucket (else ERR_DISTRIBUTED
   * names the likely cause). Without, it averages the gradients of the trainable parameters
   * (default: the module's) across ranks; a parameter without a gradient takes a zero one, so that
   * every rank reduces the same buckets.
   */
  syncGradients(parameters: readonly Tensor[] = this.module.parameters()): void {
    list('parameters', parameters, 'array of Tensors', (p) => p instanceof Tensor);
    if (getWorldSize() === 1) return;
    if (this.reducer) {
      const t0 = performance.now();
      this.stats.buckets = this.reducer.finish();
      this.stats.allReduceMs += performance.now() - t0;
      this.stats.syncs++;
      return;
    }
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
    this.stats.bytesPerSync = params.reduce((s, p) => s + p.nbytes, 0);
  }
}
