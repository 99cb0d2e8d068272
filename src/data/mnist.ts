/** MNIST and Fashion-MNIST: IDX files, 28×28 grey, 10 classes (60k train / 10k test). */
import type { ArrayDataset } from './array-dataset';
import { DatasetError, downloadHint, type RootFix } from './base';
import { loadIdxDataset } from './idx';
import { bool, keysOf, options } from '../validate';

/** Where Debian's `dataset-fashion-mnist` package puts the original IDX files. */
export const FASHION_MNIST_ROOT = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
const IDX_FOLDER = 'a folder with train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz)';

/** MNIST and Fashion-MNIST share their shape: 28×28, 60000 training and 10000 test images. */
const MNIST_LIMITS = { rows: 28, cols: 28, train: 60000, test: 10000 };

export const MNIST_CLASSES = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'] as const;

export interface MnistOptions {
  /** Folder with train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-... */
  root?: string;
  /** The 60k training split (default) or the 10k test split. */
  train?: boolean;
}

/** Where an MNIST-family dataset's files are and what to tell the user when one is missing. */
export function mnistSource(name: 'fashion_mnist' | 'mnist', root: string | undefined): { root: string; fix: RootFix } {
  if (name === 'fashion_mnist') {
    return root === undefined
      ? { root: process.env.SIGNIN_TORCH_FASHION_MNIST_ROOT || FASHION_MNIST_ROOT, fix: { install: `install it with "sudo apt-get install -y dataset-fashion-mnist", ${downloadHint('fashion_mnist')}`, expected: 'a folder with the IDX files' } }
      : { root, fix: { expected: IDX_FOLDER } };
  }
  if (root === undefined) throw new DatasetError('MNIST has no default location', undefined, { fix: { install: downloadHint('mnist'), expected: IDX_FOLDER } });
  return { root, fix: { expected: 'a folder with the four MNIST IDX files' } };
}

export const MNIST_OPTIONS = keysOf<MnistOptions>({ root: true, train: true });

/**
 * Fashion-MNIST; root defaults to $SIGNIN_TORCH_FASHION_MNIST_ROOT, else
 * /usr/share/datasets/fashion-mnist.
 */
export function fashionMnist(opts: MnistOptions = {}): ArrayDataset {
  const o = options<MnistOptions>('options', opts, MNIST_OPTIONS);
  const { root, fix } = mnistSource('fashion_mnist', o.root);
  return loadIdxDataset({ root, train: bool('train', o.train ?? true), name: 'fashion_mnist', numClasses: 10, classes: FASHION_MNIST_CLASSES, fix, limits: MNIST_LIMITS });
}

/** MNIST from IDX files; there is no offline copy, so root is required. */
export function mnist(opts: MnistOptions = {}): ArrayDataset {
  const o = options<MnistOptions>('options', opts, MNIST_OPTIONS);
  const { root, fix } = mnistSource('mnist', o.root);
  return loadIdxDataset({ root, train: bool('train', o.train ?? true), name: 'mnist', numClasses: 10, classes: MNIST_CLASSES, fix, limits: MNIST_LIMITS });
}
