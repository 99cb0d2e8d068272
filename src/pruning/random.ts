/**
 * Random pruning: i.i.d. uniform scores. With scope 'layerwise' and a distribution (ER, ERK, ...)
 * it gives the "Random" PaI masks: exactly each layer's count at uniformly random positions, as
 * RigL's get_mask_random_numpy (Gadhikar et al.'s code draws each weight with probability p
 * instead; docs/pruning-fidelity.md).
 */
import { rand } from '../tensor/creation';
import type { Tensor } from '../tensor/tensor';
import type { Pruner, ScoreContext } from './base';

export class RandomPruner implements Pruner {
  readonly name = 'random';
  readonly needsData = false;
  readonly defaultIterations = 1;

  score(_model: unknown, ctx: ScoreContext): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const w of ctx.weights) {
      // Drawn on the CPU (Generator is a CPU generator), so a seed gives the same mask on any device.
      const r = rand(w.weight.shape, { generator: ctx.generator, dtype: 'float32' });
      out.set(w.name, w.weight.device === 'cpu' ? r : r.to({ device: w.weight.device }));
    }
    return out;
  }
}
