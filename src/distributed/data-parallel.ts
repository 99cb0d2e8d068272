/**
 * What a training loop needs to run data-parallel, as small pieces a runner calls: join the group
 * from torchrun's variables, split the global batch, shard the samples, wrap the model (the
 * Trainer's data-parallel hooks),
 * keep writers (checkpoints, metrics, reports) on rank 0, and combine evaluation over the shards.
 * With WORLD_SIZE unset or 1 every piece is the identity, so a runner calls them unconditionally.
 */
import { InvalidArgumentError, IssuesError, ToolkitError } from '../errors';
import { int, obj } from '../validate';
import { DistributedSampler, ShardSampler, type Sampler } from '../data/sampler';
import type { Module } from '../nn/module';
import { tensor } from '../tensor/creation';
import { cuda } from '../tensor/runtime';
import { DEVICE_PATTERN } from '../tensor/tensor';
import type { Callback, EpochMetrics } from '../train/callbacks';
import { DistributedDataParallel, type DistributedDataParallelOptions } from './ddp';
import { distributedEnv } from './env';
import { srunTaskGpu } from './slurm';
import { allGather, allReduce, availableBackends, destroyProcessGroup, initProcessGroup, isInitialized, type Backend } from './process-group';

export interface EvalSums {
  loss: number;
  top1: number;
  top5: number;
}

export class DataParallelContext {
  ddp: DistributedDataParallel | undefined;

  constructor(readonly rank: number, readonly worldSize: number) {}

  /** Rank 0 writes checkpoints, metrics and reports. */
  get isMain(): boolean {
    return this.rank === 0;
  }

  /** The per-rank batch of a global batch; the global batch must divide evenly. */
  localBatch(globalBatch: number): number {
    if (globalBatch % this.worldSize !== 0) {
      throw new IssuesError('ERR_CONFIG', 'Invalid data-parallel config', [{
        code: 'batch_not_divisible', path: 'batchSize',
        message: `the global batch ${globalBatch} must be a multiple of the world size ${this.worldSize}`,
      }]);
    }
    return globalBatch / this.worldSize;
  }

  /** This rank's shard of n samples (undefined with one process: the loader's own sampler). */
  sampler(n: number, opts: { shuffle: boolean; seed: number; dropLast?: boolean }): Sampler | undefined {
    if (this.worldSize === 1) return undefined;
    return new DistributedSampler(n, { rank: this.rank, worldSize: this.worldSize, ...opts });
  }

  /**
   * This rank's share of an evaluation set of n samples, each sample in one share only (undefined
   * with one process): the Trainer's `shardedEval` combines the shares' sums.
   */
  evalSampler(n: number): Sampler | undefined {
    if (this.worldSize === 1) return undefined;
    return new ShardSampler(n, { rank: this.rank, worldSize: this.worldSize });
  }

  /**
   * Broadcasts rank 0's model state (call after pruning and Sign-In) and returns the DDP that the
   * Trainer takes as `dataParallel`; undefined with one process.
   */
  wrap(model: Module, options: DistributedDataParallelOptions = {}): DistributedDataParallel | undefined {
    if (this.worldSize === 1) return undefined;
    this.ddp = new DistributedDataParallel(model, options);
    return this.ddp;
  }

  /** The callback on rank 0; elsewhere one that keeps its state hooks but writes nothing. */
  mainOnly<C extends Callback>(cb: C): Callback {
    if (this.isMain) return cb;
    return { name: cb.name, getState: cb.getState?.bind(cb), setState: cb.setState?.bind(cb) };
  }

  /** Means over the whole evaluation set from each rank's means over its `count` samples. */
  reduceEval(local: EvalSums, count: number): EvalSums {
    if (this.worldSize === 1) return local;
    const t = tensor([local.loss * count, local.top1 * count, local.top5 * count, count], { dtype: 'float64' });
    try {
      allReduce(t);
      const [loss, top1, top5, n] = t.toArray();
      return { loss: loss / n, top1: top1 / n, top5: top5 / n };
    } finally {
      t.dispose();
    }
  }

