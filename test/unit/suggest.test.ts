/**
 * "did you mean": each expected suggestion is written by hand from the rule (src/suggest.ts):
 * same name without case and separators, else names containing the word with its numbers, else
 * the nearest by edit distance.
 */
import { DATASET_NAMES, PRUNING_METHODS } from '../../src/experiments/schema';
import { didYouMean, suggest } from '../../src/suggest';
import { buildsByDefault, modelFamilies, modelNames } from '../../src/models/registry';

const MODELS = [...modelNames(), ...modelFamilies()];

const TABLE: [string, readonly string[], string[]][] = [
  // 1. case and separators ignored
  ['resnet-50', MODELS, ['resnet50']],
  ['WRN-28-10', MODELS, ['wrn_28_10']],
  ['WRN-16-4', MODELS, ['wrn_16_4']],
  ['FashionMNIST', DATASET_NAMES, ['fashion_mnist']],
  ['fashion-mnist', DATASET_NAMES, ['fashion_mnist']],
  ['CIFAR10', DATASET_NAMES, ['cifar10']],
  ['SynFlow', PRUNING_METHODS, ['synflow']],
  ['CIFAR-ResNet-26', MODELS, ['cifar_resnet_26']],
  // 2. contained from a word's start, same numbers; ending with it first
  ['ResNet20', MODELS, ['cifar_resnet_20']],
  ['resnet_20', MODELS, ['cifar_resnet_20']],
  ['ResNet-20', MODELS, ['cifar_resnet_20']],
  ['resnet_26', MODELS, ['cifar_resnet_26']],
  ['lenet', MODELS, ['lenet5']],
  ['deit', MODELS, ['deit_tiny', 'deit_small']],
  ['resnet', MODELS, ['cifar_resnet', 'wide_resnet', 'cifar_resnet_20']],
  ['fashion', DATASET_NAMES, ['fashion_mnist']],
  ['cifar', DATASET_NAMES, ['cifar10', 'cifar100']],
  // 3. edit distance
  ['resnet51', MODELS, ['resnet50']],
  ['cifar11', DATASET_NAMES, ['cifar10']],
  ['resnet_27', MODELS, ['resnet18']],
  ['snipp', PRUNING_METHODS, ['snip']],
  // rule 3 only: 'net' is 2 edits from 'vit'; then nothing near
  ['net', MODELS, ['vit']],
  ['transformer', MODELS, []],
  ['my_net', MODELS, []],
  ['a_long_unrelated_name_of_a_dataset', DATASET_NAMES, []],
  ['x'.repeat(1_000_000), MODELS, []],
];

test.each(TABLE.map(([word, names, expected]) => [word.length > 40 ? `${word.slice(0, 8)}… (${word.length} characters)` : word, expected, word, names] as const))('%s → %j', (_, expected, word, names) => {
  expect(suggest(word, names, buildsByDefault)).toEqual(expected);
});

test('a config key: camelCase words count as words', () => {
  const keys = ['lr', 'momentum', 'nesterov', 'weightDecay', 'excludeBnAndBias'];
  expect(suggest('weight_decay', keys)).toEqual(['weightDecay']);
  expect(suggest('decay', keys)).toEqual(['weightDecay']);
  expect(suggest('lrr', keys)).toEqual(['lr']);
});

test('a family member the family refuses is no suggestion', () => {
  expect(suggest('cifar-resnet-27', ['cifar_resnet_<6n+2>'], buildsByDefault)).toEqual([]);
  expect(suggest('cifar-resnet-27', ['cifar_resnet_<6n+2>'])).toEqual(['cifar_resnet_27']);
});

test('didYouMean lists one, two or three', () => {
  expect(didYouMean([])).toBe('');
  expect(didYouMean(['a'])).toBe(" (did you mean 'a'?)");
  expect(didYouMean(['a', 'b'])).toBe(" (did you mean 'a' or 'b'?)");
  expect(didYouMean(['a', 'b', 'c'])).toBe(" (did you mean 'a', 'b' or 'c'?)");
});
