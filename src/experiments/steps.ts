/**
 * Steps per epoch before training starts, and the config fields whose valid values depend on it:
 * IMP's rewind point (an iteration of level 0), RiGL's and SET's deltaT (some mask update must
 * run), and a batch that dataset.dropLast would drop whole. The count comes from the train split's
 * size, read without loading the split where a cheap count exists (a registered dataset's:
 * registration.sizes), so `train --dry-run` and `sweep` refuse these configs before a run
 * directory exists (checkRunnable), and the runner with the same rule before it prunes.
 */
import * as fs from 'node:fs';
import { cifarFiles } from '../data/cifar';
import { idxFiles, readIdxLabels } from '../data/idx';
import { mnistSource } from '../data/mnist';
import { DistributedSampler } from '../data/sampler';
import { createDataset, declaredDatasetSizes } from '../data/registry';
import type { Issue } from '../errors';
import { impPlan, impPlanInput } from '../sparsify/imp-plan';
import { Rigl } from '../sparsify/rigl';
import { bool, int } from '../validate';
import type { ExperimentConfig } from './schema';

const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Bytes of a record of CIFAR's binary files: the label byte(s), then 32 × 32 × 3 pixels. */
const CIFAR_RECORD_BYTES = { cifar10: 1 + 3072, cifar100: 2 + 3072 } as const;

/**
 * The examples of a built-in dataset's train split: MNIST's from its label file's header, CIFAR's
 * from its files' sizes, an ImageFolder's (imagenet) from listing its files, none of them decoded.
 * A registered dataset's is what its registration.sizes states; undefined without them, as it then
 * has no count short of loading it.
 */
export function trainSplitSize(name: string, root: string | undefined): number | undefined {
  switch (name) {
    case 'fashion_mnist':
    case 'mnist': {
      const source = mnistSource(name, root);
      return readIdxLabels(idxFiles(source.root, true, source.fix)[1], source.fix).length;
    }
    case 'cifar10':
    case 'cifar100':
      if (root === undefined) return undefined;
      return cifarFiles(name, root, true).reduce((n, file) => n + Math.floor(fs.statSync(file).size / CIFAR_RECORD_BYTES[name]), 0);
    case 'imagenet':
      return createDataset('imagenet', { root, train: true }).length;
    default:
      return declaredDatasetSizes(name, root)?.train;
  }
}

export interface EpochShape {
  trainSize: number;
  /** The global batch: each process loads batchSize / worldSize. */
  batchSize: number;
  worldSize: number;
  dropLast: boolean;
  maxTrainBatches?: number;
}

/** Each process's shard of the train split, as DistributedSampler cuts it (one process: all of it). */
function shardSize(o: EpochShape): number {
  return new DistributedSampler(o.trainSize, { rank: 0, worldSize: o.worldSize, dropLast: o.dropLast, shuffle: false }).length;
}

/**
 * The batches the runner's train loader yields per epoch: each process's DistributedSampler shard
 * (PyTorch's: padded to equal shards, or cut short with dropLast) in batches of
 * batchSize / worldSize, the last one dropped when incomplete with dropLast, at most
 * maxTrainBatches.
 */
export function stepsPerEpoch(o: EpochShape): number {
  int('trainSize', o.trainSize, 0);
  const worldSize = int('worldSize', o.worldSize, 1);
  const local = int('batchSize / worldSize', o.batchSize / worldSize, 1);
  const dropLast = bool('dropLast', o.dropLast);
  const shard = shardSize(o);
  const batches = dropLast ? Math.floor(shard / local) : Math.ceil(shard / local);
  return o.maxTrainBatches === undefined ? batches : Math.min(batches, int('maxTrainBatches', o.maxTrainBatches, 1));
}

/** Whether a config has a field that stepIssues bounds: only then is the train split counted. */
export function dependsOnStepsPerEpoch(config: ExperimentConfig): boolean {
  const s = config.sparsify;
  return config.dataset.dropLast || s?.method === 'rigl' || s?.method === 'set'
    || (s?.method === 'imp' && (s.rewindIteration !== undefined || s.rewindEpoch !== undefined));
}

