/**
 * "did you mean" in an UnknownNameError, for code calling the registries directly: each expected
 * suggestion is written by hand from src/suggest.ts's rules, as the config schema gives it.
 */
import { checkDatasetFiles, createDataset, defaultTransforms } from '../../src/data/registry';
import { UnknownNameError } from '../../src/errors';
import { createModel } from '../../src/models/registry';
import { get as getPruner } from '../../src/pruning/registry';
import { errorOf } from '../helpers/error-of';

const UNRELATED: string = 'a_long_unrelated_name_of_something';

describe('the model registry', () => {
  test.each([
    ['ResNet20', 'cifar_resnet_20'],
    ['WRN-28-10', 'wrn_28_10'],
    // a family member its family builds (6n + 2), as the schema suggests it
    ['resnet_26', 'cifar_resnet_26'],
    ['resnet51', 'resnet50'],
  ])('%s → %s', (name, meant) => {
    const e = errorOf(() => createModel(name));
    expect(e).toBeInstanceOf(UnknownNameError);
    expect(e.message).toMatch(new RegExp(`^Unknown model '${name}' \\(did you mean '${meant}'\\?\\); valid names: cifar_resnet, `));
  });

  test('an unrelated name: no suggestion', () => {
    expect(errorOf(() => createModel(UNRELATED)).message).toMatch(new RegExp(`^Unknown model '${UNRELATED}'; valid names: `));
  });
});

describe('the dataset registry', () => {
  const list = 'valid names: fashion_mnist, mnist, cifar10, cifar100, imagenet';
  test.each([
    ['createDataset', (n: string) => createDataset(n)],
    ['checkDatasetFiles', (n: string) => checkDatasetFiles(n)],
    ['defaultTransforms', (n: string) => defaultTransforms(n, true)],
  ])('%s', (_, lookup) => {
    expect(errorOf(() => lookup('FashionMNIST')).message).toBe(`Unknown dataset 'FashionMNIST' (did you mean 'fashion_mnist'?); ${list}`);
    expect(errorOf(() => lookup('cifar')).message).toBe(`Unknown dataset 'cifar' (did you mean 'cifar10' or 'cifar100'?); ${list}`);
    expect(errorOf(() => lookup(UNRELATED)).message).toBe(`Unknown dataset '${UNRELATED}'; ${list}`);
  });
});

test('the pruner registry', () => {
  const list = 'valid names: grasp, magnitude, random, snip, synflow';
  expect(errorOf(() => getPruner('SynFlow')).message).toBe(`Unknown pruner 'SynFlow' (did you mean 'synflow'?); ${list}`);
  expect(errorOf(() => getPruner('snipp')).message).toBe(`Unknown pruner 'snipp' (did you mean 'snip'?); ${list}`);
  expect(errorOf(() => getPruner(UNRELATED)).message).toBe(`Unknown pruner '${UNRELATED}'; ${list}`);
});

describe('UnknownNameError', () => {
  test('a family member is suggested when accepts takes it', () => {
    const families = ['lenet5', 'cifar_resnet_<6n+2>'];
    const even = (m: string) => Number(m.split('_').pop()) % 6 === 2;
    expect(new UnknownNameError('model', 'resnet-26', families, even).message).toBe(
      "Unknown model 'resnet-26' (did you mean 'cifar_resnet_26'?); valid names: lenet5, cifar_resnet_<6n+2>",
    );
    expect(new UnknownNameError('model', 'resnet-27', families, even).message).toBe("Unknown model 'resnet-27'; valid names: lenet5, cifar_resnet_<6n+2>");
  });

  test('no suggestion from what is not a name', () => {
    expect(new UnknownNameError('model', 42 as never, ['lenet5']).message).toBe('Unknown model 42 of type number; valid names: lenet5');
    expect(new UnknownNameError('model', 'lenet', [42, 'lenet5'] as never).message).toBe("Unknown model 'lenet' (did you mean 'lenet5'?); valid names: 42 of type number, lenet5");
    expect(new UnknownNameError('model', 'lenet', 'lenet5' as never).message).toBe("Unknown model 'lenet'; valid names: 'lenet5' of type string");
  });
});
