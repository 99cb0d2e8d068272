/**
 * Where each downloadable dataset comes from: its mirrors, the md5 published for each file, and
 * for a tarball the members its loader reads (src/data/download.ts fetches them).
 */

export const DOWNLOADABLE_DATASETS = ['mnist', 'fashion_mnist', 'cifar10', 'cifar100'] as const;
export type DownloadableDataset = (typeof DOWNLOADABLE_DATASETS)[number];

/** One file fetched from a mirror: its name there, the md5 published for it, and a bound on its size. */
export interface SourceFile {
  name: string;
  md5: string;
  /** A mirror that sends more is refused as it sends (a file of the wrong dataset, or endless). */
  maxBytes: number;
}

/**
 * The members of a tarball that are kept: each under `folder` in the archive and in root. A member
 * with a `size` is required and must have exactly that size; one without (the class names) is
 * kept when the archive has it, up to 64 KiB.
 */
export interface UnpackSpec {
  folder: string;
  members: { name: string; size?: number }[];
}

/**
 * Where a dataset comes from. Internal: the tests pass their own (fixtures' md5s) to downloadFrom;
 * users name a dataset of DATASET_SOURCES.
 */
export interface DownloadSource {
  name: string;
  /** Base URLs, tried in order for each file. */
  mirrors: string[];
  files: SourceFile[];
  /** Absent: the files are kept as fetched (the IDX loaders read .gz). */
  unpack?: UnpackSpec;
}

export const MIB = 1024 * 1024;

const idxFiles = (md5: [string, string, string, string]): SourceFile[] =>
  ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
    .map((name, i) => ({ name, md5: md5[i], maxBytes: 64 * MIB }));

/** CIFAR-10's record files hold 10000 records of 1 label byte + 3072 pixels (the CIFAR page). */
const CIFAR10_BIN = 10000 * 3073;

export const DATASET_SOURCES: Readonly<Record<DownloadableDataset, DownloadSource>> = {
  // Mirrors and md5s from torchvision/datasets/mnist.py (class MNIST); its list has
  // yann.lecun.com first, swapped here as pytorch/vision#8865 proposed: that host answers 403 to many
  // since 2024 (red-data-tools/red-datasets#195, ludwig-ai/ludwig#4009).
  mnist: {
    name: 'MNIST',
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    files: idxFiles(['f68b3c2dcbeaaa9fbdd348bbdeb94873', 'd53e105ee54ea40749a09fcbcd1e9432', '9fb629c4189551a2d022fa330f9573f3', 'ec29112dd5afa0611ce80d1b7f02629c']),
  },
  // torchvision/datasets/mnist.py, class FashionMNIST: its one mirror and md5s.
  fashion_mnist: {
    name: 'Fashion-MNIST',
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    files: idxFiles(['8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310']),
  },
  // https://www.cs.toronto.edu/~kriz/cifar.html, "CIFAR-10 binary version (suitable for C
  // programs)": the md5 in its table. torchvision fetches the python version, not this one.
  cifar10: {
    name: 'CIFAR-10',
    mirrors: ['https://www.cs.toronto.edu/~kriz/'],
    files: [{ name: 'cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', maxBytes: 256 * MIB }],
    unpack: {
      folder: 'cifar-10-batches-bin',
      members: [
        ...[1, 2, 3, 4, 5].map((i) => ({ name: `data_batch_${i}.bin`, size: CIFAR10_BIN })),
        { name: 'test_batch.bin', size: CIFAR10_BIN },
        { name: 'batches.meta.txt' },
      ],
    },
  },
  // The CIFAR page's "CIFAR-100 binary version" md5: the page's copy read for this was cut before
  // that row; the same md5 stands in that table as other loaders' docs quote it, and in loaders that
  // fetch the same URL (see docs/errors.md, ERR_DOWNLOAD). Records: 2 label bytes + 3072 pixels; 50000 train, 10000 test.
  cifar100: {
    name: 'CIFAR-100',
    mirrors: ['https://www.cs.toronto.edu/~kriz/'],
    files: [{ name: 'cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', maxBytes: 256 * MIB }],
    unpack: {
      folder: 'cifar-100-binary',
      members: [
        { name: 'train.bin', size: 50000 * 3074 },
        { name: 'test.bin', size: 10000 * 3074 },
        { name: 'coarse_label_names.txt' },
        { name: 'fine_label_names.txt' },
      ],
    },
  },
};
