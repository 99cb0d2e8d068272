/**
 * The examples that data-driven pruners (SNIP, GraSP) score weights on, taken from the run's
 * training set: `pruning.dataSamples` examples, un-augmented, as one batch (`pruning.dataBatches`
 * equal ones). The order they are
 * drawn from is torch.randperm(n) seeded with the config's seed (the training loader's first
 * epoch order): unbalanced, the first dataSamples of it; balanced (`pruning.dataBalanced`), the
 * first ones of each class until every class has its quota (dataSamples / classes, the first
 * classes one more when that does not divide), kept in the drawn order. Labels are read without
 * decoding an image, so balancing costs one pass over the labels.
 */
import { createDataset, DataLoader, permutation, type Dataset, type Sampler } from '../data';
import { InvalidArgumentError, ToolkitError, type Issue } from '../errors';
import { get as getPruner } from '../pruning/registry';
import type { Tensor } from '../tensor/tensor';
import { int } from '../validate';
import { transformsFor } from './resolve';
import type { ExperimentConfig } from './schema';

/** Whether a pruner scores on data: its own `needsData` (so a registered pruner is asked too); 'none' prunes nothing. */
export function prunerNeedsData(method: string): boolean {
  return method !== 'none' && getPruner(method).needsData;
}

/** Examples per class for `samples` spread over `numClasses`: the first `samples mod numClasses` classes get one more. */
export function classQuotas(samples: number, numClasses: number): number[] {
  const base = Math.floor(samples / numClasses);
  return Array.from({ length: numClasses }, (_, c) => base + (c < samples % numClasses ? 1 : 0));
}

/** What a count of training examples drawn here may be: the draw's refusal and the pre-run check's say the same. */
function atMostTrainSet(size: number, dataset: string, why?: string): string {
  return `at most ${size} (the examples of ${dataset}'s training set${why ? `; ${why}` : ''})`;
}

/**
 * The counts a config draws from its training set of `trainSize` examples (the whole train split:
 * dataset.maxTrainBatches limits the steps, not this draw) that it cannot fill: pruning.dataSamples
 * for a pruner that scores on data, and hessian.samples. checkRunnable reports them before a run
 * directory exists; the draw itself would refuse them only once the run has begun.
 */
export function trainSampleIssues(config: ExperimentConfig, trainSize: number): Issue[] {
  const counts: [string, number, string][] = [];
  if (prunerNeedsData(config.pruning.method)) counts.push(['pruning.dataSamples', config.pruning.dataSamples, `${config.pruning.method} scores on them at initialization`]);
  if (config.hessian) counts.push(['hessian.samples', config.hessian.samples, 'the top Hessian eigenvalue is measured on them after the last epoch']);
  return counts.filter(([, n]) => n > trainSize).map(([path, n, why]) => ({
    code: 'too_big', path, message: `Expected ${atMostTrainSet(trainSize, config.dataset.name, why)} but received ${n}`,
  }));
}

/**
 * The dataset indices to score on (see the file comment), in the order drawn. Throws when the
 * dataset has fewer examples than asked for, overall or in some class.
 */
export function pruneSampleIndices(ds: Pick<Dataset, 'length' | 'numClasses' | 'label' | 'name'>, samples: number, balanced: boolean, seed: number): Int32Array {
  int('pruning.dataSamples', samples, 1);
  if (samples > ds.length) {
    throw new InvalidArgumentError('pruning.dataSamples', atMostTrainSet(ds.length, ds.name), samples);
  }
  const order = permutation(ds.length, seed);
  if (!balanced) return order.slice(0, samples);
  const quota = classQuotas(samples, ds.numClasses);
  const out = new Int32Array(samples);
  let n = 0;
  for (let k = 0; k < order.length && n < samples; k++) {
    const c = ds.label(order[k]);
    if (quota[c] > 0) {
      quota[c]--;
      out[n++] = order[k];
    }
  }
  if (n < samples) {
    const short = quota.map((q, c) => [c, q] as const).filter(([, q]) => q > 0).map(([c]) => c);
    throw new InvalidArgumentError('pruning.dataSamples',
      `at most what every class holds with dataBalanced (${ds.name} has too few examples of class ${short.join(', ')})`, samples);
  }
  return out;
}

/** A fixed list of indices, the same every epoch. */
class FixedSampler implements Sampler {
  constructor(private readonly order: Int32Array) {}

  get length(): number {
    return this.order.length;
  }

  setEpoch(): void {}

  indices(): Int32Array {
    return this.order;
  }
}

/**
 * The pruning examples of a config as one [input, target] batch (the caller disposes both).
 * `samples` overrides pruning.dataSamples (the Hessian callback's own count).
 */
export async function pruneBatch(config: ExperimentConfig, samples = config.pruning.dataSamples): Promise<[Tensor, Tensor]> {
  return (await loadBatches(config, samples, 1))[0];
}

/**
 * The pruning examples of a config as `pruning.dataBatches` consecutive [input, target] batches of
 * equal size (the caller disposes them): class by class with dataBalanced and more than one batch,
 * as GraSP's authors' GraSP_fetch_data concatenates its examples before taking two halves.
 */
export function pruneBatches(config: ExperimentConfig): Promise<[Tensor, Tensor][]> {
  return loadBatches(config, config.pruning.dataSamples, config.pruning.dataBatches ?? 1);
}

async function loadBatches(config: ExperimentConfig, samples: number, batches: number): Promise<[Tensor, Tensor][]> {
  const ds = createDataset(config.dataset.name, { root: config.dataset.root, train: true });
  let indices = pruneSampleIndices(ds, samples, config.pruning.dataBalanced, config.seed);
  if (batches > 1 && config.pruning.dataBalanced) indices = Int32Array.from([...indices].sort((a, b) => ds.label(a) - ds.label(b)));
  const loader = new DataLoader(ds, { batchSize: indices.length / batches, sampler: new FixedSampler(indices), transforms: transformsFor(config, false) });
  const out: [Tensor, Tensor][] = [];
  try {
    for await (const b of loader) out.push([b.x, b.y]);
  } catch (e) {
    for (const t of out.flat()) t.dispose();
    throw e;
  } finally {
    await loader.close();
  }
  if (out.length === 0) throw new ToolkitError('ERR_DATASET', `dataset ${config.dataset.name} is empty`);
  return out;
}
