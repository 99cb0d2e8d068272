/** The checks of registerDataset's registration: a registered dataset's pipelines, info and split sizes. */
import { InvalidArgumentError } from '../errors';
import { int, keysOf, options as optionsOf } from '../validate';
import { normalize, Pipeline, toTensor, type Transform } from './transforms';

/**
 * How a registered dataset is fed to a model when a config names it (defaultTransforms): either
 * its normalization or its own train and eval pipelines. Without either, its batches are the
 * pixels in [0, 1] (toTensor() only).
 */
export interface DatasetRegistration {
  /** Per-channel mean of the training pixels in [0, 1] (one value: every channel); with std. */
  mean?: number | number[];
  /** Per-channel standard deviation, as many values as mean; with mean. */
  std?: number | number[];
  /** Its own pipelines, each with toTensor() (instead of mean/std: a pipeline normalizes itself). */
  transforms?: { train: Transform[]; eval: Transform[] };
  /**
   * What a model needs to know of it, as the built-ins have: a config's model then gets these
   * options, and model options that contradict them are refused before a run directory is made.
   * Without it, the config's model.options (or the model's defaults) say them.
   */
  info?: RegisteredDatasetInfo;
  /**
   * The examples of its splits, stated without loading them: numbers for data in memory, or a
   * function of the root that counts (files, an index) but must not decode or load the data, as
   * it runs before every run. checkRunnable then bounds the config's step-dependent fields and drawn
   * sample counts by `train` before a run directory is made, as for the built-ins; createDataset
   * refuses a split the factory builds with another length. Without it the size is known only once
   * trainFromConfig builds the split, in its run directory.
   */
  sizes?: DatasetSizes | ((opts: { root?: string }) => DatasetSizes);
}

/** The examples of a dataset's train split and, where stated, its test split. */
export interface DatasetSizes {
  train: number;
  test?: number;
}

/** Classes, channels and the side of the (square) images a model is built for. */
export interface RegisteredDatasetInfo {
  numClasses: number;
  inChannels: number;
  inputSize: number;
}

export interface RegisteredPipelines {
  train: Transform[];
  eval: Transform[];
}

const INFO_KEYS = ['numClasses', 'inChannels', 'inputSize'] as const satisfies readonly (keyof RegisteredDatasetInfo)[];

function infoArg(v: unknown): RegisteredDatasetInfo | undefined {
  if (v === undefined) return undefined;
  const o = optionsOf<RegisteredDatasetInfo>('registration.info', v, INFO_KEYS);
  for (const k of INFO_KEYS) {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`registration.info.${k}`, 'positive integer', x);
  }
  return { numClasses: o.numClasses!, inChannels: o.inChannels!, inputSize: o.inputSize! };
}

/**
 * A transform whose arrays (mean, std, sizes) are the copy's own. Not structuredClone: a
 * hand-made transform may hold what it cannot clone (a symbol, a function), and that must not
 * become an uncoded DataCloneError.
 */
export function copyTransform(t: Transform): Transform {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Array.isArray(v) ? [...(v as unknown[])] : v])) as Transform;
}

function pipelineArg(name: string, v: unknown): Transform[] {
  const pipeline = new Pipeline(v as Transform[], name);
  if (!pipeline.transforms.some((t) => t.op === 'to_tensor')) throw new InvalidArgumentError(name, 'a pipeline with toTensor() (the loader batches float tensors)', v);
  return pipeline.transforms.map(copyTransform);
}

const REGISTRATION_KEYS = keysOf<DatasetRegistration>({ mean: true, std: true, transforms: true, info: true, sizes: true });
const SIZES_KEYS = keysOf<DatasetSizes>({ train: true, test: true });

/**
 * Sizes checked: positive integers, `test` optional. `name` is the value's place in the
 * registration, `of` what a message adds after a field's name (whose registration it is).
 */
export function datasetSizesArg(name: string, v: unknown, of = ''): DatasetSizes {
  const o = optionsOf<DatasetSizes>(`${name}${of}`, v, SIZES_KEYS);
  const train = int(`${name}.train${of}`, o.train, 1);
  return o.test === undefined ? { train } : { train, test: int(`${name}.test${of}`, o.test, 1) };
}

function sizesArg(v: unknown): DatasetRegistration['sizes'] {
  if (v === undefined || typeof v === 'function') return v as DatasetRegistration['sizes'];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError('registration.sizes', '{ train, test? } (positive integers) or a function ({ root }) => { train, test? }', v);
  return datasetSizesArg('registration.sizes', v);
}

function channelValues(name: string, v: unknown, min: number, expected: string): number[] {
  const values = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(values) || values.length === 0 || !values.every((x) => typeof x === 'number' && Number.isFinite(x) && x > min)) {
    throw new InvalidArgumentError(name, expected, v);
  }
  return values;
}

/** A registration checked: its pipelines (toTensor() only without one), its info and its sizes. */
export function registrationArg(v: unknown): { pipelines: RegisteredPipelines; info: RegisteredDatasetInfo | undefined; sizes: DatasetRegistration['sizes'] } {
  const r = optionsOf<DatasetRegistration>('registration', v, REGISTRATION_KEYS);
  return { pipelines: pipelinesArg(r, v), info: infoArg(r.info), sizes: sizesArg(r.sizes) };
}

function pipelinesArg(r: Partial<DatasetRegistration>, v: unknown): RegisteredPipelines {
  if (r.transforms !== undefined) {
    if (r.mean !== undefined || r.std !== undefined) throw new InvalidArgumentError('registration', 'either mean and std or transforms (a pipeline normalizes itself)', v);
    const t = r.transforms as Partial<RegisteredPipelines>;
    if (typeof t !== 'object' || t === null || t.train === undefined || t.eval === undefined) {
      throw new InvalidArgumentError('registration.transforms', '{ train: Transform[], eval: Transform[] }', r.transforms);
    }
    return { train: pipelineArg('registration.transforms.train', t.train), eval: pipelineArg('registration.transforms.eval', t.eval) };
  }
  if ((r.mean === undefined) !== (r.std === undefined)) throw new InvalidArgumentError('registration', 'mean and std together (or neither)', v);
  if (r.mean === undefined) return { train: [toTensor()], eval: [toTensor()] };
  const mean = channelValues('registration.mean', r.mean, -Infinity, 'finite number or non-empty array of finite numbers');
  const std = channelValues('registration.std', r.std, 0, `positive number or array of ${mean.length} positive numbers`);
  if (std.length !== mean.length) throw new InvalidArgumentError('registration.std', `array of ${mean.length} positive numbers (as many as mean)`, r.std);
  const norm = [toTensor(), normalize(mean, std)];
  return { train: norm, eval: norm };
}
