/**
 * The examples' command lines (their header's usage lines) as a careless user types them: a
 * misspelt flag or a value out of range is one ERR_INVALID_ARG line naming the flag, not ignored
 * (the run goes on with the default), not NaN (a table of untrained starts), not a stack trace.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs as singleNeuronArgs } from '../../examples/single-neuron';
import { tmpDir } from '../helpers/data-fixtures';
import { parseArgs as lenetArgs } from '../../examples/fashion-mnist-lenet';

/** What the example prints for the error parse throws: `<code>: <message>` (commander's own carry their text). */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (e) {
    const err = e as { code?: string; message: string };
    return err.code?.startsWith('ERR_') ? `${err.code}: ${err.message}` : err.message;
  }
  return 'accepted';
}

describe('examples/single-neuron.ts', () => {
  test('every option of the run is a flag, kebab-case as the usage line says', () => {
    expect(singleNeuronArgs(['--d', '1', '--n', '64', '--steps', '10', '--lr', '0.1', '--scale', '0.25', '--beta', '2', '--reset-every', '0', '--tol', '1e-9', '--seed', '3', '--json'])).toEqual({
      d: 1, n: 64, steps: 10, lr: 0.1, scale: 0.25, beta: 2, resetEvery: 0, tol: 1e-9, seed: 3, json: true,
    });
    expect(singleNeuronArgs([])).toEqual({});
  });

  test.each([
    [['--steps', 'abc'], "ERR_INVALID_ARG: Expected --steps to be a positive integer but received 'abc'"],
    [['--d', '0'], "ERR_INVALID_ARG: Expected --d to be a positive integer but received '0'"],
    [['--n', '-5'], "ERR_INVALID_ARG: Expected --n to be a positive integer but received '-5'"],
    [['--lr', '0'], "ERR_INVALID_ARG: Expected --lr to be a positive number but received '0'"],
    [['--beta', 'NaN'], "ERR_INVALID_ARG: Expected --beta to be a positive number but received 'NaN'"],
    [['--reset-every', '-1'], "ERR_INVALID_ARG: Expected --reset-every to be an integer >= 0 but received '-1'"],
    [['--seed', '1.5'], "ERR_INVALID_ARG: Expected --seed to be an integer >= 0 but received '1.5'"],
    [['--stepz', '10'], "error: unknown option '--stepz'\n(Did you mean --steps?)"],
  ])('%j is refused: %s', (argv, message) => {
    expect(refusal(() => singleNeuronArgs(argv))).toContain(message);
  });
});

describe('examples/fashion-mnist-lenet.ts', () => {
  test('its flags, with their defaults', () => {
    expect(lenetArgs([])).toEqual({ sparsity: 0.9, epochs: 3, lr: 0.05, signin: false, batchNorm: true, threads: 2 });
    expect(lenetArgs(['--sparsity', '0', '--epochs', '1', '--signin', '--no-batch-norm', '--threads', '1'])).toMatchObject({ sparsity: 0, epochs: 1, signin: true, batchNorm: false, threads: 1 });
  });

  test.each([
    [['--epochs', 'abc'], "ERR_INVALID_ARG: Expected --epochs to be a positive integer but received 'abc'"],
    [['--epochs', '0'], "ERR_INVALID_ARG: Expected --epochs to be a positive integer but received '0'"],
    [['--sparsity', '1'], "ERR_INVALID_ARG: Expected --sparsity to be a fraction in [0, 1) but received '1'"],
    [['--lr', '-1'], "ERR_INVALID_ARG: Expected --lr to be a positive number but received '-1'"],
    [['--threads', '0'], 'ERR_INVALID_ARG: Expected --threads to be an integer in [1, '],
  ])('%j is refused: %s', (argv, message) => {
    expect(refusal(() => lenetArgs(argv))).toContain(message);
  });
});

describe('examples/fashion-mnist.ts (the main job)', () => {
  const dir = tmpDir('signin-main-flags-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const runsDir = path.join(dir, 'runs');
  const REPO = path.join(__dirname, '..', '..');
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, ['--import', require.resolve('tsx'), path.join(REPO, 'examples', 'fashion-mnist.ts'), '--runs-dir', runsDir, ...args], {
    cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000,
  });

  test.each([
    [[], { SIGNIN_MAIN_EPOCHS: 'x' }, "ERR_INVALID_ARG: Expected SIGNIN_MAIN_EPOCHS to be a positive integer but it is 'x'"],
    [[], { SIGNIN_MAIN_TRAIN_BATCHES: '-1' }, "ERR_INVALID_ARG: Expected SIGNIN_MAIN_TRAIN_BATCHES to be a non-negative integer (0: every batch) but it is '-1'"],
    [['--sparsity', 'abc'], {}, "ERR_INVALID_ARG: Expected --sparsity to be a fraction in [0, 1) but received 'abc'"],
    [['--seed', '-1'], {}, "ERR_INVALID_ARG: Expected --seed to be an integer >= 0 but received '-1'"],
  ])('%j %j: one line naming it, nothing trained', (args, env, line) => {
    const r = run(args, env);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: `${line}\n` });
    expect(fs.existsSync(runsDir)).toBe(false);
  }, 60_000);
});
