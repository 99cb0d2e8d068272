import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseAssignment, trainConfigFromFlags, type CliDeps } from '../../../src/cli';
import { formatError } from '../../../src/cli/format-error';
import type { LaunchOptions } from '../../../src/distributed/launch';
import { IssuesError, ToolkitError } from '../../../src/errors';
import { runDirFor, runPaths } from '../../../src/experiments/paths';
import * as runScan from '../../../src/experiments/run-scan';
import { createRunDir, readConfig, writeFinal } from '../../../src/experiments/runs';
import { parseConfig, type ExperimentConfig } from '../../../src/experiments/schema';
import { fashionImages, writeIdxSet } from '../../helpers/data-fixtures';
import { fakeRun, removeDir, tempDir } from './fixtures';
import { cli } from '../../helpers/cli';


let root: string;
beforeEach(() => { root = tempDir('cli'); });
afterEach(() => removeDir(root));

const trainArgs = ['--dataset', 'mnist', '--model', 'lenet5', '--epochs', '2'];

/** A trainer stand-in that records its calls and writes final.json. */
function fakeTrainer(calls: [ExperimentConfig, string][]): CliDeps {
  return {
    loadTrainer: () => ({
      trainFromConfig: async (config, runDir) => {
        calls.push([config, runDir]);
        writeFinal(runDir, { epoch: config.epochs, step: 1, testAcc: 0.9 });
      },
    }),
  };
}

describe('help and usage errors', () => {
  test('--help lists the subcommands; each subcommand has its own --help', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['train', 'sweep', 'report', 'prune']) expect(top.out).toContain(c);
    for (const [c, flag] of [['train', '--config'], ['sweep', '--processes'], ['report', '--runs-dir'], ['prune', '--distribution']]) {
      const r = await cli([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toContain(flag);
    }
  });

  test('train --help gives each config flag the schema\'s default', async () => {
    const help = (await cli(['train', '--help'])).out;
    // One entry per option, however the help wraps it.
    const entries = help.split(/\n(?= {2}-)/).map((e) => e.replace(/\s+/g, ' ').trim());
    const entry = (flag: string) => entries.find((e) => e.startsWith(`${flag} `) || e.startsWith(`-c, ${flag} `)) ?? `${flag}: not in the help`;
    const defaults = parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 });
    const flags: [string, unknown][] = [
      ['--lr', defaults.optimizer.lr], ['--batch-size', defaults.batchSize], ['--weight-decay', defaults.optimizer.weightDecay],
      ['--beta', defaults.signin.beta], ['--reset-period', defaults.signin.resetPeriod], ['--seed', defaults.seed],
      ['--device', defaults.device], ['--threads', defaults.threads], ['--pruner', defaults.pruning.method],
      ['--sparsity', defaults.pruning.sparsity], ['--signin', defaults.signin.enabled],
    ];
    for (const [flag, value] of flags) expect(entry(flag)).toContain(`(default: ${JSON.stringify(value)})`);
    expect(entry('--no-signin')).toContain('signin.enabled = false');
  });

  test('--no-signin turns Sign-In off, over a config file; neither flag keeps the file\'s', async () => {
    const file = path.join(root, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, signin: { enabled: true } }));
    const enabled = async (args: string[]) => {
      const calls: [ExperimentConfig, string][] = [];
      const r = await cli(['train', '--config', file, '--runs-dir', path.join(root, args.join('')), ...args], fakeTrainer(calls));
      expect(r.code).toBe(0);
      return calls[0][0].signin.enabled;
    };
    expect(await enabled(['--no-signin'])).toBe(false);
    expect(await enabled([])).toBe(true);
    expect(await enabled(['--no-signin', '--signin'])).toBe(true);
  });

  test('an unknown command or bad choice exits 1 with one line', async () => {
    const r = await cli(['bogus']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: unknown command 'bogus'/);
    const c = await cli(['train', '--pruner', 'magic']);
    expect(c.code).toBe(1);
    expect(c.err).toContain("argument 'magic' is invalid. Allowed choices are none, random, magnitude, snip, grasp, synflow");
  });
});

