/**
 * Layerwise density distributions: how a global density target is split over the masked layers
 * when pruning with scope 'layerwise' (and the layer densities of a "Random" PaI mask).
 *
 * Words: `density` is the fraction of weights KEPT, `sparsity` the fraction REMOVED.
 *
 * Every distribution returns one density per layer, in [0, 1], such that
 * sum(density_l * numel_l) equals the global budget `density * sum(numel_l)` exactly (up to float
 * rounding); layers listed in `dense` are fixed at 1 and the others absorb the difference.
 *
 * - uniform:   the same density for every prunable layer.
 * - er:        Erdős–Rényi (Mocanu et al. 2018): density ∝ (c_out + c_in) / (c_out · c_in),
 *              kernel size ignored.
 * - erk:       Erdős–Rényi-Kernel (Evci et al. 2020, RigL): density ∝ sum(shape) / prod(shape),
 *              i.e. (c_out + c_in + k_h + k_w) / (c_out · c_in · k_h · k_w).
 * - balanced:  every prunable layer keeps the same NUMBER of weights (Gadhikar et al. 2023).
 * - pyramidal: density_l = r^l for the l-th prunable layer (l = 1, 2, ...), r in (0, 1] solved
 *              so that the budget is met (Gadhikar et al. 2023): densities fall with depth.
 *
 * er, erk and balanced are "scaled" distributions, density_l = min(1, ε · raw_l), solved as in
 * Evci et al. 2020's code: find ε for the budget; if a layer would exceed density 1, make the
 * layer(s) with the largest raw value dense, take their weights out of the budget, and solve
 * again. So no layer is ever above 100% dense and the global target is still met.
 *
 * Against the references (docs/pruning-fidelity.md): er and erk equal RigL's
 * get_sparsities_erdos_renyi (erk_power_scale 1). Layers in `dense` stay inside the budget, where
 * RigL leaves its custom_sparsity_map layers out of it. Gadhikar et al.'s code clamps ERK and
 * balanced once, losing a clamped layer's excess; we hand it to the other layers.
 */
import { InvalidArgumentError, UnknownNameError } from '../errors';
import { keysOf, list, options as optionsOf } from '../validate';

export interface LayerShape {
  /** The layer's parameter name (`layer1.0.conv1.weight`). */
  name: string;
  /** The weight's shape, PyTorch layout: [out, in] or [out, in, kh, kw]. */
  shape: readonly number[];
}

export const DISTRIBUTION_NAMES = ['uniform', 'er', 'erk', 'balanced', 'pyramidal'] as const;
export type DistributionName = (typeof DISTRIBUTION_NAMES)[number];

