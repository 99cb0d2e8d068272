/**
 * A run's weights evaluated again (`signin-torch evaluate`): the checkpoint a run directory holds
 * at its end or after a kept epoch, or a checkpoint file of the same config, on the test or the
 * training split, with the run's own model, Sign-In, evaluation transforms and batch size: as the
 * run evaluated its test set, so a finished run's last checkpoint gives final.json's accuracy.
 * Launched with torchrun's variables (`evaluate --nproc N`), each rank evaluates its share of the
 * split (each sample in one share) and every rank gets the whole split's result.
 */
import * as fs from 'node:fs';
import type { DataLoader } from '../data';
import { createDataset } from '../data/registry';
import { dataParallelFromEnv, rankPlacement } from '../distributed/data-parallel';
import { recordErrorFile } from '../distributed/error-file';
import { InvalidArgumentError, IssuesError } from '../errors';
import { quoteText } from '../quote';
import type { Model } from '../models';
import { cuda, setNumThreads } from '../tensor/runtime';
import { sparsityStats, type LayerSparsity } from '../sparsify/stats';
import type { Position } from '../train/checkpoint';
import { Trainer, type BatchSource } from '../train/trainer';
import { keysOf, options, str } from '../validate';
import { deviceIssues } from './devices';
import { runPaths } from './paths';
import { modelFromCheckpoint, runCheckpoint, type CheckpointChoice } from './run-checkpoints';
import { evalLoaderFor, resolveDevice } from './runner';
import { readConfig, readMetrics } from './runs';
import type { ExperimentConfig } from './schema';

export const EVAL_SPLITS = ['test', 'train'] as const;
export type EvalSplit = (typeof EVAL_SPLITS)[number];

export interface EvaluateOptions extends CheckpointChoice {
  /** Default 'test'. 'train' is evaluated without augmentation, as the test split is. */
  split?: EvalSplit;
  /** The dataset's root instead of the config's (the data moved). */
  dataRoot?: string;
  /** The device instead of the config's ('cpu', 'cuda', 'cuda:1'). */
  device?: string;
}

const EVALUATE_OPTIONS = keysOf<EvaluateOptions>({ epoch: true, checkpoint: true, split: true, dataRoot: true, device: true });

export interface EvaluateResult {
  runDir: string;
  checkpoint: string;
  /** Where the checkpoint stands in the run (batch: steps into the next epoch, for one written mid-epoch). */
  position: Position;
  split: EvalSplit;
  dataset: string;
  examples: number;
  loss: number;
  top1: number;
  top5: number;
  /** Of every masked layer, from the checkpoint's masks. */
  sparsity: LayerSparsity;
  /** The test top-1 the run recorded at this checkpoint's epoch (its metrics row), when it recorded one and this is the test split. */
  recordedTop1?: number;
  /** The processes whose shares of the split were added up (1 unless launched data-parallel). */
  worldSize: number;
}

/**
 * A model's loss, top-1 and top-5 over a split through the Trainer's evaluation (eval mode, no
 * gradients), with the config's autocast and memory format, as its run evaluated.
 */
export async function evaluateModel(model: Model, source: BatchSource, device: string, config: Pick<ExperimentConfig, 'amp' | 'channelsLast'>): Promise<{ loss: number; top1: number; top5: number }> {
  const trainer = new Trainer({
    model, optimizer: { lr: 0, step() {}, zeroGrad() {}, stateDict: () => new Map(), loadStateDict() {} }, train: source, epochs: 1, lr: () => 0, device,
    amp: config.amp, channelsLast: config.channelsLast,
  });
  // The default criterion counts accuracy: top1 and top5 are set.
  const r = await trainer.evaluate(source);
  return { loss: r.loss, top1: r.top1!, top5: r.top5! };
}

/** What evaluateRun evaluates, every argument checked: a launcher calls it once, before its workers start. */
export function evaluationPlan(runDir: string, opts: EvaluateOptions = {}): {
  config: ExperimentConfig; checkpoint: string; position: Position; split: EvalSplit; dataRoot: string | undefined; asked: string; device: string;
} {
  str('runDir', runDir);
  const o = options<EvaluateOptions>('options', opts, EVALUATE_OPTIONS);
  if (!fs.existsSync(runPaths(runDir).config)) throw new InvalidArgumentError('runDir', 'a run directory (a folder holding config.json)', runDir);
  const split = o.split ?? 'test';
  if (!EVAL_SPLITS.includes(split)) throw new InvalidArgumentError('split', `one of ${EVAL_SPLITS.join(', ')}`, split);
  if (o.dataRoot !== undefined) str('dataRoot', o.dataRoot);
  if (o.device !== undefined) str('device', o.device);
  const config = readConfig(runDir);
  const { file: checkpoint, info: { position } } = runCheckpoint(runDir, o);
  const asked = o.device ?? config.device;
  const unavailable = deviceIssues(asked, cuda.deviceCount());
  if (unavailable.length > 0) throw new IssuesError('ERR_INVALID_ARG', `Cannot evaluate on device ${quoteText(asked)}${o.device === undefined ? ' (the config\'s; pass another)' : ''}`, unavailable);
  return { config, checkpoint, position, split, dataRoot: o.dataRoot ?? config.dataset.root, asked, device: resolveDevice(asked) };
}

/** Evaluates a run directory's checkpoint (see the file comment and EvaluateOptions). */
export async function evaluateRun(runDir: string, opts: EvaluateOptions = {}): Promise<EvaluateResult> {
  const { config, checkpoint, position, split, dataRoot, device: resolved } = evaluationPlan(runDir, opts);
  if (config.threads > 0) setNumThreads(config.threads);
  // As the runner places a rank: a bare 'cuda' is the local rank's GPU.
  const placement = rankPlacement(resolved);
  const dp = dataParallelFromEnv({ backend: placement.backend });
  const device = placement.device;
  try {
    const ds = createDataset(config.dataset.name, { root: dataRoot, train: split === 'train' });
    const model = modelFromCheckpoint(config, checkpoint);
    let loader: DataLoader | undefined;
    try {
      const share = dp.evalSampler(ds.length);
      const count = share?.length ?? ds.length;
      loader = evalLoaderFor(config, ds, share);
      const sparsity = sparsityStats(model).overall;
      if (device !== 'cpu') model.to(device);
      // A rank with no samples (more ranks than samples) adds nothing to the sums.
      const r = dp.reduceEval(count > 0 ? await evaluateModel(model, loader, device, config) : { loss: 0, top1: 0, top5: 0 }, count);
      const row = split === 'test' && !position.batch ? readMetrics(runDir).find((m) => m.epoch === position.epoch && m.step === position.step) : undefined;
      return {
        runDir, checkpoint, position, split, dataset: config.dataset.name, examples: ds.length, ...r, sparsity,
        ...(row?.testAcc === undefined ? {} : { recordedTop1: row.testAcc }), worldSize: dp.worldSize,
      };
    } finally {
      await loader?.close();
      model.dispose();
    }
  } catch (e) {
    // Before the process group closes: the peers fail on that, and a launcher takes the earliest error for the root cause.
    recordErrorFile(e);
    throw e;
  } finally {
    dp.finish();
  }
}
