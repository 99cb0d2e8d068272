/** The batch that data-driven pruners (SNIP, GraSP) score weights on, taken from the run's dataset. */
import { createDataset, DataLoader } from '../data';
import { transformsFor } from '../experiments/resolve';
import type { ExperimentConfig } from '../experiments/schema';
import type { Tensor } from '../tensor/tensor';

export function prunerNeedsData(method: string): boolean {
  return method === 'snip' || method === 'grasp';
}

/** The first shuffled training batch (seeded by the config), without augmentation. */
export async function pruneBatch(config: ExperimentConfig, batchSize = config.batchSize): Promise<[Tensor, Tensor]> {
  const ds = createDataset(config.dataset.name, { root: config.dataset.root, train: true });
  const loader = new DataLoader(ds, { batchSize, shuffle: true, seed: config.seed, transforms: transformsFor(config, false) });
  try {
    for await (const b of loader) return [b.x, b.y];
  } finally {
    await loader.close();
  }
  throw new Error(`dataset ${config.dataset.name} is empty`);
}