export interface DistributionOptions {
  /** Parameter names whose layers stay fully dense (density 1). */
  dense?: readonly string[] | ReadonlySet<string>;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const sum = (s: readonly number[]) => s.reduce((a, b) => a + b, 0);

/** The raw (unnormalized) density weight of a layer under a scaled distribution. */
export function rawDensity(distribution: 'uniform' | 'er' | 'erk' | 'balanced', shape: readonly number[]): number {
  switch (distribution) {
    case 'uniform':
      return 1;
    case 'er': {
      // Kernel-unaware: only the two channel dimensions (RigL's erdos_renyi without kernel).
      const [out, inp] = shape.length >= 2 ? [shape[0], shape[1]] : [shape[0], 1];
      return (out + inp) / (out * inp);
    }
    case 'erk':
      return sum(shape) / prod(shape);
    case 'balanced':
      // density ∝ 1 / numel gives the same number of kept weights in every layer.
      return 1 / prod(shape);
    default:
      throw new UnknownNameError('distribution', distribution as string, DISTRIBUTION_NAMES);
  }
}

/**
 * density_l = min(1, ε · raw_l) with Σ density_l · size_l = budget (Evci et al. 2020's loop).
 * `fixed[l]` true means the layer is dense from the start.
 */
export function scaledDensities(raw: readonly number[], sizes: readonly number[], budget: number, fixed: readonly boolean[]): number[] {
  const dense = fixed.slice();
  for (;;) {
    let rhs = budget;
    let divisor = 0;
    for (let l = 0; l < raw.length; l++) {
      if (dense[l]) rhs -= sizes[l];
      else divisor += raw[l] * sizes[l];
    }
    if (divisor === 0) break; // every layer dense
    const eps = Math.max(0, rhs) / divisor;
    let maxRaw = -Infinity;
    for (let l = 0; l < raw.length; l++) if (!dense[l]) maxRaw = Math.max(maxRaw, raw[l]);
    // A tiny tolerance: a layer landing at exactly 1 is fine and must not loop.
    if (maxRaw * eps > 1 + 1e-12) {
      for (let l = 0; l < raw.length; l++) if (!dense[l] && raw[l] === maxRaw) dense[l] = true;
      continue;
    }
    return raw.map((r, l) => (dense[l] ? 1 : Math.min(1, r * eps)));
  }
  return raw.map(() => 1);
}

/** density_l = r^l (l = 1.. over the non-fixed layers, in order) with the budget met; bisection on r. */
export function pyramidalDensities(sizes: readonly number[], budget: number, fixed: readonly boolean[]): number[] {
  const free = sizes.map((_, l) => l).filter((l) => !fixed[l]);
  const target = budget - sum(sizes.filter((_, l) => fixed[l]));
  const total = (r: number) => free.reduce((s, l, i) => s + sizes[l] * r ** (i + 1), 0);
  let lo = 0;
  let hi = 1;
  if (target <= 0) hi = 0;
  else if (target >= total(1)) lo = 1;
  else {
    for (let it = 0; it < 200 && hi - lo > 1e-16; it++) {
      const mid = (lo + hi) / 2;
      if (total(mid) < target) lo = mid;
      else hi = mid;
    }
  }
  const r = (lo + hi) / 2;
  const out = sizes.map(() => 1);
  free.forEach((l, i) => { out[l] = r ** (i + 1); });
  return out;
}

const LAYERS_EXPECTED = 'non-empty array of { name, shape } with positive integer dimensions';

function checkLayers(layers: unknown): LayerShape[] {
  const out = list<LayerShape>('layers', layers, LAYERS_EXPECTED, (l) => typeof l === 'object' && l !== null
    && typeof (l as LayerShape).name === 'string' && Array.isArray((l as LayerShape).shape) && (l as LayerShape).shape.length >= 1);
  if (out.length === 0) throw new InvalidArgumentError('layers', LAYERS_EXPECTED, layers);
  out.forEach((l, i) => list(`layers[${i}].shape`, l.shape, 'array of positive integers', (d) => Number.isInteger(d) && (d as number) > 0));
  return out;
}

function denseNames(dense: unknown): Set<string> {
  const expected = 'array or Set of layer names';
  if (dense instanceof Set) return new Set(list<string>('dense', [...dense], expected, (n) => typeof n === 'string'));
  return new Set(list<string>('dense', dense ?? [], expected, (n) => typeof n === 'string'));
}

/**
 * The per-layer densities of a distribution for a global target density (over ALL the layers'
 * weights, the dense ones included). Throws when the dense layers alone exceed the budget.
 */
export function layerDensities(distribution: string, layers: readonly LayerShape[], density: number,
  options: DistributionOptions = {}): number[] {
  if (!(DISTRIBUTION_NAMES as readonly string[]).includes(distribution)) {
    throw new UnknownNameError('distribution', distribution, DISTRIBUTION_NAMES);
  }
  checkLayers(layers);
  if (typeof density !== 'number' || !(density >= 0 && density <= 1)) {
    throw new InvalidArgumentError('density', 'number in [0, 1]', density);
  }
  const o = optionsOf<DistributionOptions>('options', options, keysOf<DistributionOptions>({ dense: true }));
  const dense = denseNames(o.dense);
  for (const n of dense) {
    if (!layers.some((l) => l.name === n)) {
      throw new InvalidArgumentError('dense', `names of the given layers (${layers.map((l) => l.name).join(', ')})`, n);
    }
  }
  const sizes = layers.map((l) => prod(l.shape));
  const fixed = layers.map((l) => dense.has(l.name));
  const total = sum(sizes);
  const budget = density * total;
  const denseSize = sum(sizes.filter((_, l) => fixed[l]));
  if (denseSize > budget + 1e-9 * total) {
    throw new InvalidArgumentError('density',
      `number >= ${denseSize / total} (the layers kept dense already hold ${denseSize} of ${total} weights)`, density);
  }
  if (distribution === 'pyramidal') return pyramidalDensities(sizes, budget, fixed);
  const raw = layers.map((l) => rawDensity(distribution as 'uniform' | 'er' | 'erk' | 'balanced', l.shape));
  return scaledDensities(raw, sizes, budget, fixed);
}
