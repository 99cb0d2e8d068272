import { ArrayDataset, createDataset, datasetNames, defaultTransforms, registerDataset, DataLoader } from '../../../src/data';
import { UnknownNameError } from '../../../src/errors';

const TINY: string = 'tiny'; // registered at run time, so typed as a run-time name

describe('dataset registry', () => {
  test('built-in names', () => {
    expect(datasetNames()).toEqual(expect.arrayContaining(['fashion_mnist', 'mnist', 'cifar10', 'cifar100', 'imagenet']));
  });

  test('an unknown name lists the valid ones', () => {
    let err: unknown;
    try {
      // @ts-expect-error the types reject the name too; this checks the run-time error
      createDataset('cifar11');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownNameError);
    expect((err as UnknownNameError).code).toBe('ERR_UNKNOWN_NAME');
    expect((err as Error).message).toBe("Unknown dataset 'cifar11' (did you mean 'cifar10'?); valid names: fashion_mnist, mnist, cifar10, cifar100, imagenet");
  });

  test('options are checked', () => {
    expect(() => createDataset('mnist', { train: 'yes' as unknown as boolean })).toThrow("Expected boolean for train but received 'yes' of type string");
    expect(() => createDataset('cifar10', { root: 3 as unknown as string })).toThrow('Expected folder path (string) for root but received 3 of type number');
  });

  test('register adds a name', () => {
    registerDataset('tiny', () => new ArrayDataset({ images: new Uint8Array(8), labels: [0, 1], width: 2, height: 2, channels: 1, numClasses: 2, name: 'tiny' }));
    expect(createDataset(TINY).length).toBe(2);
    expect(() => registerDataset('Bad-Name', () => createDataset(TINY))).toThrow("Expected lowercase snake_case name for name but received 'Bad-Name' of type string");
  });

  test('default transforms and their output shapes', () => {
    expect(defaultTransforms('cifar10', true).map((t) => t.op)).toEqual(['random_crop', 'random_horizontal_flip', 'to_tensor', 'normalize']);
    expect(defaultTransforms('imagenet', false).map((t) => t.op)).toEqual(['resize', 'center_crop', 'to_tensor', 'normalize']);
    expect(defaultTransforms('fashion_mnist', true).map((t) => t.op)).toEqual(['to_tensor', 'normalize']);
    expect(() => defaultTransforms('svhn', true)).toThrow(/^Unknown dataset 'svhn'; valid names: fashion_mnist, mnist, cifar10/);
  });

  test('ArrayDataset checks its arrays; DataLoader checks its options (no addon needed)', () => {
    expect(() => new ArrayDataset({ images: new Uint8Array(7), labels: [0, 1], width: 2, height: 2, channels: 1, numClasses: 2 })).toThrow(
      'Expected Uint8Array of length 8 (2 labels × 2×2×1) for images but received an instance of Uint8Array',
    );
    expect(() => new ArrayDataset({ images: new Uint8Array(8), labels: [0, 2], width: 2, height: 2, channels: 1, numClasses: 2 })).toThrow(
      'Expected integer in [0, 1] for labels[1] but received 2 of type number',
    );
    const ds = createDataset(TINY);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow('Expected positive integer for batchSize but received 0 of type number');
    expect(() => new DataLoader(ds, { numWorkers: -1 })).toThrow('Expected non-negative integer for numWorkers but received -1 of type number');
    expect(() => new DataLoader({} as never)).toThrow('Expected Dataset (createDataset, ImageFolder, ArrayDataset, ...) for dataset but received an object');
    expect(new DataLoader(ds, { batchSize: 1 }).length).toBe(2);
  });
});