describe('train', () => {
  test('an invalid config prints ONE line with the code and every issue, no stack', async () => {
    const r = await cli(['train', '--dataset', 'mnist', '--epochs', 'ten', '--sparsity', '0.5', '--set', 'optimizer.lrr=1']);
    expect(r.code).toBe(1);
    expect(r.err).toBe("ERR_CONFIG: Invalid experiment config from flags (4 issues): model: Required: expected object; optimizer.lrr: Unknown key (did you mean 'lr'?); valid keys: lr, momentum, nesterov, weightDecay, excludeBnAndBias, name, betas, eps; epochs: Expected number but received 'ten' of type string; pruning.sparsity: Expected 0 when pruning.method is 'none' but received 0.5 of type number; set pruning.method to one of 'random', 'magnitude', 'snip', 'grasp', 'synflow'\n");
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  test('--dry-run prints the run directory and the resolved config', async () => {
    const data = path.join(root, 'data');
    writeIdxSet(data, fashionImages(4), true);
    const r = await cli(['train', ...trainArgs, '--data-root', data, '--runs-dir', root, '--dry-run', '--signin', '--pruner', 'random', '--sparsity', '0.9']);
    expect(r.code).toBe(0);
    const [dir, ...json] = r.out.split('\n');
    const config = parseConfig(JSON.parse(json.join('\n')));
    expect(dir).toBe(runDirFor(root, config));
    expect(config).toMatchObject({ signin: { enabled: true }, pruning: { method: 'random', sparsity: 0.9 }, epochs: 2 });
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('an unknown model, bad model options or missing data fail before any run directory exists (real checks, --dry-run too)', async () => {
    const data = path.join(root, 'data');
    writeIdxSet(data, fashionImages(4), false);
    const runs = path.join(root, 'runs');
    const cases: [string[], RegExp][] = [
      [['--model', 'resnet51'], /^ERR_CONFIG: Invalid experiment config from flags \(1 issue\): model\.name: Expected one of .*'resnet50'.* but received 'resnet51' of type string \(did you mean 'resnet50'\?\); a name of your own: --import the module that registers it/],
      [['--set', 'model.options.depth=7', '--model', 'cifar_resnet'], /^ERR_INVALID_ARG: .*options\.depth/],
      [['--set', 'model.options.widht=2'], /^ERR_INVALID_ARG: Expected names among .* for the option names of model lenet5 but received 'widht'/],
      [['--data-root', path.join(root, 'nowhere')], new RegExp(`^ERR_DATASET: Missing dataset file ${root}/nowhere/train-images-idx3-ubyte\\.gz`)],
      [['--dataset', 'cifar10', '--model', 'cifar_resnet_20', '--data-root', data], new RegExp(`^ERR_DATASET: Missing dataset file ${data}/data_batch_1\\.bin: fetch it with "signin-torch download cifar10 --root ${data}" or pass --data-root, the folder with data_batch_1\\.bin`)],
    ];
    for (const [args, message] of cases) {
      for (const dry of [['--dry-run'], []]) {
        const r = await cli(['train', ...trainArgs, '--data-root', data, '--runs-dir', runs, ...args, ...dry]);
        expect({ args, code: r.code, out: r.out }).toEqual({ args, code: 1, out: '' });
        expect(r.err).toMatch(message);
        expect(fs.existsSync(runs)).toBe(false);
      }
    }
    fs.rmSync(path.join(data, 't10k-labels-idx1-ubyte'));
    const r = await cli(['train', ...trainArgs, '--data-root', data, '--runs-dir', runs, '--dry-run']);
    expect(r.err).toBe(`ERR_DATASET: Missing dataset file ${data}/t10k-labels-idx1-ubyte.gz (nor ${data}/t10k-labels-idx1-ubyte): pass --data-root, a folder with the four MNIST IDX files\n`);
    // The hint names the flag the command has: train's and prune's --data-root.
    const noRoot = await cli(['train', '--dataset', 'cifar10', '--model', 'cifar_resnet_20', '--epochs', '1', '--dry-run']);
    expect(noRoot.err).toMatch(/^ERR_DATASET: CIFAR-10 has no offline copy: fetch it with "signin-torch download cifar10" or pass --data-root, the folder with data_batch_1\.bin .*\n$/);
    const prune = await cli(['prune', '--model', 'lenet5', '--dataset', 'mnist', '--pruner', 'snip', '--sparsity', '0.5', '--data-root', path.join(root, 'nowhere')]);
    expect(prune.err.split('\n').slice(-2)).toEqual([expect.stringMatching(new RegExp(`^ERR_DATASET: Missing dataset file ${root}/nowhere/train-images-idx3-ubyte\\.gz .*: pass --data-root, a folder with the four MNIST IDX files$`)), '']);
  });

  test('runs the trainer in its run directory; a finished run is skipped', async () => {
    const calls: [ExperimentConfig, string][] = [];
    const r = await cli(['train', ...trainArgs, '--runs-dir', root, '--seed', '3'], fakeTrainer(calls));
    expect(r.code).toBe(0);
    expect(calls).toHaveLength(1);
    const [config, dir] = calls[0];
    expect(config.seed).toBe(3);
    expect(dir).toBe(runDirFor(root, config));
    expect(readConfig(dir)).toEqual(config);
    expect(r.err).toContain(`training mnist lenet5 Dense 0% seed 3 in ${dir}`);
    const again = await cli(['train', ...trainArgs, '--runs-dir', root, '--seed', '3'], fakeTrainer(calls));
    expect(again.err).toBe(`already finished: ${dir}\n`);
    expect(calls).toHaveLength(1);
  });

  test('--config file, then flags, then --set', () => {
    const file = path.join(root, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, epochs: 160, optimizer: { lr: 0.2 } }));
    const { raw, source } = trainConfigFromFlags({ config: file, epochs: 1, set: ['optimizer.lr=0.05', 'model.options={"width":2}', 'device=cpu'] });
    expect(source).toBe(`from ${file}`);
    expect(raw).toEqual({ dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20', options: { width: 2 } }, epochs: 1, optimizer: { lr: 0.05 }, device: 'cpu' });
    expect(() => trainConfigFromFlags({ config: path.join(root, 'missing.json') })).toThrow(/Cannot read config .*missing\.json/);
  });

  test('__proto__, constructor and prototype keys are rejected before they touch any object', async () => {
    const polluted = () => Object.keys(Object.prototype).concat(Object.getOwnPropertyNames(Object.prototype).filter((k) => /^(x|y|z|polluted)$/.test(k)));
    const file = path.join(root, 'c.json');
    fs.writeFileSync(file, '{"dataset": {"name": "mnist"}, "model": {"name": "lenet5", "options": {"__proto__": {"polluted": 1}}}}');
    const cases: [string[], string][] = [
      [['--set', '__proto__.x=1'], "ERR_CONFIG: Invalid experiment config (1 issue): __proto__.x: '__proto__' is not allowed as a key\n"],
      [['--set', 'constructor.prototype.y=1'], "ERR_CONFIG: Invalid experiment config (1 issue): constructor.prototype.y: 'constructor' is not allowed as a key\n"],
      [['--set', 'model.options={"a":{"__proto__":{"z":1}}}'], "ERR_CONFIG: Invalid experiment config (1 issue): model.options.a.__proto__: '__proto__' is not allowed as a key\n"],
      [['--config', file], `ERR_CONFIG: Invalid config ${file}: model.options.__proto__: '__proto__' is not allowed as a key\n`],
    ];
    for (const [args, err] of cases) {
      const r = await cli(['train', ...trainArgs, '--runs-dir', root, '--dry-run', ...args]);
      expect({ code: r.code, err: r.err }).toEqual({ code: 1, err });
      expect(polluted()).toEqual([]);
    }
    expect(parseConfig.bind(null, JSON.parse('{"__proto__": {"x": 1}, "dataset": {"name": "mnist"}, "model": {"name": "lenet5"}}'))).toThrow("__proto__: '__proto__' is not allowed as a key");
  });

  // Found by test/fuzz/files.test.ts: the key check's recursion overflowed the stack (a RangeError, no code).
  test('a config nested 20000 deep is refused as too deep, in a train --config file and in a run directory', () => {
    const deep = `${'{"a":'.repeat(20000)}1${'}'.repeat(20000)}`;
    const file = path.join(root, 'deep.json');
    fs.writeFileSync(file, `{"dataset": {"name": "mnist"}, "model": {"name": "lenet5"}, "epochs": ${deep}}`);
    const tooDeep = { code: 'too_deep', path: `epochs${'.a'.repeat(63)}`, message: 'Expected arrays and objects nested at most 64 levels deep, but this value goes deeper' };
    const e = (() => { try { trainConfigFromFlags({ config: file, set: [] }); } catch (err) { return err; } })();
    expect(e).toBeInstanceOf(IssuesError);
    expect(e).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(`Invalid config ${file}`), issues: [tooDeep] });
    const dir = createRunDir(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 })).dir;
    fs.writeFileSync(runPaths(dir).config, fs.readFileSync(file));
    expect(runScan.readRun(dir)).toEqual({ problems: [`config.json: ${tooDeep.path}: ${tooDeep.message}`] });
  });

  test('a run another live process is training is refused before anything is announced or trained', async () => {
    const data = path.join(root, 'data');
    writeIdxSet(data, fashionImages(4), true);
    const args = ['train', ...trainArgs, '--data-root', data, '--runs-dir', root];
    const dir = (await cli([...args, '--dry-run'])).out.split('\n')[0];
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(runPaths(dir).lock, JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: 'then' }));
    const calls: [ExperimentConfig, string][] = [];
    const r = await cli(args, fakeTrainer(calls));
    expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `ERR_RUN_LOCKED: Run directory ${dir} is being trained by process ${process.pid} on ${os.hostname()} (since then): wait for it to finish or stop it; ${runPaths(dir).lock} holds the lock\n` });
    expect(calls).toHaveLength(0);
  });

  test('a trainer error is one line with its code', async () => {
    const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async () => { throw new ToolkitError('ERR_DATASET', 'cannot find train-images-idx3-ubyte'); } }) };
    const r = await cli(['train', ...trainArgs, '--runs-dir', root], deps);
    expect(r.code).toBe(1);
    expect(r.err.split('\n').filter(Boolean).pop()).toBe('ERR_DATASET: cannot find train-images-idx3-ubyte');
  });
});

