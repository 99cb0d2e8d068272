/**
 * Dataset registry: createDataset(name, { root, train, ... }) for the built-in names, plus the
 * standard transforms of each (defaultTransforms). registerDataset adds a name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, UnknownNameError } from '../errors';
import type { LiteralName } from '../literal-name';
import { bool, keysOf, options as optionsOf, str } from '../validate';
import { DatasetError, downloadHint, type Dataset, type RootFix } from './base';
import { CIFAR100_OPTIONS, CIFAR_OPTIONS, cifar10, cifar100, cifarFiles } from './cifar';
import { idxFiles } from './idx';
import { classFolders, ImageFolder } from './image-folder';
import { MNIST_OPTIONS, fashionMnist, mnist, mnistSource } from './mnist';
import { copyTransform, datasetSizesArg, registrationArg, type DatasetRegistration, type DatasetSizes, type RegisteredDatasetInfo, type RegisteredPipelines } from './registration';
import { centerCrop, normalize, randomCrop, randomHorizontalFlip, randomResizedCrop, resize, toTensor, type Transform } from './transforms';

export interface DatasetOptions {
  /** Where the files are (fashion_mnist defaults to /usr/share/datasets/fashion-mnist). */
  root?: string;
  /** Training split (default true); false: the test split (ImageNet: val/). */
  train?: boolean;
  /** cifar100: 'fine' (100 classes, default) or 'coarse' (20). */
  labelType?: 'fine' | 'coarse';
  /** imagenet: throw on an unreadable image instead of warning and replacing it. */
  strict?: boolean;
}

const DATASET_OPTIONS = keysOf<DatasetOptions>({ root: true, train: true, labelType: true, strict: true });

/** The options each built-in reads (its loader's own list); another (cifar10's labelType) would be ignored. */
const BUILT_IN_OPTIONS = new Map<string, readonly string[]>([
  ['fashion_mnist', MNIST_OPTIONS],
  ['mnist', MNIST_OPTIONS],
  ['cifar10', CIFAR_OPTIONS],
  ['cifar100', CIFAR100_OPTIONS],
  ['imagenet', keysOf<Pick<DatasetOptions, 'root' | 'train' | 'strict'>>({ root: true, train: true, strict: true })],
]);

function datasetOptions(name: string, opts: unknown): Partial<DatasetOptions> {
  return optionsOf<DatasetOptions>('options', opts, BUILT_IN_OPTIONS.get(name) ?? DATASET_OPTIONS);
}

export type DatasetFactory = (opts: DatasetOptions) => Dataset;
export type { DatasetRegistration, DatasetSizes, RegisteredDatasetInfo };

/**
 * The dataset names createDataset accepts as a literal. A name added with registerDataset can be
 * added to the types by declaration merging:
 * `declare module 'signin-torch' { interface KnownDatasets { my_set: true } }`.
 */
export interface KnownDatasets {
  fashion_mnist: true;
  mnist: true;
  cifar10: true;
  cifar100: true;
  imagenet: true;
}
export type KnownDatasetName = keyof KnownDatasets;

function requireRoot(name: string, opts: DatasetOptions, layout: string, dataset?: string): string {
  const install = dataset === undefined ? undefined : downloadHint(dataset);
  if (opts.root === undefined) throw new DatasetError(`${name} has no offline copy`, undefined, { fix: { install, expected: layout } });
  if (typeof opts.root !== 'string' || opts.root.length === 0) throw new InvalidArgumentError('root', 'folder path (string)', opts.root);
  return opts.root;
}

const factories = new Map<string, DatasetFactory>([
  ['fashion_mnist', (o) => fashionMnist({ root: o.root, train: o.train })],
  ['mnist', (o) => mnist({ root: o.root, train: o.train })],
  ['cifar10', (o) => cifar10({ ...o, root: requireRoot('CIFAR-10', o, CIFAR10_LAYOUT, 'cifar10') })],
  ['cifar100', (o) => cifar100({ ...o, root: requireRoot('CIFAR-100', o, CIFAR100_LAYOUT, 'cifar100') })],
  [
    'imagenet',
    (o) => {
      const root = requireRoot('ImageNet', o, IMAGENET_LAYOUT);
      return new ImageFolder(path.join(root, o.train === false ? 'val' : 'train'), { strict: o.strict, name: 'imagenet' });
    },
  ],
]);

const BUILT_IN_NAMES = [...factories.keys()];

