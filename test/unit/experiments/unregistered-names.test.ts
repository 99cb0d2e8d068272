/**
 * A config naming a dataset, model or pruner this process has not registered, given to the
 * entry points from code: the error names the fix for code (register it in this process first),
 * as the CLI's names --import.
 */
import * as path from 'node:path';
import { createRunDir, expandSweep, modelOptionsFor, parseConfig, planSweep, runSweep, trainFromConfig } from '../../../src/experiments';
import { cli } from '../../helpers/cli';
import { removeDir, tempDir } from './fixtures';

let root: string;
beforeEach(() => { root = tempDir('unregistered-names'); });
afterEach(() => removeDir(root));

const FIX = 'A name of your own must be registered in this process before the config is parsed: call registerModel there, or import the module of yours that does, first; from the CLI, pass that module with --import (docs/extending.md)';
const config = { dataset: { name: 'mnist' }, model: { name: 'my_net' }, epochs: 1 };

test.each([
  ['runSweep', () => runSweep([config as never], { runsDir: root })],
  ['planSweep', () => planSweep([config as never], root)],
  ['expandSweep', () => expandSweep({ base: config })],
  ['parseConfig', () => parseConfig(config)],
  ['createRunDir', () => createRunDir(root, config as never)],
  ['trainFromConfig', () => trainFromConfig(config as never, path.join(root, 'run'))],
  ['modelOptionsFor', () => modelOptionsFor(config as never)],
])('%s: ERR_CONFIG ending with the fix for code', async (_, call) => {
  const error = await (async () => call())().then(() => undefined, (e: unknown) => e as { code: string; message: string });
  expect(error?.code).toBe('ERR_CONFIG');
  expect(error?.message).toMatch(/\n\tmodel\.name: Expected one of .* but received 'my_net' of type string\n/);
  expect(error?.message.endsWith(`\n${FIX}`)).toBe(true);
});

test('each registry named once; another error has no such fix', () => {
  const message = (c: object) => { try { parseConfig(c); return ''; } catch (e) { return (e as Error).message; } };
  expect(message({ ...config, dataset: { name: 'my_set' }, pruning: { method: 'my_p', sparsity: 0.5 } }).split('\n').pop())
    .toBe(FIX.replace('call registerModel there', 'call registerDataset / registerModel / registerPruner there'));
  expect(message({ ...config, model: { name: 'lenet5' }, epochs: 0 })).not.toContain('registered');
});

test('the CLI prints its --import hint instead', async () => {
  const r = await cli(['train', '--dataset', 'mnist', '--model', 'my_net', '--epochs', '1', '--runs-dir', root, '--dry-run']);
  expect({ code: r.code, fixForCode: r.err.includes('registered in this process') }).toEqual({ code: 1, fixForCode: false });
  expect(r.err.endsWith("but received 'my_net' of type string; a name of your own: --import the module that registers it (docs/extending.md)\n")).toBe(true);
});