describe('train --nproc', () => {
  /** The fake trainer, and a launcher that records what it was asked to spawn. */
  function launching(launches: LaunchOptions[], calls: [ExperimentConfig, string][] = []): CliDeps {
    return { ...fakeTrainer(calls), launch: async (o) => { launches.push(o); return { exitCode: 0, codes: new Array(o.nproc).fill(0) }; } };
  }

  test('bad launcher flags are one ERR_INVALID_ARG line naming the flag; nothing is launched or trained', async () => {
    const cases: [string[], string][] = [
      [['--nproc', '0'], "Expected --nproc to be an integer in [1, 1024] but received '0'"],
      [['--nproc', 'abc'], "Expected --nproc to be an integer in [1, 1024] but received 'abc'"],
      [['--nproc', '-1'], "Expected --nproc to be an integer in [1, 1024] but received '-1'"],
      [['--nproc', '1.5'], "Expected --nproc to be an integer in [1, 1024] but received '1.5'"],
      [['--nproc', '2', '--nnodes', '0'], "Expected --nnodes to be an integer in [1, 65535] but received '0'"],
      [['--nproc', '2', '--master-port', '70000'], "Expected --master-port to be an integer in [1, 65535] but received '70000'"],
      [['--nproc', '1', '--node-rank', '5'], 'Expected --node-rank to be an integer in [0, 0] (below --nnodes 1) but received 5'],
      [['--nproc', '2', '--nnodes', '2', '--node-rank', '2'], 'Expected --node-rank to be an integer in [0, 1] (below --nnodes 2) but received 2'],
      [['--nnodes', '2'], '--nnodes, --node-rank, --master-addr and --master-port apply only with --nproc or --slurm'],
      [['--slurm', '--nproc', '2', '--node-rank', '1'], '--nnodes and --node-rank come from srun under --slurm (SLURM_STEP_NUM_NODES, SLURM_NODEID): leave them out'],
    ];
    for (const [args, message] of cases) {
      const launches: LaunchOptions[] = [];
      const calls: [ExperimentConfig, string][] = [];
      const r = await cli(['train', ...trainArgs, '--runs-dir', root, ...args], launching(launches, calls));
      expect({ args, code: r.code, err: r.err, launched: launches.length, trained: calls.length }).toEqual({ args, code: 1, err: `ERR_INVALID_ARG: ${message}\n`, launched: 0, trained: 0 });
    }
    const bare = await cli(['train', ...trainArgs, '--nproc']);
    expect(bare.code).toBe(1);
    expect(bare.err).toMatch(/^error: option '--nproc <n>' argument missing\n/);
  });

  test('--nproc-per-node (torchrun\'s spelling, hidden from the help) is --nproc; not both', async () => {
    const launches: LaunchOptions[] = [];
    const r = await cli(['train', ...trainArgs, '--runs-dir', root, '--nproc-per-node', '2', '--master-port=1234'], launching(launches));
    expect(r.code).toBe(0);
    expect(launches).toMatchObject([{ nproc: 2, nnodes: 1, masterPort: 1234 }]);
    const both = await cli(['train', ...trainArgs, '--runs-dir', root, '--nproc', '2', '--nproc-per-node', '2'], launching(launches));
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/^error: option '--nproc[-a-z]* <n>' cannot be used with option '--nproc[-a-z]* <n>'\n/);
    expect(launches).toHaveLength(1);
    expect((await cli(['train', '--help'])).out).not.toContain('--nproc-per-node');
  });

  test('the command itself: a bad --nproc is one line without a stack; --dry-run prints once and spawns nothing', () => {
    const command = (args: string[]) => spawnSync(process.execPath, ['--import', require.resolve('tsx'), path.join(__dirname, '../../../src/cli.ts'), 'train', ...trainArgs, ...args], { encoding: 'utf8' });
    const bad = command(['--nproc', '0']);
    expect({ status: bad.status, stderr: bad.stderr }).toEqual({ status: 1, stderr: "ERR_INVALID_ARG: Expected --nproc to be an integer in [1, 1024] but received '0'\n" });
    const data = path.join(root, 'data');
    writeIdxSet(data, fashionImages(4), true);
    const dry = command(['--data-root', data, '--runs-dir', root, '--nproc', '2', '--dry-run']);
    expect({ status: dry.status, stderr: dry.stderr }).toEqual({ status: 0, stderr: '' });
    expect(dry.stdout.split('\n')[0]).toBe(runDirFor(root, parseConfig({ dataset: { name: 'mnist', root: data }, model: { name: 'lenet5' }, epochs: 2 })));
    expect(dry.stdout.match(/"batchSize"/g)).toHaveLength(1);
  });

  test('a global batch the world size does not divide is refused before any worker starts, --dry-run too', async () => {
    const cases: [string[], string][] = [
      [['--nproc', '3'], 'ERR_CONFIG: Invalid --batch-size for --nproc 3: batchSize: the global batch 128 must be a multiple of the world size 3: pass a --batch-size that 3 divides, or another --nproc\n'],
      [['--nproc', '2', '--nnodes', '2', '--batch-size', '6'], 'ERR_CONFIG: Invalid --batch-size for --nproc 2 × --nnodes 2: batchSize: the global batch 6 must be a multiple of the world size 4: pass a --batch-size that 4 divides, or another --nproc\n'],
    ];
    for (const [args, err] of cases) {
      for (const dry of [[], ['--dry-run']]) {
        const launches: LaunchOptions[] = [];
        const r = await cli(['train', ...trainArgs, '--runs-dir', path.join(root, 'runs'), ...args, ...dry], launching(launches));
        expect({ args, dry, code: r.code, out: r.out, err: r.err, launched: launches.length }).toEqual({ args, dry, code: 1, out: '', err, launched: 0 });
        expect(fs.existsSync(path.join(root, 'runs'))).toBe(false);
      }
    }
  });

  test('the checks before any worker starts are told the processes it starts (the devices they need)', async () => {
    const seen: unknown[] = [];
    const deps: CliDeps = { ...launching([]), loadTrainer: () => ({ trainFromConfig: async () => undefined, checkRunnable: (_c, _d, processes) => { seen.push(processes); } }) };
    await cli(['train', ...trainArgs, '--runs-dir', root, '--nproc', '2', '--nnodes', '2', '--batch-size', '8', '--dry-run'], deps);
    await cli(['train', ...trainArgs, '--runs-dir', root, '--dry-run'], deps);
    expect(seen).toEqual([{ worldSize: 4, localWorldSize: 2 }, undefined]);
  });

  test('--dry-run prints the run once and starts no worker', async () => {
    const launches: LaunchOptions[] = [];
    const r = await cli(['train', ...trainArgs, '--runs-dir', root, '--nproc', '2', '--dry-run'], launching(launches));
    expect(r.code).toBe(0);
    const [dir, ...json] = r.out.split('\n');
    expect(dir).toBe(runDirFor(root, parseConfig(JSON.parse(json.join('\n')))));
    expect(r.out.match(/"batchSize"/g)).toHaveLength(1);
    expect(launches).toEqual([]);
  });

  test('launches nproc workers re-running this command line; a finished run starts none; a worker trains', async () => {
    const argv = ['train', ...trainArgs, '--runs-dir', root, '--nproc', '2', '--nnodes', '2', '--node-rank', '1', '--master-addr', '10.0.0.1', '--master-port', '1234'];
    const launches: LaunchOptions[] = [];
    const calls: [ExperimentConfig, string][] = [];
    const r = await cli(argv, launching(launches, calls));
    expect({ code: r.code, trained: calls.length }).toEqual({ code: 0, trained: 0 });
    expect(launches).toEqual([{
      nproc: 2, nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 1234, command: process.execPath, args: [...process.execArgv, 'signin-torch', ...argv],
    }]);
    const failed = await cli(argv, { ...fakeTrainer(calls), launch: async () => ({ exitCode: 137, codes: [0, 137] }) });
    expect(failed.code).toBe(137);
    const previous = process.env.WORLD_SIZE;
    process.env.WORLD_SIZE = '4';
    try {
      const worker = await cli(argv, launching(launches, calls));
      expect({ code: worker.code, trained: calls.length, launched: launches.length }).toEqual({ code: 0, trained: 1, launched: 1 });
    } finally {
      if (previous === undefined) delete process.env.WORLD_SIZE;
      else process.env.WORLD_SIZE = previous;
    }
    const again = await cli(argv, launching(launches, calls));
    expect({ code: again.code, err: again.err, launched: launches.length }).toEqual({ code: 0, err: `already finished: ${calls[0][1]}\n`, launched: 1 });
  });

  test('the workers of a new run print one start line, rank 0\'s, and it says training whichever worker made the directory', async () => {
    const argv = ['train', ...trainArgs, '--runs-dir', root, '--nproc', '2'];
    const dir = runDirFor(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 2 }));
    const started: Record<string, string> = {};
    const previous = { WORLD_SIZE: process.env.WORLD_SIZE, RANK: process.env.RANK };
    // No final.json: each worker leaves the run unfinished for the next, as ranks training together do.
    const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async () => undefined }) };
    try {
      process.env.WORLD_SIZE = '2';
      for (const rank of ['1', '0']) {
        process.env.RANK = rank;
        const r = await cli(argv, deps);
        expect(r.code).toBe(0);
        started[rank] = r.err;
      }
    } finally {
      for (const [k, v] of Object.entries(previous)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(started).toEqual({ 1: '', 0: `training mnist lenet5 Dense 0% seed 0 in ${dir}\n` });
    // A run with a checkpoint resumes; one whose directory exists without one trains from the start.
    fs.writeFileSync(runPaths(dir).checkpoint, '');
    expect((await cli(['train', ...trainArgs, '--runs-dir', root], deps)).err).toBe(`resuming mnist lenet5 Dense 0% seed 0 in ${dir}\n`);
  });
});

