/** `--import`: which arguments name modules, and one coded line when one cannot be loaded. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importFlags, loadImports, withImports } from '../../src/cli/imports';
import { cli } from '../helpers/cli';
import { tmpDir } from '../helpers/data-fixtures';

const dir = tmpDir('cli-import-flags-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('before or after the command, spaced or with =, repeated; `--` ends them', () => {
  expect(importFlags(['node', 'signin-torch', '--import', 'a.js', 'train', '--import=b.js', '-c', 'x.json', '--', '--import', 'c.js'])).toEqual(['a.js', 'b.js']);
  expect(() => importFlags(['node', 'signin-torch', 'train', '--import', '--config', 'x.json'])).toThrow("Expected a module path after --import but received '--config'");
});

test('paths are made absolute against the working folder, and children get them', () => {
  const file = path.join(dir, 'noop.js');
  fs.writeFileSync(file, 'module.exports = 1;');
  expect(loadImports(['noop.js'], dir)).toEqual([file]);
  expect(withImports({ command: 'node', args: ['cli.js', 'train'] }, [file])).toEqual({ command: 'node', args: ['cli.js', 'train', '--import', file] });
});

test('a missing module, one that throws, or an empty path: one ERR_INVALID_ARG line, exit 1, nothing else run', async () => {
  const throwing = path.join(dir, 'throws.js');
  fs.writeFileSync(throwing, "throw new Error('my registry is broken');");
  const cases: [string[], string][] = [
    [['list', 'datasets', '--import', path.join(dir, 'nope.js')], `ERR_INVALID_ARG: Expected a module that loads for --import but ${path.join(dir, 'nope.js')} failed: Cannot find module '${path.join(dir, 'nope.js')}'`],
    [['--import', throwing, 'list', 'datasets'], `ERR_INVALID_ARG: Expected a module that loads for --import but ${throwing} failed: my registry is broken`],
    [['list', 'datasets', '--import='], "ERR_INVALID_ARG: Expected a module path for --import but received ''"],
  ];
  for (const [args, line] of cases) {
    const r = await cli(args);
    expect({ code: r.code, out: r.out, err: r.err.split('\n')[0] }).toEqual({ code: 1, out: '', err: expect.stringContaining(line) });
  }
});

test('a registered dataset is a choice of --dataset and listed by list datasets', async () => {
  const ext = path.join(dir, 'ext.js');
  fs.writeFileSync(ext, `const { registerDataset, ArrayDataset } = require(${JSON.stringify(path.resolve(__dirname, '../../src/data'))});
registerDataset('flag_toy', () => new ArrayDataset({ images: new Uint8Array(4), labels: [0], width: 2, height: 2, channels: 1, numClasses: 1 }));`);
  const listed = await cli(['list', 'datasets', '--import', ext]);
  expect(listed.out).toMatch(/^flag_toy +set by model\.options +set by model\.options +as its factory reads it$/m);
  const help = await cli(['train', '--help', '--import', ext]);
  expect(help.out).toMatch(/--dataset <name>[^]*"imagenet", "flag_toy"/);
});

test('--model of train and prune lists the model registry: its names, its families as patterns, and a registered model', async () => {
  const ext = path.join(dir, 'model-ext.js');
  fs.writeFileSync(ext, `const { registerModel, Mlp } = require(${JSON.stringify(path.resolve(__dirname, '../../src/models'))});
const { int } = require(${JSON.stringify(path.resolve(__dirname, '../../src/validate'))});
const check = (p, v) => int(p, v, 1);
registerModel({ name: 'flag_net', description: 'test', options: { numClasses: { default: 2, check }, inChannels: { default: 1, check }, inputSize: { default: 4, check } }, create: (o) => new Mlp(o) });`);
  for (const command of ['train', 'prune']) {
    const help = (await cli([command, '--help', '--import', ext])).out;
    const entry = help.split(/\n(?= {2}-)/).map((e) => e.replace(/\s+/g, ' ').trim()).find((e) => e.startsWith('--model <name> '));
    expect(entry).toMatch(/ \(choices: "cifar_resnet", "cifar_resnet_20", .*"lenet5", .*"deit_small", "flag_net", or a family member: cifar_resnet_<6n\+2>, wrn_<6n\+4>_<k>\)$/);
  }
});

test('a config naming an unknown dataset or pruner ends its error line with the fix; other errors do not', async () => {
  const write = (name: string, config: object) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(config));
    return file;
  };
  const hint = '; a name of your own: --import the module that registers it (docs/extending.md)';
  const unknownSet = await cli(['train', '--config', write('set.json', { dataset: { name: 'my_set' }, model: { name: 'lenet5' }, epochs: 1 }), '--dry-run']);
  expect(unknownSet.err).toMatch(/dataset\.name: Expected one of .* but received 'my_set' of type string; a name of your own/);
  expect(unknownSet.err.endsWith(`${hint}\n`)).toBe(true);
  const unknownPruner = await cli(['train', '--config', write('p.json', { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, pruning: { method: 'my_p', sparsity: 0.5 }, epochs: 1 }), '--dry-run']);
  expect(unknownPruner.err.endsWith(`${hint}\n`)).toBe(true);
  const other = await cli(['train', '--config', write('e.json', { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: -1 }), '--dry-run']);
  expect({ code: other.code, hint: other.err.includes('--import') }).toEqual({ code: 1, hint: false });
});
