/**
 * examples/imagenet/train-resnet50.ts end to end on a tiny generated ImageFolder (4 classes,
 * 12 + 4 JPEGs each, one more in val/ so that 2 workers get unequal shares, 80×64): ResNet-50 at
 * 32×32, Random-ERK 90% + Sign-In, one epoch of 3 steps, run in a child process as a user runs
 * it. Checks the run directory (metrics, final.json, config), the mask density in the checkpoint,
 * the printed accuracy, and that a second call finds the run finished and prints the same result
 * without training; with 2 workers whose rank 1 fails, the launcher's root-cause summary and
 * failed.json's rootCause. Its command line (pytorch/examples' main.py flags, the CLI's launcher
 * flags) is also parsed in this process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CommanderError } from 'commander';
import { createRunDir, readConfig, readFinal, readMetrics } from '../../src/experiments';
import { loadSafetensors } from '../../src/nn/safetensors';
import { exampleConfig, exampleProgram, parseArgs } from '../../examples/imagenet/train-resnet50';
import { fashionImages, tmpDir, writeImageFolder } from '../helpers/data-fixtures';
import { errorOf } from '../helpers/error-of';

const REPO = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'imagenet', 'train-resnet50.ts');
const TSX = require.resolve('tsx');
const FAULT = path.join(__dirname, 'rank1-bad-port.ts');
const CLASSES = ['n01440764', 'n01443537', 'n01484850', 'n01491361'];

/** `preload`: modules node loads first, in the launcher and (through its execArgv) in each worker. */
function runExample(args: string[], preload: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, ...preload.flatMap((m) => ['--import', pathToFileURL(m).href]), EXAMPLE, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'warn' },
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('examples/imagenet/train-resnet50.ts', () => {
  const dir = tmpDir('signin-imagenet-example-');
  const root = path.join(dir, 'imagenet');
  const runsDir = path.join(dir, 'runs');
  const args = [
    root, '--pruner', 'random', '--sparsity', '0.9', '--signin', '--epochs', '1', '--batch-size', '8', '--image-size', '32',
    '--max-steps-per-epoch', '3', '--workers', '1', '--threads', '1', '--device', 'cpu', '--runs-dir', runsDir,
  ];

  beforeAll(async () => {
    const src = fashionImages(64);
    await writeImageFolder(path.join(root, 'train'), src, { classes: CLASSES, perClass: 12, format: 'jpeg', width: 80, height: 64 });
    await writeImageFolder(path.join(root, 'val'), src, { classes: CLASSES, perClass: 4, format: 'jpeg', width: 80, height: 64 });
    const first = path.join(root, 'val', CLASSES[1], 'img_0000.JPEG');
    fs.copyFileSync(first, path.join(path.dirname(first), 'img_extra.JPEG'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains a resumable run directory and prints its top-1/top-5', () => {
    const r = runExample(args);
    if (r.status !== 0) throw new Error(`example failed (${r.status}):\n${r.stdout}\n${r.stderr}`);

    const m = /^run directory: (.+) \(new\)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const runDir = m![1];
    expect(path.dirname(runDir)).toBe(runsDir);

    const config = readConfig(runDir);
    expect(config).toMatchObject({
      dataset: { name: 'imagenet', imageSize: 32, maxTrainBatches: 3, workers: 1 },
      model: { name: 'resnet50', options: { numClasses: 4 } },
      pruning: { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'erk' },
      signin: { enabled: true },
      optimizer: { lr: (0.1 * 8) / 256, momentum: 0.9, weightDecay: 1e-4 },
      schedule: { name: 'cosine', warmupEpochs: 0 },
      labelSmoothing: 0.1,
      epochs: 1,
      batchSize: 8,
    });

    const rows = readMetrics(runDir);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ epoch: 1, step: 3 });
    const final = readFinal(runDir)!;
    expect(final).toMatchObject({ epoch: 1, step: 3 });
    expect(final.testAcc).toBe(rows[0].testAcc);

    // Masks in the checkpoint: 10% of the prunable weights kept, a 4-class classifier.
    const tensors = loadSafetensors(path.join(runDir, 'checkpoint.safetensors'));
    try {
      let kept = 0;
      let total = 0;
      const masks = [...tensors.keys()].filter((k) => k.startsWith('model.') && k.endsWith('.weight_mask'));
      expect(masks.length).toBe(54); // 53 convs + fc
      for (const k of masks) {
        const v = tensors.get(k)!.toArray();
        kept += v.reduce((a, b) => a + b, 0);
        total += v.length;
      }
      expect(kept / total).toBeCloseTo(0.1, 3);
      expect(tensors.get('model.fc.weight_mask')!.shape).toEqual([4, 2048]);
      expect(tensors.has('model.fc.weight_m')).toBe(true); // Sign-In factors
    } finally {
      for (const t of tensors.values()) t.dispose();
    }

    const pct = (x: number | undefined) => `${((x ?? NaN) * 100).toFixed(2)}%`;
    const printed = /top-1 (\S+), top-5 (\S+) after 1 epochs/.exec(r.stdout);
    expect(printed).not.toBeNull();
    expect(printed![1]).toBe(pct(final.testAcc));
    expect(printed![2]).toBe(pct(final.testTop5));

    // The same command again: the run is finished, nothing is trained, the same result printed.
    const again = runExample(args);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`run directory: ${runDir} (finished earlier)`);
    expect(/top-1 \S+, top-5 \S+ after 1 epochs/.exec(again.stdout)![0]).toBe(printed![0]);
    expect(readMetrics(runDir)).toHaveLength(1);
  });

  it('--evaluate gives the run\'s final top-1/top-5, also sharded over 2 workers', () => {
    const runDir = fs.readdirSync(runsDir).map((d) => path.join(runsDir, d)).find((d) => fs.existsSync(path.join(d, 'final.json')))!;
    const final = readFinal(runDir)!;
    const pct = (x: number | undefined) => `${((x ?? NaN) * 100).toFixed(2)}%`;
    const expected = `val top-1 ${pct(final.testAcc)}, top-5 ${pct(final.testTop5)}`;
    const one = runExample([...args, '--evaluate']);
    if (one.status !== 0) throw new Error(`evaluate failed (${one.status}):\n${one.stdout}\n${one.stderr}`);
    expect(one.stdout).toContain(expected);
    const two = runExample([...args, '--evaluate', '--nproc-per-node', '2', '--resume', path.join(runDir, 'checkpoint.safetensors')]);
    if (two.status !== 0) throw new Error(`2-worker evaluate failed (${two.status}):\n${two.stdout}\n${two.stderr}`);
    expect(two.stdout.match(/val top-1/g)).toHaveLength(1); // rank 0 prints
    expect(two.stdout).toContain(expected);
  });

  it('2 workers (--nproc-per-node 2, as under torchrun) print the run once: rank 0 speaks, the other ranks train silently', () => {
    const two = runExample([...args.slice(0, -1), path.join(dir, 'runs-two'), '--max-steps-per-epoch', '1', '--nproc-per-node', '2']);
    if (two.status !== 0) throw new Error(`2-worker training failed (${two.status}):\n${two.stdout}\n${two.stderr}`);
    expect(two.stdout.match(/^run directory: .+ \(new\)$/gm)).toHaveLength(1);
    expect(two.stdout.match(/^ResNet-50, .+, 4 classes, 32 px, 1 epochs, batch 8, lr /gm)).toHaveLength(1);
    expect(two.stdout.match(/top-1 \S+, top-5 \S+ after 1 epochs/g)).toHaveLength(1);
  });

  it('--sync-bn names SyncBatchNorm in the config and another run directory', () => {
    const plain = runExample([...args, '--dry-run']);
    const synced = runExample([...args, '--dry-run', '--sync-bn']);
    const dirOf = (out: string) => /^run directory: (\S+) \(dry run\)$/m.exec(out)![1];
    const configOf = (out: string) => JSON.parse(out.slice(out.indexOf('{'))) as { syncBatchNorm: boolean };
    expect(configOf(plain.stdout).syncBatchNorm).toBe(false);
    expect(configOf(synced.stdout).syncBatchNorm).toBe(true);
    expect(dirOf(synced.stdout)).not.toBe(dirOf(plain.stdout));
  });

  it('--grad-accum-steps names the accumulation in the config and another run directory; a value over the per-worker batch is refused', () => {
    const plain = runExample([...args, '--dry-run']);
    const split = runExample([...args, '--dry-run', '--grad-accum-steps', '4']);
    const dirOf = (out: string) => /^run directory: (\S+) \(dry run\)$/m.exec(out)![1];
    const configOf = (out: string) => JSON.parse(out.slice(out.indexOf('{'))) as { gradAccumSteps: number; batchSize: number };
    expect(configOf(plain.stdout)).toMatchObject({ gradAccumSteps: 1, batchSize: 8 });
    expect(configOf(split.stdout)).toMatchObject({ gradAccumSteps: 4, batchSize: 8 });
    expect(dirOf(split.stdout)).not.toBe(dirOf(plain.stdout));
    const over = runExample([...args, '--grad-accum-steps', '5', '--nproc-per-node', '2']);
    expect({ status: over.status, stderr: over.stderr }).toMatchObject({ status: 1, stderr: expect.stringMatching(/gradAccumSteps: Expected at most the per-process batch 4 \(batchSize 8 over 2 processes\)/) });
  });

  it('a bad launcher flag is one line naming it, before any worker starts; --dry-run prints once', () => {
    const bad = runExample([...args, '--nproc-per-node', '0']);
    expect({ status: bad.status, stderr: bad.stderr }).toEqual({ status: 1, stderr: "ERR_INVALID_ARG: Expected --nproc-per-node to be an integer in [1, 1024] but received '0'\n" });
    const dry = runExample([...args, '--nproc-per-node', '2', '--dry-run']);
    expect({ status: dry.status, stderr: dry.stderr }).toEqual({ status: 0, stderr: '' });
    expect(dry.stdout.match(/^run directory: /gm)).toHaveLength(1);
  });

  it("rank 1 failing (its MASTER_PORT unreadable): train's summary names it, its exit code is the launch's, failed.json has its rootCause; an evaluation's, no record", () => {
    const faultArgs = [...args.slice(0, -1), path.join(dir, 'runs-fault'), '--nproc-per-node', '2'];
    // A run begun earlier: rank 1 now fails before any rank reaches the run (parsing its flags, which read the launcher's variables).
    const runDir = createRunDir(path.join(dir, 'runs-fault'), exampleConfig(root, parseArgs(faultArgs).flags).config).dir;
    const message = "Expected environment variable MASTER_PORT to be an integer in [1, 65535] but it is 'not-a-port'";
    const rootCause = `root cause: rank 1 (local rank 1, host ${os.hostname()}) failed first, exit code 1: ERR_INVALID_ARG: ${message}\n`;
    const train = runExample(faultArgs, [FAULT]);
    expect(train.status).toBe(1);
    expect(train.stderr).toContain(rootCause);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'failed.json'), 'utf8')).rootCause).toEqual({ rank: 1, localRank: 1, host: os.hostname(), exitCode: 1, code: 'ERR_INVALID_ARG', message });

    const finished = fs.readdirSync(runsDir).map((d) => path.join(runsDir, d)).find((d) => fs.existsSync(path.join(d, 'final.json')))!;
    const evaluate = runExample([...args, '--evaluate', '--nproc-per-node', '2'], [FAULT]);
    expect(evaluate.status).toBe(1);
    expect(evaluate.stderr).toContain(rootCause);
    expect(fs.existsSync(path.join(finished, 'failed.json'))).toBe(false);
  });

  it('rejects a root without train/ and val/', () => {
    const r = runExample([path.join(dir, 'missing'), '--runs-dir', runsDir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*missing.*train/);
    // As signin-torch's CLI says it: one line, led by the error's code.
    expect(r.stderr).toMatch(/^ERR_[A-Z_]+: [^\n]*\n$/);
  });
});