  /**
   * An epoch's metrics over the ranks, in place (a collective): the training loss and accuracy the
   * mean of the ranks' (equal shards: the global batch's), `dataSeconds` the longest wait of any
   * rank, since one rank's slow input holds every rank up in the gradients' all-reduce, where the
   * others count it as compute. With one process, unchanged.
   */
  epochMetricsOverRanks(metrics: EpochMetrics): void {
    if (this.worldSize === 1) return;
    const ranks = this.gatherNumbers([metrics.trainLoss, metrics.trainAcc ?? 0, metrics.dataSeconds ?? 0]);
    const mean = (k: number) => ranks.reduce((s, v) => s + v[k], 0) / ranks.length;
    metrics.trainLoss = mean(0);
    if (metrics.trainAcc !== undefined) metrics.trainAcc = mean(1);
    metrics.dataSeconds = Math.max(...ranks.map((v) => v[2]));
  }

  /** Every rank's copy of a few numbers, in rank order (float64: integers exact up to 2^53). */
  gatherNumbers(values: readonly number[]): number[][] {
    if (this.worldSize === 1) return [[...values]];
    const t = tensor([...values], { dtype: 'float64' });
    try {
      return allGather(t).map((g) => {
        try {
          return g.toArray();
        } finally {
          g.dispose();
        }
      });
    } finally {
      t.dispose();
    }
  }

  finish(): void {
    this.ddp?.close();
    if (this.worldSize > 1) destroyProcessGroup();
  }
}

/**
 * This rank's device and default collective backend for a resolved device ('cpu', 'cuda',
 * 'cuda:N'). Launched with several processes, a bare 'cuda' is the local rank's GPU (torchrun
 * scripts' one GPU per process), or cuda:0 in an srun task bound to a GPU of its own (srunTaskGpu,
 * from `machine`: the CUDA devices libtorch sees and the environment), and the backend is NCCL
 * where the addon has it, as PyTorch users pick it for CUDA; Gloo otherwise.
 */
export function rankPlacement(device: string, env = distributedEnv(), machine: { deviceCount?: number; vars?: NodeJS.ProcessEnv } = {}): { device: string; backend: Backend } {
  if (typeof device !== 'string' || !DEVICE_PATTERN.test(device)) {
    throw new InvalidArgumentError('device', "a resolved device: 'cpu', 'cuda' or 'cuda:N'", device);
  }
  if (env !== undefined) {
    obj('env', env, 'torchrun\'s variables as distributedEnv() gives them, or undefined');
    int('env.worldSize', env.worldSize, 1);
    int('env.localRank', env.localRank, 0);
    int('env.localWorldSize', env.localWorldSize, 1);
  }
  obj('machine', machine, '{ deviceCount?, vars? }');
  const onCuda = device.startsWith('cuda');
  const backend: Backend = onCuda && availableBackends().includes('nccl') ? 'nccl' : 'gloo';
  if (device === 'cuda' && env && env.worldSize > 1) {
    const own = srunTaskGpu(machine.vars ?? process.env, int('machine.deviceCount', machine.deviceCount ?? cuda.deviceCount(), 0), env.localWorldSize);
    return { device: own ? 'cuda:0' : `cuda:${env.localRank}`, backend };
  }
  return { device, backend };
}

/**
 * Joins the job's process group when launched distributed (WORLD_SIZE > 1, as torchrun or
 * `signin-torch train --nproc N` set it); a one-process context otherwise.
 */
export function dataParallelFromEnv(options: { backend?: Backend; timeoutMs?: number } = {}): DataParallelContext {
  const env = distributedEnv();
  if (!env || env.worldSize === 1) return new DataParallelContext(0, 1);
  if (isInitialized()) throw new ToolkitError('ERR_DISTRIBUTED', 'dataParallelFromEnv: this process already joined a process group');
  initProcessGroup({ backend: options.backend ?? 'gloo', rank: env.rank, worldSize: env.worldSize, initMethod: 'env://', timeoutMs: options.timeoutMs });
  return new DataParallelContext(env.rank, env.worldSize);
}
