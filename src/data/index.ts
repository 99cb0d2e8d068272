/** Datasets, transforms and the DataLoader. */
export type { Dataset, Sample, RawImage, ImageShape, DatasetSpec, ModuleDatasetSpec, RootFix } from './base';
export { DatasetError } from './base';
export { ArrayDataset } from './array-dataset';
export { moduleSpec } from './module-dataset';
export type { ArrayDatasetOptions } from './array-dataset';
export { readIdxImages, readIdxLabels, loadIdxDataset, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx';
export { fashionMnist, mnist, FASHION_MNIST_ROOT, FASHION_MNIST_CLASSES, MNIST_CLASSES } from './mnist';
export type { MnistOptions } from './mnist';
export { cifar10, cifar100, CIFAR10_CLASSES, CIFAR100_FINE_CLASSES, CIFAR100_COARSE_CLASSES } from './cifar';
export type { CifarOptions, Cifar100Options } from './cifar';
export { ImageFolder, decodeImage, IMAGE_EXTENSIONS } from './image-folder';
export type { ImageFolderOptions } from './image-folder';
export {
  compose, Pipeline, toTensor, normalize, randomCrop, randomHorizontalFlip, randomResizedCrop, resize, centerCrop, augmentTransforms,
} from './transforms';
export type { Transform, RandomCropOptions, RandomResizedCropOptions, AugmentOptions } from './transforms';
export { Rng, toRng } from './rng';
export type { RandomSource } from './rng';
export { SequentialSampler, RandomSampler, DistributedSampler, ShardSampler, permutation } from './sampler';
export type { Sampler, DistributedSamplerOptions } from './sampler';
export { DataLoader } from './loader';
export type { DataLoaderOptions, Batch } from './loader';
export { checkDatasetFiles, createDataset, datasetNames, registerDataset, registeredDatasetInfo, defaultTransforms, MEAN_STD } from './registry';
export type { DatasetOptions, DatasetFactory, DatasetRegistration, KnownDatasets, KnownDatasetName, RegisteredDatasetInfo, DatasetSizes } from './registry';
export { downloadDataset, DownloadError, DOWNLOADABLE_DATASETS } from './download';
export type { DownloadableDataset, DownloadOptions, DownloadProgress, DownloadResult } from './download';
