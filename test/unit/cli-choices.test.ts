/**
 * A value a flag's or argument's choices refuse: commander's refusal names the choice it probably
 * meant (src/cli/choices.ts); the help still lists the choices. Each expected suggestion follows
 * from src/suggest.ts's first rule (case and separators ignored).
 */
import { cli } from '../helpers/cli';

test.each([
  [['train', '--dataset', 'FashionMNIST'], "option '--dataset <name>' argument 'FashionMNIST'", 'fashion_mnist'],
  [['train', '--pruner', 'SynFlow'], "option '--pruner <method>' argument 'SynFlow'", 'synflow'],
  [['train', '--distribution', 'ERK'], "option '--distribution <d>' argument 'ERK'", 'erk'],
  [['prune', '--model', 'lenet5', '--sparsity', '0.5', '--scope', 'Global'], "option '--scope <scope>' argument 'Global'", 'global'],
  [['evaluate', 'runs', '--split', 'Test'], "option '--split <split>' argument 'Test'", 'test'],
  [['export', 'runs', '--out', 'x.safetensors', '--dtype', 'Float-16'], "option '--dtype <dtype>' argument 'Float-16'", 'float16'],
  [['list', 'Models'], "command-argument value 'Models' is invalid for argument 'what'", 'models'],
  [['download', 'CIFAR-10'], "command-argument value 'CIFAR-10' is invalid for argument 'dataset'", 'cifar10'],
])('%j: did you mean', async (args, refused, meant) => {
  const r = await cli(args);
  expect(r.code).toBe(1);
  expect(r.err).toContain(`error: ${refused}`);
  expect(r.err.split('\n')[0]).toMatch(new RegExp(`Allowed choices are [^(]+ \\(did you mean '${meant}'\\?\\)\\.$`));
});

test('the whole line, and none for a value near no choice', async () => {
  expect((await cli(['train', '--dataset', 'Fashion-MNIST'])).err.split('\n')[0]).toBe(
    "error: option '--dataset <name>' argument 'Fashion-MNIST' is invalid. Allowed choices are fashion_mnist, mnist, cifar10, cifar100, imagenet (did you mean 'fashion_mnist'?).",
  );
  expect((await cli(['train', '--dataset', 'street_view_house_numbers'])).err.split('\n')[0]).toBe(
    "error: option '--dataset <name>' argument 'street_view_house_numbers' is invalid. Allowed choices are fashion_mnist, mnist, cifar10, cifar100, imagenet.",
  );
});

test('the help still lists the choices', async () => {
  // Commander wraps the help to the terminal's width.
  const help = async (command: string) => (await cli([command, '--help'])).out.replace(/\s+/g, ' ');
  expect(await help('train')).toContain('--dataset <name> dataset.name (choices: "fashion_mnist", "mnist", "cifar10", "cifar100", "imagenet")');
  expect(await help('list')).toContain('what to list (choices: "models", "pruners", "datasets", "runs")');
});