describe('sweep', () => {
  const writeGrid = (): string => {
    const file = path.join(root, 'grid.json');
    const data = path.join(root, 'data');
    writeIdxSet(data, fashionImages(4), true);
    fs.writeFileSync(file, JSON.stringify({
      base: { dataset: { name: 'mnist', root: data }, model: { name: 'lenet5' }, pruning: { method: 'random' }, epochs: 1 },
      grid: { 'pruning.sparsity': [0.9, 0.95], 'signin.enabled': [false, true] },
      seeds: [0, 1],
    }));
    return file;
  };

  test('--dry-run lists every run with its state', async () => {
    const grid = writeGrid();
    const runs = path.join(root, 'runs');
    const first = await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run']);
    expect(first.code).toBe(0);
    const lines = first.out.trim().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['#', 'status', 'run', 'pruning.sparsity', 'signin.enabled', 'seed']);
    expect(lines).toHaveLength(10);
    expect(lines[1]).toMatch(/^1\s+new\s+train_[0-9a-f]{32}\s+0\.9\s+false\s+0$/);
    expect(lines[9]).toBe(`8 runs: 0 finished, 8 to run (runs dir ${runs})`);
    expect(fs.existsSync(runs)).toBe(false);
  });

  test('--dry-run names the live process training a run, not a dead one', async () => {
    const grid = writeGrid();
    const runs = path.join(root, 'runs');
    const first = await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run']);
    const dirs = first.out.trim().split('\n').slice(1, 3).map((l) => path.join(runs, l.split(/\s+/)[2]));
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const lock = (dir: string, pid: number): void => {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(runPaths(dir).lock, JSON.stringify({ pid, host: os.hostname(), startedAt: new Date().toISOString() }));
    };
    lock(dirs[0], process.pid);
    lock(dirs[1], dead);
    const dry = await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run']);
    const lines = dry.out.trim().split('\n');
    expect(lines[1]).toMatch(new RegExp(`^1\\s+running \\(pid ${process.pid}\\)\\s+${path.basename(dirs[0])}\\s`));
    expect(lines[2]).toMatch(/^2\s+new\s+train_/);
    expect(lines[9]).toBe(`8 runs: 0 finished, 8 to run (1 running now) (runs dir ${runs})`);
  });

  test('--dry-run and the sweep itself ask one function (liveHolder) which process trains a run', async () => {
    const grid = writeGrid();
    const runs = path.join(root, 'runs');
    const first = (await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run'])).out.trim().split('\n');
    const target = path.join(runs, first[1].split(/\s+/)[2]);
    const spy = jest.spyOn(runScan, 'liveHolder').mockImplementation((dir) => (dir === target ? { pid: 4242, host: 'elsewhere', startedAt: '' } : undefined));
    try {
      const dry = await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run']);
      expect(dry.out.split('\n')[1]).toMatch(/^1\s+running \(pid 4242\)\s+train_/);
      const calls: [ExperimentConfig, string][] = [];
      const r = await cli(['sweep', '--grid', grid, '--runs-dir', runs], fakeTrainer(calls));
      expect(r.err).toContain(`[1/8] left to pid 4242 on elsewhere, which is training it: ${path.basename(target)}`);
      expect(calls.map(([, d]) => d)).not.toContain(target);
    } finally {
      spy.mockRestore();
    }
  });

  test('--dry-run names the runs the checks before training would refuse, and exits 1', async () => {
    const file = path.join(root, 'grid.json');
    fs.writeFileSync(file, JSON.stringify({
      base: { dataset: { name: 'mnist', root: path.join(root, 'nowhere') }, model: { name: 'lenet5' }, pruning: { method: 'random' }, epochs: 1 },
      grid: { 'pruning.sparsity': [0.9] },
    }));
    const runs = path.join(root, 'runs');
    const dry = await cli(['sweep', '--grid', file, '--runs-dir', runs, '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.out.split('\n')[1]).toMatch(/^1\s+refused\s+train_/);
    expect(dry.err).toMatch(/^1 run\(s\) would be refused:\nrun 1: ERR_DATASET: .*nowhere/);
    expect(fs.existsSync(runs)).toBe(false);
  });

  test('a missing dataset fails each run with the fix a sweep user has: --data-root', async () => {
    const file = path.join(root, 'grid.json');
    fs.writeFileSync(file, JSON.stringify({
      base: { dataset: { name: 'mnist', root: path.join(root, 'nowhere') }, model: { name: 'lenet5' }, pruning: { method: 'random' }, epochs: 1 },
      grid: { 'pruning.sparsity': [0.9] },
    }));
    const runs = path.join(root, 'runs');
    const hint = ': pass --data-root, a folder with the four MNIST IDX files';
    const dry = await cli(['sweep', '--grid', file, '--runs-dir', runs, '--dry-run']);
    expect(dry.err.trim().split('\n').pop()).toMatch(new RegExp(`^run 1: ERR_DATASET: Missing dataset file ${root}/nowhere/\\S+ .*${hint}$`));
    const r = await cli(['sweep', '--grid', file, '--runs-dir', runs]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`\\[1/1\\] FAILED train_\\w+: ERR_DATASET: Missing dataset file ${root}/nowhere/.*${hint}\n`));
    expect(fs.existsSync(runs)).toBe(false);
  });

  test('--data-root sets dataset.root of every run, over the grid file\'s, in the same run directories', async () => {
    const grid = writeGrid();
    const data = path.join(root, 'data');
    const other = path.join(root, 'elsewhere');
    fs.cpSync(data, other, { recursive: true });
    const runs = path.join(root, 'runs');
    const names = async (args: string[]) => (await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run', ...args])).out.trim().split('\n').slice(1, -1).map((l) => l.split(/\s+/)[2]);
    expect(await names(['--data-root', other])).toEqual(await names([]));
    const calls: [ExperimentConfig, string][] = [];
    const r = await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--data-root', other], fakeTrainer(calls));
    expect(r.code).toBe(0);
    expect(new Set(calls.map(([c]) => c.dataset.root))).toEqual(new Set([other]));
    expect(readConfig(calls[0][1]).dataset.root).toBe(other);
  });

  test('runs in-process with the trainer, then skips finished runs', async () => {
    const grid = writeGrid();
    const runs = path.join(root, 'runs');
    const calls: [ExperimentConfig, string][] = [];
    const r = await cli(['sweep', '--grid', grid, '--runs-dir', runs], fakeTrainer(calls));
    expect(r.code).toBe(0);
    expect(calls).toHaveLength(8);
    expect(r.err).toContain('[1/8] start train_');
    expect(r.err.trim().split('\n').pop()).toBe('sweep: 8 done, 0 skipped, 0 failed of 8');
    const dry = await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run']);
    expect(dry.out).toContain('8 runs: 8 finished, 0 to run');
    const again = await cli(['sweep', '--grid', grid, '--runs-dir', runs], fakeTrainer(calls));
    expect(again.err.trim().split('\n').pop()).toBe('sweep: 0 done, 8 skipped, 0 failed of 8');
  });

  test('a bad grid file or --processes is one clean line', async () => {
    const file = path.join(root, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ base: {}, grid: { 'pruning.sparsity': [] } }));
    const r = await cli(['sweep', '--grid', file, '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ERR_CONFIG: Invalid sweep .*bad\.json \(1 issue\): grid\.pruning\.sparsity: .*\n$/);
    const p = await cli(['sweep', '--grid', writeGrid(), '--processes', 'two', '--runs-dir', root]);
    expect(p.err).toMatch(/^ERR_INVALID_ARG: Expected --processes to be an integer in \[1, \d+\] \(twice this machine's \d+ logical CPUs\) but received 'two'\n$/);
  });
});

describe('report', () => {
  test('prints the markdown table and writes the files', async () => {
    for (const [signin, accs] of [[false, [0.8, 0.82]], [true, [0.85, 0.87]]] as const) {
      accs.forEach((final, seed) => fakeRun(root, { sparsity: 0.9, signin, seed, final }));
    }
    const out = path.join(root, 'out');
    const r = await cli(['report', '--runs-dir', root, '--out', out, '--no-plots']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('| Method | 90% |\n|---|---:|\n| Random | 81.00 ± 1.41 |\n| Random + Sign-In | 86.00 ± 1.41 |');
    expect(fs.readdirSync(out).sort()).toEqual(['accuracy.csv', 'paired.json', 'report.json', 'report.md']);
    expect(r.err).toContain('wrote ');
  });

  test('--save-records keeps the finished runs\' records under <out>/runs, which regenerate the table', async () => {
    [0.8, 0.82].forEach((final, seed) => fakeRun(root, { sparsity: 0.9, signin: false, seed, final }));
    const out = path.join(root, 'out');
    expect((await cli(['report', '--runs-dir', root, '--out', out, '--no-plots', '--save-records'])).code).toBe(0);
    expect(fs.readdirSync(path.join(out, 'runs'))).toHaveLength(2);
    const again = await cli(['report', '--runs-dir', path.join(out, 'runs'), '--out', path.join(root, 'again'), '--no-plots']);
    expect(again.out).toContain('| Random | 81.00 ± 1.41 |');
  });

  test('a missing runs dir exits 1 with a coded line; corrupt runs are named on stderr', async () => {
    const missing = await cli(['report', '--runs-dir', path.join(root, 'nope'), '--no-plots']);
    expect({ code: missing.code, out: missing.out }).toEqual({ code: 1, out: '' });
    expect(missing.err).toBe(`ERR_INVALID_ARG: Runs directory ${path.join(root, 'nope')} does not exist or is not a folder: pass --runs-dir, the folder that holds the run directories\n`);
    const bad = path.join(root, `train_${'a'.repeat(32)}`);
    fs.mkdirSync(bad);
    const r = await cli(['report', '--runs-dir', root, '--no-plots']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`| train_${'a'.repeat(32)} | no config.json`);
    expect(r.err).toContain(`corrupt run ${bad}: no config.json (the run was never set up, or it was deleted)\n`);
  });

  test('--pair-by adds its section to report.md; an unknown field is one line naming the flag', async () => {
    for (const [scope, accs] of [['layerwise', [0.8, 0.82]], ['global', [0.85, 0.86]]] as const) {
      accs.forEach((final, seed) => {
        const { dir } = createRunDir(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, seed, pruning: { method: 'random', sparsity: 0.9, scope } }));
        writeFinal(dir, { epoch: 1, step: 1, testAcc: final });
      });
    }
    const out = path.join(root, 'out');
    const r = await cli(['report', '--runs-dir', root, '--out', out, '--no-plots', '--pair-by', 'pruning.scope', '--pair-by', 'signin.beta=1']);
    expect(r.code).toBe(0);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Paired differences by pruning.scope\n\n| pruning.scope: value − baseline |');
    expect(md).toContain('| mnist lenet5 · Random: global − layerwise | 90% | 2 | 0: +5.00, 1: +4.00 | +4.50 |');
    expect(md).toContain('## Paired differences by signin.beta\n\nNo two finished runs that agree on every other field (seed and sparsity aside) differ in signin.beta: nothing to pair.\n');
    const bad = await cli(['report', '--runs-dir', root, '--out', path.join(root, 'bad'), '--no-plots', '--pair-by', 'training.lr']);
    expect({ code: bad.code, out: bad.out }).toEqual({ code: 1, out: '' });
    expect(bad.err).toMatch(/^ERR_INVALID_ARG: Expected a dotted field of the config schema .* for --pair-by but received 'training\.lr' of type string\n$/);
    expect(fs.existsSync(path.join(root, 'bad'))).toBe(false);
  });

  test('defaults to <runs-dir>/report', async () => {
    const r = await cli(['report', '--runs-dir', root, '--no-plots']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('No runs found');
    expect(fs.existsSync(path.join(root, 'report', 'report.md'))).toBe(true);
  });
});

describe('list runs', () => {
  test('each run with its status and epochs; corrupt runs listed as such; a missing runs dir is an error', async () => {
    const done = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    const crashed = fakeRun(root, { sparsity: 0.9, signin: false, seed: 1 });
    const live = fakeRun(root, { sparsity: 0.9, signin: true, seed: 0 });
    fs.writeFileSync(runPaths(live.dir).lock, JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: 'x' }));
    const fresh = createRunDir(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 2 }));
    fs.mkdirSync(path.join(root, `train_${'b'.repeat(32)}`));
    const r = await cli(['list', 'runs', '--runs-dir', root, '--json']);
    expect(r.code).toBe(0);
    const byRun = new Map((JSON.parse(r.out) as { run: string }[]).map((x) => [x.run, x]));
    expect(byRun.get(path.basename(done.dir))).toMatchObject({ status: 'finished', epochs: 3, of: 3, testAcc: 0.8, testAccEpoch: 3 });
    // Unfinished: the last metrics row's test accuracy (fakeRun's rows: 0.5 - 0.1 · (3 - epoch)).
    expect(byRun.get(path.basename(crashed.dir))).toMatchObject({ status: 'failed', epochs: 3, testAcc: 0.5, testAccEpoch: 3 });
    expect(byRun.get(path.basename(live.dir))).toMatchObject({ status: 'running', pid: process.pid });
    expect(byRun.get(path.basename(fresh.dir))).toMatchObject({ status: 'new', epochs: 0, of: 2 });
    expect(byRun.get(path.basename(fresh.dir))).not.toHaveProperty('testAcc');
    expect(byRun.get(`train_${'b'.repeat(32)}`)).toEqual({ run: `train_${'b'.repeat(32)}`, status: 'corrupt', problems: ['no config.json (the run was never set up, or it was deleted)'] });
    const table = await cli(['list', 'runs', '--runs-dir', root]);
    expect(table.out.split('\n')[0].split(/\s+/)).toEqual(['run', 'status', 'epochs', 'top-1', 'config']);
    expect(table.out).toMatch(new RegExp(`${path.basename(live.dir)}\\s+running \\(pid ${process.pid}\\)\\s+3/3\\s+50\\.00% \\(epoch 3\\)\\s+cifar10 cifar_resnet_20 Random \\+ Sign-In 90% seed 0`));
    expect(table.out).toMatch(new RegExp(`${path.basename(done.dir)}\\s+finished\\s+3/3\\s+80\\.00%\\s+cifar10 cifar_resnet_20 Random 90% seed 0`));
    const missing = await cli(['list', 'runs', '--runs-dir', path.join(root, 'nope')]);
    expect({ code: missing.code, err: missing.err }).toEqual({ code: 1, err: `ERR_INVALID_ARG: Runs directory ${path.join(root, 'nope')} does not exist: pass --runs-dir, the folder that holds the run directories\n` });
    expect((await cli(['list', 'things'])).err).toContain("command-argument value 'things' is invalid for argument 'what'. Allowed choices are models, pruners, datasets, runs.");
  });
});

