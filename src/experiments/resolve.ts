/** Small derivations from a config that the trainer and the CLI share. */
import { createSchedule, type LrSchedule } from '../train/schedule';
import { DATASET_INFO, type ExperimentConfig } from './schema';

/** The learning rate as a function of fractional epoch (warm-up + cosine/step/constant). */
export function scheduleFor(config: ExperimentConfig): LrSchedule {
  return createSchedule({ ...config.schedule, lr: config.optimizer.lr, epochs: config.epochs });
}

/** createModel options: the dataset's classes, channels and input size, then config.model.options. */
export function modelOptionsFor(config: ExperimentConfig): { numClasses: number; inChannels: number; inputSize: number } & Record<string, unknown> {
  return { ...DATASET_INFO[config.dataset.name], ...config.model.options };
}

/** pruneModel options (src/pruning) for a config; undefined when the config trains dense. */
export function pruneOptionsFor(config: ExperimentConfig): {
  method: string;
  sparsity: number;
  scope: 'global' | 'layerwise';
  distribution?: string;
  iterations?: number;
  denseFirst: boolean;
  denseLast: boolean;
  seed: number;
} | undefined {
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
  };
}
