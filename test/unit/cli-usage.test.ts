/**
 * The `signin-torch` command as a careless user types it (issue: trying the toolkit from its
 * documentation): each mistake is one coded line naming the flag, before anything is written or
 * spawned, and the dry run refuses what the command would.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliDeps } from '../../src/cli';
import { createRunDir } from '../../src/experiments/runs';
import { parseConfig } from '../../src/experiments/schema';
import { maxThreads, maxThreadsReason } from '../../src/validate';
import { cli } from '../helpers/cli';
import { fakeRun, removeDir, tempDir } from './experiments/fixtures';

let root: string;
beforeEach(() => { root = tempDir('cli-usage'); });
afterEach(() => removeDir(root));

function writeGrid(): string {
  const file = path.join(root, 'grid.json');
  fs.writeFileSync(file, JSON.stringify({ base: { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 }, grid: {}, seeds: [0, 1] }));
  return file;
}

/** A trainer that must not be reached. */
const unreachable: CliDeps = { loadTrainer: () => ({ trainFromConfig: async () => { throw new Error('trained'); } }) };

describe('sweep --processes', () => {
  test.each([
    ['0', "'0'"], ['-1', "'-1'"], ['1.5', "'1.5'"], ['two', "'two'"],
  ])('%s is refused by the sweep and by its dry run alike', async (value, shown) => {
    const runs = path.join(root, 'runs');
    for (const dry of [[], ['--dry-run']]) {
      const r = await cli(['sweep', '--grid', writeGrid(), '--runs-dir', runs, '--processes', value, ...dry], unreachable);
      expect({ code: r.code, out: r.out, err: r.err }).toEqual({
        code: 1, out: '', err: `ERR_INVALID_ARG: Expected --processes to be an integer in [1, ${maxThreads()}] (${maxThreadsReason()}) but received ${shown}\n`,
      });
      expect(fs.existsSync(runs)).toBe(false);
    }
  });

  test('a flag value of 100,000 characters is quoted by its first 200 and its length', async () => {
    const r = await cli(['sweep', '--grid', writeGrid(), '--runs-dir', path.join(root, 'runs'), '--processes', '9'.repeat(100_000)], unreachable);
    expect({ code: r.code, err: r.err }).toEqual({
      code: 1, err: `ERR_INVALID_ARG: Expected --processes to be an integer in [1, ${maxThreads()}] (${maxThreadsReason()}) but received '${'9'.repeat(200)}…' (100000 characters)\n`,
    });
  });

  test('more child processes than twice the logical CPUs is refused (each loads libtorch: hundreds of MB)', async () => {
    const r = await cli(['sweep', '--grid', writeGrid(), '--runs-dir', root, '-p', String(maxThreads() + 1)], unreachable);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ERR_INVALID_ARG: Expected --processes to be an integer in \[1, \d+\]/);
    const ok = await cli(['sweep', '--grid', writeGrid(), '--runs-dir', root, '-p', String(maxThreads()), '--dry-run'], unreachable);
    expect(ok.code).toBe(0);
  });
});

describe('a folder of sweeps given as --runs-dir', () => {
  test('report and list runs name the subfolders that hold run directories, and write nothing', async () => {
    const sweep = path.join(root, 'main');
    fs.mkdirSync(sweep);
    fakeRun(sweep, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    fs.mkdirSync(path.join(root, 'other'));
    const expected = `ERR_INVALID_ARG: Expected --runs-dir to be the folder that holds run directories but ${root} holds none; its subfolder main does: pass ${sweep}\n`;
    for (const args of [['report', '--no-plots'], ['list', 'runs']]) {
      const r = await cli([...args, '--runs-dir', root]);
      expect({ args, code: r.code, out: r.out, err: r.err }).toEqual({ args, code: 1, out: '', err: expected });
    }
    expect(fs.readdirSync(root).sort()).toEqual(['main', 'other']);
    const two = path.join(root, 'second');
    fs.mkdirSync(two);
    fakeRun(two, { sparsity: 0.9, signin: true, seed: 0, final: 0.8 });
    const r = await cli(['list', 'runs', '--runs-dir', root]);
    expect(r.err).toBe(`ERR_INVALID_ARG: Expected --runs-dir to be the folder that holds run directories but ${root} holds none; its subfolders main, second do: pass one of them\n`);
  });

  test('an empty folder is still an empty report and an empty list', async () => {
    const r = await cli(['list', 'runs', '--runs-dir', root]);
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: `No runs in ${root}\n` });
    const rep = await cli(['report', '--runs-dir', root, '--no-plots']);
    expect(rep.code).toBe(0);
    expect(rep.out).toContain('No runs found');
  });
});