describe('list models, pruners, datasets', () => {
  const deps: CliDeps = {
    loadModels: () => ({
      createModel: () => ({}),
      modelNames: () => ['lenet5', 'resnet50'],
      modelFamilies: () => ['wrn_<depth>_<k>'],
      modelOptions: (n) => (n === 'lenet5' ? { numClasses: 10, inChannels: 1, inputSize: 28 } : { numClasses: 1000, inChannels: 3, inputSize: 224 }),
      getModelEntry: (n) => ({ description: `the ${n}` }),
    }),
    loadPruning: () => ({
      pruneModel: () => undefined,
      maskReport: () => ({}),
      prunerNames: () => ['snip', 'synflow'],
      getPruner: (n) => ({ needsData: n === 'snip', defaultIterations: n === 'synflow' ? 100 : 1 }),
    }),
  };

  test('each registry as a table and as JSON', async () => {
    const models = await cli(['list', 'models', '--json'], deps);
    expect(JSON.parse(models.out)).toEqual([
      { name: 'lenet5', input: '1x28x28', classes: 10, description: 'the lenet5' },
      { name: 'resnet50', input: '3x224x224', classes: 1000, description: 'the resnet50' },
      { name: 'wrn_<depth>_<k>', input: '', classes: '', description: 'name pattern (family)' },
    ]);
    expect((await cli(['list', 'pruners'], deps)).out).toBe('name     data            rounds\nsnip     training batch  1\nsynflow  none            100\n');
    const datasets = JSON.parse((await cli(['list', 'datasets', '--json'])).out) as { name: string; classes: number }[];
    expect(datasets.map((d) => d.name)).toEqual(['fashion_mnist', 'mnist', 'cifar10', 'cifar100', 'imagenet']);
    expect(datasets.find((d) => d.name === 'imagenet')).toEqual({ name: 'imagenet', input: '3x224x224', classes: 1000, root: 'required' });
  });
});

