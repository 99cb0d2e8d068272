/**
 * `--evaluate` of the ImageNet example (pytorch/examples' imagenet/main.py -e): the weights of a
 * run directory's checkpoint (or of a checkpoint file given with --resume) evaluated on val/,
 * top-1 and top-5, with the run's own config (model, Sign-In, image size, device). Data-parallel
 * when launched with several workers: each rank evaluates its shard and the means are combined,
 * weighted by the shards' sizes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataLoader, ShardSampler } from '../../src/data';
import { createDataset } from '../../src/data/registry';
import { dataParallelFromEnv, rankPlacement, type EvalSums } from '../../src/distributed';
import { recordErrorFile } from '../../src/distributed/error-file';
import { ToolkitError } from '../../src/errors';
import { evaluateModel } from '../../src/experiments/evaluate';
import { modelFromCheckpoint } from '../../src/experiments/run-checkpoints';
import { transformsFor } from '../../src/experiments/resolve';
import { resolveDevice } from '../../src/experiments/runner';
import type { ExperimentConfig } from '../../src/experiments/schema';
import { setNumThreads } from '../../src';

export interface EvalOutcome {
  top1: number;
  top5: number;
  loss: number;
  images: number;
  checkpoint: string;
}

/** The newest checkpoint of a run directory, or the file itself. */
export function checkpointFile(runDirOrFile: string): string {
  if (fs.statSync(runDirOrFile, { throwIfNoEntry: false })?.isFile()) return runDirOrFile;
  for (const name of ['checkpoint.safetensors', 'checkpoint.prev.safetensors']) {
    const f = path.join(runDirOrFile, name);
    if (fs.existsSync(f)) return f;
  }
  throw new ToolkitError('ERR_INVALID_ARG', `no checkpoint in ${runDirOrFile}: train first, or give a checkpoint file with --resume`);
}

export async function evaluateCheckpoint(config: ExperimentConfig, checkpoint: string): Promise<EvalOutcome> {
  const dp = dataParallelFromEnv();
  try {
    if (config.threads > 0) setNumThreads(config.threads);
    // As the runner places a rank: a bare 'cuda' is the local rank's GPU.
    const { device } = rankPlacement(resolveDevice(config.device));
    const model = modelFromCheckpoint(config, checkpoint);
    if (device !== 'cpu') model.to(device);
    const ds = createDataset('imagenet', { root: config.dataset.root, train: false });
    const batchSize = Math.max(1, Math.floor(Math.max(config.batchSize, 256) / dp.worldSize));
    const shard = new ShardSampler(ds.length, { rank: dp.rank, worldSize: dp.worldSize });
    const loader = new DataLoader(ds, {
      batchSize, transforms: transformsFor(config, false), numWorkers: config.dataset.workers ?? 2, persistentWorkers: true, sampler: shard,
    });
    try {
      // A rank with no images (fewer than the workers) adds nothing to the sums.
      const local: EvalSums = shard.length > 0 ? await evaluateModel(model, loader, device, config) : { loss: 0, top1: 0, top5: 0 };
      const mean = dp.reduceEval(local, shard.length);
      return { ...mean, images: ds.length, checkpoint };
    } finally {
      await loader.close();
      model.dispose();
    }
  } catch (e) {
    // Before the process group closes: the peers fail on that, and the launcher takes the earliest error for the root cause.
    recordErrorFile(e);
    throw e;
  } finally {
    dp.finish();
  }
}