test('train --nproc refuses a bad SIGNIN_TORCH_DIST_TIMEOUT_S before it makes the run directory or starts a worker', async () => {
  const launched: unknown[] = [];
  const deps: CliDeps = { ...unreachable, launch: async (o) => { launched.push(o); return { exitCode: 0 } as never; } };
  const saved = process.env.SIGNIN_TORCH_DIST_TIMEOUT_S;
  process.env.SIGNIN_TORCH_DIST_TIMEOUT_S = 'abc';
  try {
    const runs = path.join(root, 'runs');
    const r = await cli(['train', '--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1', '--runs-dir', runs, '--nproc', '2'], deps);
    expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: "ERR_INVALID_ARG: Expected environment variable SIGNIN_TORCH_DIST_TIMEOUT_S to be an integer in [1, 2592000] but it is 'abc'\n" });
    expect(launched).toEqual([]);
    expect(fs.existsSync(runs)).toBe(false);
  } finally {
    if (saved === undefined) delete process.env.SIGNIN_TORCH_DIST_TIMEOUT_S;
    else process.env.SIGNIN_TORCH_DIST_TIMEOUT_S = saved;
  }
});

describe('a sweep file given to train, an experiment config given to sweep', () => {
  const config = { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 };

  test('train --config names the command that takes a sweep file, in one line', async () => {
    const file = path.join(root, 'sweep.json');
    fs.writeFileSync(file, JSON.stringify({ name: 's', base: config, grid: { 'pruning.sparsity': [0.9] }, seeds: [0] }));
    const r = await cli(['train', '--config', file, '--runs-dir', root], unreachable);
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({
      code: 1, out: '', err: `ERR_CONFIG: ${file} is a sweep file (it has base and grid), not an experiment config: run it with \`signin-torch sweep --grid ${file}\`\n`,
    });
  });

  test('train --config names sweep for a sweep file without a grid (base × seeds), not the experiment schema\'s key list', async () => {
    const file = path.join(root, 'seeds-only.json');
    fs.writeFileSync(file, JSON.stringify({ name: 's', base: config, seeds: [0, 1] }));
    const r = await cli(['train', '--config', file, '--runs-dir', root], unreachable);
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({
      code: 1, out: '', err: `ERR_CONFIG: ${file} is a sweep file (it has base), not an experiment config: run it with \`signin-torch sweep --grid ${file}\`\n`,
    });
  });

  test('sweep --grid names the command that takes an experiment config, in one line, dry run too', async () => {
    // config.json beside the runs: a folder of runs may keep one (it is not named as a run is).
    const file = path.join(root, 'config.json');
    fs.writeFileSync(file, JSON.stringify(config));
    for (const dry of [[], ['--dry-run']]) {
      const r = await cli(['sweep', '--grid', file, '--runs-dir', root, ...dry], unreachable);
      expect({ code: r.code, out: r.out, err: r.err }).toEqual({
        code: 1, out: '', err: `ERR_CONFIG: ${file} is an experiment config (it has dataset and model, no base), not a sweep file: train it with \`signin-torch train --config ${file}\`\n`,
      });
    }
  });
});