describe('prune', () => {
  test('builds the model, prunes it with the config-derived options and prints the mask report', async () => {
    const seen: unknown[] = [];
    const deps: CliDeps = {
      loadModels: () => ({ createModel: (name, options) => { seen.push(['create', name, options]); return { dispose: () => seen.push('dispose') }; } }),
      loadPruning: () => ({
        pruneModel: (_m, options) => { seen.push(['prune', options]); },
        maskReport: () => ({ table: 'layer  density\nconv1  0.1', density: 0.1 }),
      }),
    };
    const r = await cli(['prune', '--model', 'cifar_resnet_20', '--dataset', 'cifar10', '--sparsity', '0.9', '--seed', '4'], deps);
    expect(r.code).toBe(0);
    expect(r.out).toBe('layer  density\nconv1  0.1\n');
    expect(r.err).toBe('prune: cifar_resnet_20 for cifar10: input 3x32x32, 10 classes\n');
    expect(seen).toEqual([
      ['create', 'cifar_resnet_20', { numClasses: 10, inChannels: 3, inputSize: 32 }],
      ['prune', { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'erk', denseFirst: false, denseLast: false, seed: 4, onRound: expect.any(Function), signal: expect.any(AbortSignal) }],
      'dispose',
    ]);
    const j = await cli(['prune', '--model', 'lenet5', '--dataset', 'mnist', '--pruner', 'magnitude', '--sparsity', '0.5', '--json'], deps);
    expect(JSON.parse(j.out)).toEqual({ density: 0.1 });
    expect(seen[4]).toEqual(['prune', { method: 'magnitude', sparsity: 0.5, scope: 'global', denseFirst: false, denseLast: false, seed: 0, onRound: expect.any(Function), signal: expect.any(AbortSignal) }]);
  });

  test('without --dataset the model keeps its own input and the command says so; snip and grasp require --dataset', async () => {
    const created: unknown[] = [];
    const deps: CliDeps = {
      loadModels: () => ({
        createModel: (name, options) => { created.push(options); return {}; },
        modelOptions: () => ({ numClasses: 1000, inChannels: 3, inputSize: 224, zeroInitResidual: false }),
      }),
      loadPruning: () => ({
        pruneModel: async (_m, options) => {
          const onRound = (options as { onRound: (p: object) => void }).onRound;
          for (const [round, seconds] of [[1, 1], [2, 2.5], [3, 3], [4, 5]]) onRound({ round, rounds: 4, kept: 100 - round, seconds });
        },
        maskReport: () => ({ table: 't' }),
      }),
    };
    const r = await cli(['prune', '--model', 'resnet50', '--pruner', 'synflow', '--sparsity', '0.9'], deps);
    expect(r.code).toBe(0);
    expect(created).toEqual([{}]);
    // Round 1 is printed, round 2 is 1.5 s later (skipped), round 3 is 2 s after round 1, round 4 is the last.
    expect(r.err).toBe([
      'prune: resnet50 with its default input 3x224x224, 1000 classes (no --dataset; pass one to prune for a dataset\'s input size)',
      'prune: synflow round 1/4, 99 weights kept, 1 s, ETA 3 s',
      'prune: synflow round 3/4, 97 weights kept, 3 s, ETA 1 s',
      'prune: synflow round 4/4, 96 weights kept, 5 s, ETA 0 s',
      '',
    ].join('\n'));
    for (const pruner of ['snip', 'grasp']) {
      const e = await cli(['prune', '--model', 'resnet50', '--pruner', pruner, '--sparsity', '0.9'], deps);
      expect({ code: e.code, err: e.err }).toEqual({ code: 1, err: `ERR_CONFIG: Invalid prune flags: dataset: ${pruner} scores weights on a batch of training data: pass --dataset (and --data-root)\n` });
    }
  });

  test('snip scores on pruning.dataSamples examples (--batch-size sets it); the config\'s dataset counts as --dataset', async () => {
    const data = path.join(root, 'data');
    writeIdxSet(data, fashionImages(40), false); // 20 training images
    const batches: number[] = [];
    const deps: CliDeps = {
      loadModels: () => ({ createModel: () => ({}) }),
      loadPruning: () => ({
        pruneModel: (_m, options) => { batches.push((options as { data: { shape: number[] }[][] }).data[0][0].shape[0]); },
        maskReport: () => ({ table: 't' }),
      }),
    };
    const prune = (args: string[]) => cli(['prune', '--model', 'lenet5', '--sparsity', '0.9', '--pruner', 'snip', '--data-root', data, ...args], deps);
    const cases: [string[], number][] = [
      [['--dataset', 'mnist', '--set', 'pruning.dataSamples=16'], 16],
      [['--dataset', 'mnist', '--batch-size', '8'], 8],
      [['--set', 'dataset.name=mnist', '--batch-size', '4'], 4],
    ];
    for (const [args, samples] of cases) {
      const r = await prune(args);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: `prune: lenet5 for mnist: input 1x28x28, 10 classes\nprune: snip scores on ${samples} training examples of mnist\n` });
      expect(batches.pop()).toBe(samples);
    }
    for (const bad of ['abc', '0', '2.5']) {
      const r = await prune(['--dataset', 'mnist', '--batch-size', bad]);
      expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `ERR_INVALID_ARG: Expected --batch-size to be a positive integer but received '${bad}'\n` });
    }
    expect(batches).toEqual([]);
  });

  test('invalid flags are checked by the config schema', async () => {
    const r = await cli(['prune', '--model', 'x', '--sparsity', '1.5', '--pruner', 'snip', '--distribution', 'erk'], { loadModels: () => { throw new Error('not reached'); } });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ERR_CONFIG: Invalid experiment config from flags \(3 issues\): model\.name: Expected one of 'cifar_resnet', .*'wrn_<6n\+4>_<k>' but received 'x' of type string; pruning\.sparsity: /);
    expect(r.err).toContain("; pruning.sparsity: Expected a number < 1 but received 1.5 of type number; pruning.distribution: Layer densities apply only with pruning.scope 'layerwise' (the scope here is 'global'); set pruning.scope to 'layerwise' or remove pruning.distribution; a name of your own: --import the module that registers it (docs/extending.md)\n");
  });
});

