/**
 * `train` listens for SIGINT and SIGTERM before it writes the run directory's config.json. Without
 * a handler the signal ended the process inside that write, leaving the directory with only the
 * write's temporary file, which `list runs` calls corrupt ("no config.json") until the next train
 * removes it. With one, the write completes and the command stops before training, with the
 * signal's exit code.
 */
import * as fs from 'node:fs';
import type { CliDeps } from '../../../src/cli';
import { runDirFor } from '../../../src/experiments/paths';
import * as runs from '../../../src/experiments/runs';
import { runState } from '../../../src/experiments/run-scan';
import { parseConfig } from '../../../src/experiments/schema';
import { cli } from '../../helpers/cli';
import { removeDir, tempDir } from './fixtures';

let root: string;
beforeEach(() => { root = tempDir('train-signal-window'); });
afterEach(() => {
  jest.restoreAllMocks();
  removeDir(root);
});

it.each(['SIGINT', 'SIGTERM'] as const)('%s while the run directory is made: config.json whole, nothing trained, the exit code of the signal', async (name) => {
  const real = runs.createRunDir;
  // The signal arrives inside the write: emitted to the listeners there are then, as the kernel's would reach them.
  jest.spyOn(runs, 'createRunDir').mockImplementation((...args) => {
    process.emit(name, name);
    return real(...args);
  });
  const trained: string[] = [];
  const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async (_c, dir) => { trained.push(dir); } }) };
  const r = await cli(['train', '--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1', '--runs-dir', root], deps);
  const dir = runDirFor(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 }));
  expect(r.code).toBe(name === 'SIGINT' ? 130 : 143);
  expect(trained).toEqual([]);
  expect(r.err).toBe(`interrupted by ${name} before training began in ${dir}: the same command trains the run\n`);
  expect(fs.readdirSync(dir)).toEqual(['config.json']);
  expect(runs.readConfig(dir).epochs).toBe(1);
  expect(runState(dir)).toEqual({ state: 'new' });
  expect(process.listenerCount(name)).toBe(0);
});