const CIFAR10_LAYOUT = 'the folder with data_batch_1.bin .. data_batch_5.bin and test_batch.bin (binary version)';
const CIFAR100_LAYOUT = 'the folder with train.bin and test.bin (binary version)';
const IMAGENET_LAYOUT = 'a folder with train/<wnid>/*.JPEG and val/<wnid>/*.JPEG';

function mustExist(file: string, fix: RootFix): void {
  if (!fs.existsSync(file)) throw new DatasetError(`Missing dataset file ${file}`, file, { fix });
}

/** What each built-in dataset reads, checked without reading it. */
const fileChecks = new Map<string, (o: DatasetOptions, train: boolean) => void>([
  ['fashion_mnist', (o, train) => { const s = mnistSource('fashion_mnist', o.root); idxFiles(s.root, train, s.fix); }],
  ['mnist', (o, train) => { const s = mnistSource('mnist', o.root); idxFiles(s.root, train, s.fix); }],
  ['cifar10', (o, train) => {
    const root = requireRoot('CIFAR-10', o, CIFAR10_LAYOUT, 'cifar10');
    for (const f of cifarFiles('cifar10', root, train)) mustExist(f, { install: downloadHint('cifar10', root), expected: CIFAR10_LAYOUT });
  }],
  ['cifar100', (o, train) => {
    const root = requireRoot('CIFAR-100', o, CIFAR100_LAYOUT, 'cifar100');
    for (const f of cifarFiles('cifar100', root, train)) mustExist(f, { install: downloadHint('cifar100', root), expected: CIFAR100_LAYOUT });
  }],
  ['imagenet', (o, train) => {
    const dir = path.join(requireRoot('ImageNet', o, IMAGENET_LAYOUT), train ? 'train' : 'val');
    mustExist(dir, { expected: IMAGENET_LAYOUT });
    // ImageFolder's first refusal, one listing here: met only when the loader opens the split, a
    // run would meet it in its run directory.
    const abs = path.resolve(dir);
    if (classFolders(abs).length === 0) throw new DatasetError(`Couldn't find any class folder in ${abs}: expected ${abs}/<class>/<image>`, abs, { fix: { expected: IMAGENET_LAYOUT } });
  }],
]);

/**
 * Checks that a dataset's files are where its loader will look, without reading them: a
 * DatasetError naming the first missing file. Registered datasets other than the built-ins
 * are only checked by name.
 */
export function checkDatasetFiles(name: string, opts: DatasetOptions = {}): void {
  if (!factories.has(name)) throw new UnknownNameError('dataset', name, datasetNames());
  const o = datasetOptions(name, opts);
  for (const train of o.train === undefined ? [true, false] : [bool('train', o.train)]) fileChecks.get(name)?.(o, train);
}

/** The registered dataset names. */
export function datasetNames(): string[] {
  return [...factories.keys()];
}

/** The train/eval pipelines of registered datasets (the built-ins' are in defaultTransforms). */
const registeredPipelines = new Map<string, RegisteredPipelines>();
const registeredInfo = new Map<string, RegisteredDatasetInfo>();
const registeredSizes = new Map<string, NonNullable<DatasetRegistration['sizes']>>();

/** The info a registered dataset was given (the built-ins': DATASET_INFO in experiments/schema). */
export function registeredDatasetInfo(name: string): RegisteredDatasetInfo | undefined {
  const info = registeredInfo.get(str('name', name));
  return info && { ...info };
}

/**
 * The split sizes a registered dataset's registration states (registration.sizes), for `root`,
 * without loading it; undefined for a built-in or a registration without them.
 */
export function declaredDatasetSizes(name: string, root: string | undefined): DatasetSizes | undefined {
  const sizes = registeredSizes.get(str('name', name));
  if (typeof sizes !== 'function') return sizes && { ...sizes };
  let counted: unknown;
  try {
    counted = sizes({ root });
  } catch (e) {
    // The user's function usually fails on the root (ENOENT); without this, its bare message named neither the dataset nor the function.
    if (e instanceof DatasetError) throw e;
    throw new DatasetError(`registration.sizes({ root }) of dataset '${name}' threw for root ${root === undefined ? 'undefined' : `'${root}'`}: ${(e as Error)?.message ?? String(e)}`, root, { cause: e });
  }
  return datasetSizesArg('registration.sizes({ root })', counted, ` of dataset '${name}'`);
}