describe('directory flags', () => {
  test('--runs-dir and --out that are files (or under one) are one ERR_INVALID_ARG line naming the flag', async () => {
    const file = path.join(root, 'f');
    fs.writeFileSync(file, 'x');
    const grid = path.join(root, 'grid.json');
    fs.writeFileSync(grid, JSON.stringify({ base: { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 } }));
    const cases: [string[], string][] = [
      [['train', ...trainArgs, '--runs-dir', file], `--runs-dir to be a directory but ${file} is a file`],
      [['train', ...trainArgs, '--runs-dir', path.join(file, 'runs')], `--runs-dir to be a directory but ${path.join(file, 'runs')} is under a file`],
      [['sweep', '--grid', grid, '--runs-dir', file, '--dry-run'], `--runs-dir to be a directory but ${file} is a file`],
      [['list', 'runs', '--runs-dir', file], `--runs-dir to be a directory but ${file} is a file`],
      [['report', '--runs-dir', file], `--runs-dir to be a directory but ${file} is a file`],
      [['report', '--runs-dir', root, '--out', file], `--out to be a directory but ${file} is a file`],
    ];
    const calls: [ExperimentConfig, string][] = [];
    for (const [args, message] of cases) {
      const r = await cli(args, fakeTrainer(calls));
      expect({ args, code: r.code, out: r.out, err: r.err }).toEqual({ args, code: 1, out: '', err: `ERR_INVALID_ARG: Expected ${message}\n` });
    }
    expect(calls).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });

  test('report and list runs refuse a run directory given as --runs-dir, and report a file where its default --out goes', async () => {
    const runs = path.join(root, 'runs');
    const { dir } = fakeRun(runs, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    for (const args of [['report', '--runs-dir', dir], ['list', 'runs', '--runs-dir', dir]]) {
      const r = await cli(args);
      expect({ args, code: r.code, err: r.err }).toEqual({
        args, code: 1,
        err: `ERR_INVALID_ARG: Expected --runs-dir to be the folder that holds run directories but ${dir} is a run directory (it has config.json): pass ${runs}\n`,
      });
    }
    expect(fs.existsSync(path.join(dir, 'report'))).toBe(false);
    fs.writeFileSync(path.join(runs, 'report'), 'x');
    const r = await cli(['report', '--runs-dir', runs]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `ERR_INVALID_ARG: Expected --out (default: <runs-dir>/report) to be a directory but ${path.join(runs, 'report')} is a file\n` });
  });
});