describe('the example\'s command line', () => {
  /** Parses as the example does, commander's errors thrown rather than printed. */
  const parse = (argv: string[]) => parseArgs(['/data/imagenet', ...argv], exampleProgram().exitOverride().configureOutput({ writeErr: () => undefined }));

  it('takes pytorch/examples\' imagenet/main.py flags: --workers, --epochs, a global --batch-size, --lr, --resume, --evaluate, --seed', () => {
    const { root, flags, launcher } = parse(['-j', '4', '--epochs', '3', '-b', '64', '--lr', '0.2', '--resume', 'ck.safetensors', '-e', '--seed', '5', '--pruner', 'snip', '--sparsity', '0.95', '--signin']);
    expect(root).toBe('/data/imagenet');
    expect(flags).toMatchObject({ workers: 4, epochs: 3, batchSize: 64, lr: 0.2, resume: 'ck.safetensors', evaluate: true, seed: 5, pruner: 'snip', sparsity: 0.95, signin: true });
    expect(launcher).toBeUndefined();
  });

  it('takes the launcher flags of signin-torch train (torchrun\'s --nproc-per-node, or --nproc)', () => {
    const launcher = { nproc: 2, nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 1234 };
    const flags = ['--nnodes', '2', '--node-rank', '1', '--master-addr', '10.0.0.1', '--master-port', '1234'];
    expect(parse(['--nproc-per-node', '2', ...flags]).launcher).toEqual(launcher);
    expect(parse(['--nproc', '2', ...flags]).launcher).toEqual(launcher);
    expect(parse(['--nproc-per-node', '3']).launcher).toEqual({ nproc: 3, nnodes: 1, nodeRank: undefined, masterAddr: undefined, masterPort: undefined });
    expect(exampleProgram().helpInformation()).toContain('--nproc-per-node <n>');
  });

  it('refuses a bad launcher value with one ERR_INVALID_ARG naming the flag', () => {
    const cases: [string[], string][] = [
      [['--nproc-per-node', '0'], "Expected --nproc-per-node to be an integer in [1, 1024] but received '0'"],
      [['--nproc-per-node', 'two'], "Expected --nproc-per-node to be an integer in [1, 1024] but received 'two'"],
      [['--nproc', '1.5'], "Expected --nproc to be an integer in [1, 1024] but received '1.5'"],
      [['--nproc-per-node', '2', '--nnodes', '0'], "Expected --nnodes to be an integer in [1, 65535] but received '0'"],
      [['--nproc-per-node', '2', '--master-port', '70000'], "Expected --master-port to be an integer in [1, 65535] but received '70000'"],
      [['--nproc-per-node', '2', '--nnodes', '2', '--node-rank', '2'], 'Expected --node-rank to be an integer in [0, 1] (below --nnodes 2) but received 2'],
      [['--master-port', '1234'], '--nnodes, --node-rank, --master-addr and --master-port apply only with --nproc-per-node or --slurm'],
    ];
    for (const [argv, message] of cases) {
      const e = errorOf(() => parse(argv));
      expect({ argv, code: e.code, message: e.message }).toEqual({ argv, code: 'ERR_INVALID_ARG', message });
    }
    const both = errorOf(() => parse(['--nproc', '2', '--nproc-per-node', '2']));
    expect(both).toBeInstanceOf(CommanderError);
    expect(both.message).toMatch(/option '--nproc-per-node <n>' cannot be used with option '--nproc <n>'|option '--nproc <n>' cannot be used with option '--nproc-per-node <n>'/);
  });
});