/**
 * The fields of a config whose value does not fit its steps per epoch, for a train split of
 * `trainSize` examples and `worldSize` processes, each issue naming the field and the bound.
 * Empty when the world size does not divide the batch: that is refused on its own.
 */
export function stepIssues(config: ExperimentConfig, trainSize: number, worldSize = 1): Issue[] {
  if (config.batchSize % worldSize !== 0) return [];
  const shape: EpochShape = { trainSize, batchSize: config.batchSize, worldSize, dropLast: config.dataset.dropLast, maxTrainBatches: config.dataset.maxTrainBatches };
  const steps = stepsPerEpoch(shape);
  const split = `${count(trainSize, 'training example')}${worldSize > 1 ? ` over ${worldSize} processes` : ''}`;
  if (steps === 0) {
    return [{
      code: 'custom', path: 'batchSize',
      message: `Expected at most ${shardSize(shape) * worldSize} (${split}; with dataset.dropLast a larger batch is dropped whole, every epoch) but received ${config.batchSize}`,
    }];
  }
  const cap = config.dataset.maxTrainBatches !== undefined && steps === config.dataset.maxTrainBatches ? ', dataset.maxTrainBatches' : '';
  const perEpoch = `${count(steps, 'step')} per epoch: ${split}, batch ${config.batchSize}${config.dataset.dropLast ? ', dataset.dropLast' : ''}${cap}`;
  const s = config.sparsify;
  const issues: Issue[] = [];
  if (s?.method === 'imp' && (s.rewindIteration !== undefined || s.rewindEpoch !== undefined)) {
    const { plan } = impPlan(impPlanInput(s), config.epochs);
    const levelSteps = plan && plan.epochsPerLevel * steps;
    // As ImpLevels counts it: an epoch rounded to the nearest iteration (src/sparsify/config.ts).
    const iteration = s.rewindEpoch !== undefined ? Math.round(s.rewindEpoch * steps) : s.rewindIteration!;
    if (plan && levelSteps !== undefined && iteration >= levelSteps) {
      const within = `level 0's ${count(levelSteps, 'iteration')} (${count(plan.epochsPerLevel, 'epoch')} of ${perEpoch})`;
      issues.push(s.rewindEpoch !== undefined
        ? { code: 'custom', path: 'sparsify.rewindEpoch', message: `Expected an epoch that rounds to an iteration below ${levelSteps}, within ${within}, but received ${s.rewindEpoch} (iteration ${iteration})` }
        : { code: 'custom', path: 'sparsify.rewindIteration', message: `Expected an iteration below ${levelSteps}, within ${within}, but received ${iteration}` });
    }
  }
  if (s?.method === 'rigl' || s?.method === 'set') {
    const totalSteps = config.epochs * steps;
    const rigl = new Rigl({ sparsity: s.sparsity, deltaT: s.deltaT, dropFraction: s.dropFraction, stopFraction: s.stopFraction, totalSteps });
    // Updates run after steps deltaT, 2·deltaT, ... below T_end: none when deltaT >= T_end.
    if (rigl.deltaT >= rigl.tEnd) {
      const of = `T_end = ${rigl.tEnd}, stopFraction ${rigl.stopFraction} of the ${count(totalSteps, 'training step')} (${count(config.epochs, 'epoch')} of ${perEpoch})`;
      issues.push(rigl.tEnd < 2
        ? { code: 'custom', path: 'sparsify.stopFraction', message: `Expected a fraction that leaves room for a mask update before ${of}, but received ${rigl.stopFraction}; no mask update would run` }
        : {
          code: 'custom', path: 'sparsify.deltaT',
          message: `Expected at most ${count(rigl.tEnd - 1, 'step')} between mask updates (below ${of}) but received ${rigl.deltaT}${s.deltaT === undefined ? ' (the default: sparsify.deltaT is not set)' : ''}; no mask update would run`,
        });
    }
  }
  return issues;
}