test.each([
  ['SIGNIN_TORCH_LOG_LEVEL', 'loud', 'one of trace, debug, info, warn, error, fatal, silent'],
  ['SIGNIN_TORCH_CPU_ALLOCATOR', 'sytem', "'caching' (the toolkit's caching allocator, also when unset or empty) or 'system' (c10's own)"],
])('a bad %s is one line naming the values, before any command runs', async (name, value, expected) => {
  const previous = process.env[name];
  process.env[name] = value;
  try {
    const calls: [ExperimentConfig, string][] = [];
    const runs = path.join(root, 'runs');
    for (const args of [['train', ...trainArgs, '--runs-dir', runs], ['list', 'datasets']]) {
      const r = await cli(args, fakeTrainer(calls));
      expect({ args, code: r.code, out: r.out, err: r.err }).toEqual({
        args, code: 1, out: '', err: `ERR_INVALID_ARG: Expected environment variable ${name} to be ${expected} but it is '${value}'\n`,
      });
    }
    expect({ trained: calls.length, runsDir: fs.existsSync(runs) }).toEqual({ trained: 0, runsDir: false });
    expect((await cli(['train', '--help'])).code).toBe(0);
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
});

describe('helpers', () => {
  test('parseAssignment: JSON values, else strings', () => {
    expect(parseAssignment('a.b=0.5')).toEqual(['a.b', 0.5]);
    expect(parseAssignment('a=[1,2]')).toEqual(['a', [1, 2]]);
    expect(parseAssignment('device=cuda:0')).toEqual(['device', 'cuda:0']);
    expect(parseAssignment('x=a=b')).toEqual(['x', 'a=b']);
    expect(() => parseAssignment('=1')).toThrow(IssuesError);
  });

  test('formatError: one line, code first', () => {
    expect(formatError(new IssuesError('ERR_CONFIG', 'Bad', [{ code: 'x', path: 'a', message: 'm1' }, { code: 'x', path: '', message: 'm2' }]))).toBe('ERR_CONFIG: Bad: a: m1; m2');
    expect(formatError(new Error('plain\nsecond'))).toBe('error: plain; second');
    // An error that lists another's issues under each of its files (no checkpoint loads).
    expect(formatError(new ToolkitError('ERR_STATE_DICT', 'None loads:\n\ta.safetensors: Error(s) in loading state_dict for Net:\n\tfc.bias: missing key\n\tb.safetensors: gone')))
      .toBe('ERR_STATE_DICT: None loads: a.safetensors: Error(s) in loading state_dict for Net: fc.bias: missing key; b.safetensors: gone');
  });
});

test('sweep: failed runs are listed and the exit code is 1', async () => {
  const file = path.join(root, 'grid.json');
  fs.writeFileSync(file, JSON.stringify({ base: { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 }, seeds: [0, 1] }));
  const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async (c) => { if (c.seed === 1) throw new ToolkitError('ERR_TORCH', 'CUDA out of memory'); } }) };
  const r = await cli(['sweep', '--grid', file, '--runs-dir', root], deps);
  expect(r.code).toBe(1);
  const lines = r.err.trim().split('\n');
  expect(lines).toContainEqual(expect.stringMatching(/^\[1\/2\] FAILED train_[0-9a-f]{32}: finished without writing final\.json$/));
  expect(lines).toContainEqual(expect.stringMatching(/^\[2\/2\] FAILED train_[0-9a-f]{32}: ERR_TORCH: CUDA out of memory$/));
  expect(lines.pop()).toBe('sweep: 0 done, 0 skipped, 2 failed of 2');
});
