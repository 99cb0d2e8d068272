/** Small derivations from a config that the trainer and the CLI share. */
import { augmentTransforms, centerCrop, defaultTransforms, MEAN_STD, normalize, randomHorizontalFlip, randomResizedCrop, resize, toTensor, type Transform } from '../data';
import type { PruneOptions, PrunerName } from '../pruning';
import type { ApplySignInOptions } from '../signin';
import { InvalidArgumentError } from '../errors';
import { impPlan, impPlanInput } from '../sparsify/imp-plan';
import { LEVEL_METHODS } from '../sparsify/methods';
import { createSchedule, type LrSchedule } from '../train/schedule';
import { datasetInfo, parsedConfigArg, type DatasetInfo, type ExperimentConfig } from './schema';

/**
 * The learning rate as a function of fractional epoch (warm-up + cosine/step/constant). IMP and
 * LRR restart it every level: the schedule spans epochsPerLevel and level L's epoch t reads it
 * at t − L · epochsPerLevel.
 */
export function scheduleFor(config: ExperimentConfig): LrSchedule {
  config = parsedConfigArg('config', config);
  const s = config.sparsify;
  const plan = s && LEVEL_METHODS.includes(s.method) ? impPlan(impPlanInput(s), config.epochs).plan : undefined;
  const schedule = createSchedule({ ...config.schedule, lr: config.optimizer.lr, epochs: plan?.epochsPerLevel ?? config.epochs });
  if (!plan) return schedule;
  const { epochsPerLevel: e, levels } = plan;
  return (t) => schedule(t - e * Math.min(Math.floor(t / e), levels - 1));
}

/** applySignIn's options for a config's signin section: its layers, and β per layer (layerBeta, else beta). */
export function signInOptionsFor(config: ExperimentConfig): ApplySignInOptions {
  config = parsedConfigArg('config', config);
  const { beta, layerBeta, layers } = config.signin;
  return {
    beta: layerBeta ? (name: string) => (Object.hasOwn(layerBeta, name) ? layerBeta[name] : beta) : beta,
    ...(layers ? { layers } : {}),
  };
}

/**
 * createModel options: the dataset's classes, channels and input size (DATASET_INFO; a registered
 * dataset has none, config.model.options give them), then config.model.options.
 */
export function modelOptionsFor(config: ExperimentConfig): Partial<DatasetInfo> & Record<string, unknown> {
  config = parsedConfigArg('config', config);
  const size = config.dataset.imageSize;
  return { ...datasetInfo(config.dataset.name), ...(size !== undefined ? { inputSize: size } : {}), ...config.model.options };
}

/**
 * The data transforms of a config: the dataset's defaultTransforms, except for ImageNet with
 * dataset.imageSize, where the crops take that size (randomResizedCrop(s) + flip to train,
 * resize(round(s * 256 / 224)) + centerCrop(s) to evaluate), and an augment object (crop and
 * flip, then the dataset's normalization). augment: pass `train && config.dataset.augment`.
 */
export function transformsFor(config: ExperimentConfig, augment: ExperimentConfig['dataset']['augment']): Transform[] {
  config = parsedConfigArg('config', config);
  if (typeof augment !== 'boolean' && (typeof augment !== 'object' || augment === null)) throw new InvalidArgumentError('augment', 'boolean or augment options object', augment);
  const { name, imageSize } = config.dataset;
  if (typeof augment === 'object') {
    const info = datasetInfo(name);
    if (!info) throw new InvalidArgumentError('dataset.augment', `crop/flip only for a dataset with a known input size (${name} has none)`, augment);
    return [...augmentTransforms(info.inputSize, augment), ...defaultTransforms(name, false)];
  }
  if (name !== 'imagenet' || imageSize === undefined) return defaultTransforms(name, augment);
  const { mean, std } = MEAN_STD[name];
  const norm = [toTensor(), normalize(mean, std)];
  return augment
    ? [randomResizedCrop(imageSize), randomHorizontalFlip(), ...norm]
    : [resize(Math.round((imageSize * 256) / 224)), centerCrop(imageSize), ...norm];
}

/** DataLoader worker threads: dataset.workers, else 2 for imagenet (JPEG decoding) and 0 otherwise. */
export function loaderWorkersFor(config: ExperimentConfig): number {
  config = parsedConfigArg('config', config);
  return config.dataset.workers ?? (config.dataset.name === 'imagenet' ? 2 : 0);
}

/** pruneModel options (src/pruning) for a config; undefined when the config trains dense. */
export function pruneOptionsFor(config: ExperimentConfig): (PruneOptions<PrunerName> & { method: PrunerName }) | undefined {
  config = parsedConfigArg('config', config);
  const p = config.pruning;
  if (p.method === 'none') return undefined;
  return {
    method: p.method,
    sparsity: p.sparsity,
    scope: p.scope,
    ...(p.scope === 'layerwise' ? { distribution: p.distribution } : {}),
    ...(p.iterations !== undefined ? { iterations: p.iterations } : {}),
    denseFirst: p.denseFirst,
    denseLast: p.denseLast,
    seed: config.seed,
    ...(p.mode !== undefined ? { mode: p.mode } : {}),
    ...(p.method === 'synflow' ? { prunerOptions: { dtype: p.synflowDtype } } : {}),
    ...(p.method === 'grasp' && p.temperature !== undefined ? { prunerOptions: { temperature: p.temperature } } : {}),
  };
}