test('train and sweep refuse a run directory given as --runs-dir (a run inside a run, trained from scratch, instead of a resumption)', async () => {
  const { dir } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0 });
  const expected = `ERR_INVALID_ARG: Expected --runs-dir to be the folder that holds run directories but ${dir} is a run directory (it has config.json): pass ${root}\n`;
  const before = fs.readdirSync(dir).sort();
  for (const args of [['train', '--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1'], ['sweep', '--grid', writeGrid()]]) {
    for (const dry of [[], ['--dry-run']]) {
      const r = await cli([...args, '--runs-dir', dir, ...dry], unreachable);
      expect({ args, code: r.code, out: r.out, err: r.err }).toEqual({ args, code: 1, out: '', err: expected });
    }
  }
  expect(fs.readdirSync(dir).sort()).toEqual(before);
});

test('list runs tells apart runs whose method, sparsity and seed are the same (an ablation), naming the fields that differ', async () => {
  const config = (resetPeriod: number) => parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, pruning: { method: 'random', sparsity: 0.9 }, signin: { enabled: true, resetPeriod } });
  createRunDir(root, config(0));
  createRunDir(root, config(1));
  createRunDir(root, config(2));
  createRunDir(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 }));
  const r = await cli(['list', 'runs', '--runs-dir', root, '--json']);
  expect((JSON.parse(r.out) as { what: string }[]).map((x) => x.what).sort()).toEqual([
    'mnist lenet5 Dense 0% seed 0',
    'mnist lenet5 Random + Sign-In 90% seed 0 (signin.resetPeriod=0)',
    'mnist lenet5 Random + Sign-In 90% seed 0 (signin.resetPeriod=1)',
    'mnist lenet5 Random + Sign-In 90% seed 0 (signin.resetPeriod=2)',
  ]);
});

test('a sweep\'s start lines tell apart the runs of an ablation, as list runs does', async () => {
  const file = path.join(root, 'ablation.json');
  fs.writeFileSync(file, JSON.stringify({
    base: { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, pruning: { method: 'random', sparsity: 0.9 }, signin: { enabled: true } },
    grid: { 'signin.resetPeriod': [0, 2] }, seeds: [0],
  }));
  const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async () => undefined }) };
  const r = await cli(['sweep', '--grid', file, '--runs-dir', path.join(root, 'runs')], deps);
  expect(r.err.split('\n').filter((l) => l.includes(' start ')).map((l) => l.replace(/train_\w+ /, ''))).toEqual([
    '[1/2] start (mnist lenet5 Random + Sign-In 90% seed 0 (signin.resetPeriod=0))',
    '[2/2] start (mnist lenet5 Random + Sign-In 90% seed 0 (signin.resetPeriod=2))',
  ]);
});

test('an empty directory flag is refused, not read as the working folder (report --out \'\' wrote the report there)', async () => {
  const cwd = process.cwd();
  // A regression writes into the working folder: this one, not the checkout.
  process.chdir(root);
  try {
    await emptyFlags();
  } finally {
    process.chdir(cwd);
  }
  expect(fs.readdirSync(root)).toEqual([]);
});

async function emptyFlags(): Promise<void> {
  for (const args of [['report', '--runs-dir', root, '--out', ''], ['report', '--runs-dir', ''], ['list', 'runs', '--runs-dir', ' '], ['train', '--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1', '--runs-dir', '', '--dry-run']]) {
    const flag = args[args.indexOf(args.find((a) => a.trim() === '')!) - 1];
    const r = await cli(args, unreachable);
    expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 1, err: `ERR_INVALID_ARG: Expected ${flag} to be a directory but received an empty path\n` });
  }
}

test('--data-root that is a file is named as one, not as a missing dataset file under it', async () => {
  const file = path.join(root, 'train-images-idx3-ubyte.gz');
  fs.writeFileSync(file, 'x');
  const cases = [
    ['train', '--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1', '--runs-dir', root, '--dry-run', '--data-root', file],
    ['sweep', '--grid', writeGrid(), '--runs-dir', root, '--dry-run', '--data-root', file],
    ['prune', '--model', 'lenet5', '--dataset', 'mnist', '--pruner', 'snip', '--sparsity', '0.5', '--data-root', file],
  ];
  for (const args of cases) {
    const r = await cli(args, unreachable);
    expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 1, err: `ERR_INVALID_ARG: Expected --data-root to be a directory but ${file} is a file\n` });
  }
});