/**
 * Adds (or replaces) a dataset name other than the built-ins'. Names are lowercase snake_case. A
 * config may then name it (dataset.name); `registration` says how its batches are normalized,
 * what a model needs to know of it and how many examples its splits hold (DatasetRegistration;
 * docs/extending.md).
 *
 * @example
 * registerDataset('my_set', (o) => new ArrayDataset({ ...mySplit(o.train !== false), name: 'my_set' }),
 *   { mean: [0.5], std: [0.25], info: { numClasses: 4, inChannels: 1, inputSize: 28 } });
 */
export function registerDataset(name: string, factory: DatasetFactory, registration: DatasetRegistration = {}): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(name)) throw new InvalidArgumentError('name', 'lowercase snake_case name', name);
  if (typeof factory !== 'function') throw new InvalidArgumentError('factory', 'function', factory);
  // A built-in keeps its file checks, shapes (DATASET_INFO) and transforms: replacing one would be half done.
  if (BUILT_IN_NAMES.includes(name)) throw new InvalidArgumentError('name', `a name other than the built-ins' (${BUILT_IN_NAMES.join(', ')})`, name);
  const { pipelines, info, sizes } = registrationArg(registration);
  factories.set(name, factory);
  if (info) registeredInfo.set(name, info);
  else registeredInfo.delete(name);
  if (sizes) registeredSizes.set(name, sizes);
  else registeredSizes.delete(name);
  registeredPipelines.set(name, pipelines);
}

/**
 * A dataset by name: fashion_mnist, mnist, cifar10, cifar100, imagenet (and registered ones).
 *
 * @param name a literal name is type-checked (KnownDatasets); a run-time string is checked here.
 * @param opts `root` (required but for fashion_mnist, which defaults to Debian's copy), `train`.
 * @throws UnknownNameError listing the names; DatasetError when the files are missing or malformed.
 * @example
 * const test = createDataset('fashion_mnist', { train: false });
 */
export function createDataset<N extends string>(name: LiteralName<N, KnownDatasetName>, opts: DatasetOptions = {}): Dataset {
  const factory = factories.get(name);
  if (!factory) throw new UnknownNameError('dataset', name, datasetNames());
  const o = datasetOptions(name, opts);
  if (o.train !== undefined) bool('train', o.train);
  const ds = factory(o);
  checkDeclaredSize(name, o, ds);
  return ds;
}

/**
 * Here rather than in the runner: whoever builds a registered split (trainFromConfig before it
 * prunes or trains, the pruning batch, evaluation, a user's own code) meets the size that
 * checkRunnable bounded the config by.
 */
function checkDeclaredSize(name: string, o: DatasetOptions, ds: Dataset): void {
  const split = o.train === false ? 'test' : 'train';
  const declared = declaredDatasetSizes(name, o.root)?.[split];
  if (declared !== undefined && ds.length !== declared) {
    throw new DatasetError(`Dataset '${name}' built a ${split} split of ${ds.length} examples, but its registration.sizes.${split} states ${declared}: `
      + 'registration.sizes must count what the factory builds (checkRunnable bounds a config by it before a run directory is made)');
  }
}

export const MEAN_STD: Record<string, { mean: number[]; std: number[] }> = {
  fashion_mnist: { mean: [0.286], std: [0.353] },
  mnist: { mean: [0.1307], std: [0.3081] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
};

/**
 * The usual transforms: MNIST-likes normalize only; CIFAR trains with randomCrop(32, padding 4)
 * and flips; ImageNet trains with randomResizedCrop(224) and flips and evaluates with
 * resize(256) + centerCrop(224). A registered dataset: what registerDataset was given.
 */
export function defaultTransforms(name: string, train: boolean): Transform[] {
  const registered = registeredPipelines.get(str('name', name));
  if (registered) return (train ? registered.train : registered.eval).map(copyTransform);
  const ms = MEAN_STD[name];
  if (!ms) throw new UnknownNameError('dataset', name, datasetNames());
  const norm = [toTensor(), normalize(ms.mean, ms.std)];
  if (name === 'cifar10' || name === 'cifar100') return train ? [randomCrop(32, { padding: 4 }), randomHorizontalFlip(), ...norm] : norm;
  if (name === 'imagenet') return train ? [randomResizedCrop(224), randomHorizontalFlip(), ...norm] : [resize(256), centerCrop(224), ...norm];
  return norm;
}
