/**
 * The ImageNet ResNet-50 recipe of the Sign-In paper's table (docs/signin-method.md): PaI at 90%
 * sparsity (Random-ERK by default), optionally + Sign-In, SGD momentum 0.9, lr 0.1 × batch/256,
 * cosine decay after 5 warm-up epochs, label smoothing 0.1, weight decay 1e-4, 90 epochs,
 * batch 256. Built on the experiment layer: the run lives in <runs-dir>/train_<hash>/ (config.json,
 * metrics.jsonl per epoch, checkpoint.safetensors, final.json), the same directory that
 * `signin-torch train` and the sweep in examples/configs/imagenet-resnet50*.json use for the same
 * config, and running the command again resumes from the last checkpoint (a finished run only
 * prints its result).
 *
 *   npx tsx examples/imagenet/train-resnet50.ts <root> [--pruner random] [--sparsity 0.9] [--signin]
 *     [--epochs 90] [-b/--batch-size 256] [-j/--workers 8] [--device auto] [--runs-dir runs]
 *     [--resume <checkpoint>] [-e/--evaluate] [--nproc-per-node N --nnodes 1 --node-rank 0
 *     --master-addr 127.0.0.1 --master-port 29500 --dist-backend gloo|nccl --sync-bn]
 *
 * The flags of pytorch/examples' imagenet/main.py: --batch-size is the global batch (split across
 * the workers), --resume starts a new run directory from a checkpoint file (a run directory
 * resumes from its own checkpoint by itself), --evaluate prints val top-1/top-5 of the run's (or
 * --resume's) checkpoint without training. The distributed flags are `signin-torch train`'s
 * (src/cli/flags.ts; --nproc is --nproc-per-node): they spawn workers with torchrun's variables
 * (src/distributed/launch.ts), each re-running this command line, or the example runs under
 * torchrun itself. Every flag is checked, and the config with it, before any worker starts.
 *
 * <root> holds train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (val sorted into class folders, as for
 * torchvision's ImageFolder). Smoke test on a tiny folder (at least 128 training images: SNIP
 * scores 128 examples, pruning.dataSamples, and a smaller training set is refused):
 *
 *   npx tsx examples/imagenet/train-resnet50.ts /tmp/tiny --epochs 1 --batch-size 8 --image-size 32 \
 *     --max-steps-per-epoch 3 --pruner snip --signin
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addLauncherOptions, checkCpuWorkers, checkWorldSize, launcherFrom, type Launcher, type LauncherFlags } from '../../src/cli/flags';
import { formatError } from '../../src/cli/format-error';
import { reportLaunch } from '../../src/cli/launch-report';
import { stopOnSignals } from '../../src/cli/signals';
import { recordErrorFile } from '../../src/distributed/error-file';
import { ToolkitError } from '../../src/errors';
import { launch } from '../../src/distributed';
import {
  createRunDir, DATASET_INFO, DISTRIBUTIONS, isFinished, parseConfig, readFinal, runDirFor, runHasCheckpoint, type ExperimentConfig, type ExperimentConfigInput,
} from '../../src/experiments';
import { checkRunnable, resolveDevice, trainFromConfig } from '../../src/experiments/runner';
import { runPaths } from '../../src/experiments/paths';
import { tempPathFor } from '../../src/atomic';
import { PruningInterruptedError } from '../../src/pruning';
import { InterruptedError, signalExitCode } from '../../src/train/interrupt';
import { checkpointFile, evaluateCheckpoint } from './evaluate';

const PRUNERS = ['random', 'magnitude', 'snip', 'grasp', 'synflow'] as const;

export interface Flags extends LauncherFlags {
  pruner: (typeof PRUNERS)[number];
  sparsity: number;
  distribution?: string;
  signin: boolean;
  epochs: number;
  batchSize: number;
  gradAccumSteps: number;
  lr?: number;
  weightDecay: number;
  labelSmoothing: number;
  warmupEpochs: number;
  workers?: number;
  threads: number;
  device: string;
  runsDir: string;
  numClasses?: number;
  imageSize: number;
  maxStepsPerEpoch?: number;
  seed: number;
  dryRun?: boolean;
  resume?: string;
  evaluate?: boolean;
  distBackend?: 'gloo' | 'nccl';
  syncBn?: boolean;
}

function number(kind: 'int' | 'posint' | 'float') {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('Not a number.');
    if (kind !== 'float' && !Number.isInteger(n)) throw new InvalidArgumentError('Not an integer.');
    if (kind === 'posint' && n < 1) throw new InvalidArgumentError('Expected an integer >= 1.');
    return n;
  };
}

/** Class folders of a split (symlinked folders count), sorted as ImageFolder sorts them. */
function classFolders(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new ToolkitError('ERR_DATASET', `cannot read ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}): <root> must hold train/<wnid>/*.JPEG and val/<wnid>/*.JPEG`);
  }
  const isDir = (d: fs.Dirent): boolean => d.isDirectory() || (d.isSymbolicLink() && fs.statSync(path.join(dir, d.name), { throwIfNoEntry: false })?.isDirectory() === true);
  return entries.filter(isDir).map((d) => d.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The example's command line: pytorch/examples' imagenet/main.py flags, and the launcher's of `signin-torch train`. */
export function exampleProgram(): Command {
  const program = new Command()
    .name('train-resnet50')
    .description('ImageNet ResNet-50: pruning at initialization (+ Sign-In) with the paper\'s recipe, as a resumable run directory.')
    .argument('<root>', 'ImageNet folder with train/<wnid>/*.JPEG and val/<wnid>/*.JPEG')
    .addOption(new Option('--pruner <method>', 'pruning at initialization').choices(PRUNERS).default('random'))
    .option('--sparsity <x>', 'fraction of prunable weights removed, in [0, 1); 0 trains dense', number('float'), 0.9)
    .addOption(new Option('--distribution <d>', "layer densities (default 'erk' for random; given with another pruner it makes the pruning layerwise)").choices(DISTRIBUTIONS))
    .option('--signin', 'reparameterize the masked layers with Sign-In (β = 1, reset every epoch)', false)
    .option('--epochs <n>', 'epochs', number('posint'), 90)
    .option('-b, --batch-size <n>', 'global batch size (all workers together)', number('posint'), 256)
    .option('--grad-accum-steps <n>', "split each worker's batch into this many micro-batches, gradients accumulated before the step (timm's --grad-accum-steps, but the step's batch stays --batch-size): the batch in the memory of a micro-batch", number('posint'), 1)
    .option('--lr <x>', 'peak learning rate (default 0.1 × batch-size / 256)', number('float'))
    .option('--weight-decay <x>', 'weight decay', number('float'), 1e-4)
    .option('--label-smoothing <x>', 'label smoothing', number('float'), 0.1)
    .option('--warmup-epochs <n>', 'linear warm-up epochs before the cosine decay (capped at epochs - 1)', number('float'), 5)
    .option('-j, --workers <n>', 'data-loader worker threads decoding JPEGs (default 2)', number('int'))
    .option('--threads <n>', "libtorch CPU threads (0 = libtorch's default)", number('int'), 0)
    .option('--device <d>', "'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:N'", 'auto')
    .option('--runs-dir <dir>', 'root of the run directories', 'runs')
    .option('--num-classes <n>', 'classes of the classifier (default: the number of class folders in train/)', number('posint'))
    .option('--image-size <n>', 'training crop and evaluation center-crop size', number('posint'), 224)
    .option('--max-steps-per-epoch <n>', 'train on at most this many batches per epoch (smoke tests)', number('posint'))
    .option('--seed <n>', 'seed of init, mask, shuffling and augmentation', number('int'), 0)
    .option('--dry-run', 'print the run directory and the resolved config, train nothing')
    .option('--resume <checkpoint>', 'start a new run directory from this checkpoint file (or, with --evaluate, evaluate it)')
    .option('-e, --evaluate', 'evaluate the checkpoint on val/ (top-1, top-5) and exit')
    .option('--sync-bn', "BatchNorm statistics over the whole global batch (SyncBatchNorm; torchvision's references' --sync-bn)")
    .addOption(new Option('--dist-backend <b>', 'process group backend (default: nccl when training on CUDA and the addon has it, else gloo)').choices(['gloo', 'nccl']))
    .showHelpAfterError('(add --help for usage)');
  return addLauncherOptions(program, '--nproc-per-node');
}

/**
 * The command line (the arguments after the script), parsed by `program`: the ImageNet root, the
 * flags, and the launch they ask for (undefined when this process trains or evaluates itself).
 */
export function parseArgs(argv: readonly string[], program: Command = exampleProgram()): { root: string; flags: Flags; launcher: Launcher | undefined } {
  program.parse(['node', 'train-resnet50', ...argv]);
  const flags = program.opts<Flags>();
  return { root: path.resolve(program.args[0]), flags, launcher: launcherFrom(flags, '--nproc-per-node') };
}

/** The run's config from the flags and the class folders under root, and how to name it. */
export function exampleConfig(root: string, f: Flags): { config: ExperimentConfig; what: string; numClasses: number } {
  const trainClasses = classFolders(path.join(root, 'train'));
  const valClasses = classFolders(path.join(root, 'val'));
  if (trainClasses.length === 0) throw new ToolkitError('ERR_DATASET', `no class folder in ${path.join(root, 'train')}`);
  if (trainClasses.join('\n') !== valClasses.join('\n')) {
    throw new ToolkitError('ERR_DATASET', `train/ has ${trainClasses.length} class folders and val/ ${valClasses.length}, not the same ones: labels would not match (sort val/ into the train/ class folders)`);
  }
  const numClasses = f.numClasses ?? trainClasses.length;
  if (numClasses < trainClasses.length) throw new ToolkitError('ERR_INVALID_ARG', `--num-classes ${numClasses} is less than the ${trainClasses.length} class folders`);

  // Fields equal to the dataset's defaults (1000 classes, 224 px) are left out, so that the full
  // recipe names the same run directory as examples/configs/imagenet-resnet50*.json.
  const dense = f.sparsity === 0;
  const layerwise = f.pruner === 'random' || f.distribution !== undefined;
  const info = DATASET_INFO.imagenet;
  const raw: ExperimentConfigInput = {
    dataset: {
      name: 'imagenet',
      root,
      ...(f.imageSize !== info.inputSize ? { imageSize: f.imageSize } : {}),
      ...(f.workers !== undefined ? { workers: f.workers } : {}),
      ...(f.maxStepsPerEpoch !== undefined ? { maxTrainBatches: f.maxStepsPerEpoch } : {}),
    },
    model: { name: 'resnet50', ...(numClasses !== info.numClasses ? { options: { numClasses } } : {}) },
    pruning: dense ? { method: 'none' } : {
      method: f.pruner,
      sparsity: f.sparsity,
      ...(layerwise ? { scope: 'layerwise' as const, distribution: (f.distribution ?? 'erk') as (typeof DISTRIBUTIONS)[number] } : {}),
    },
    signin: { enabled: f.signin },
    optimizer: { lr: f.lr ?? (0.1 * f.batchSize) / 256, momentum: 0.9, weightDecay: f.weightDecay },
    schedule: { name: 'cosine', warmupEpochs: Math.min(f.warmupEpochs, f.epochs - 1) },
    labelSmoothing: f.labelSmoothing,
    epochs: f.epochs,
    batchSize: f.batchSize,
    gradAccumSteps: f.gradAccumSteps,
    seed: f.seed,
    device: f.device,
    threads: f.threads,
    ...(f.syncBn ? { syncBatchNorm: true } : {}),
  };
  const config = parseConfig(raw, 'from flags');
  const what = `ResNet-50, ${dense ? 'dense' : `${f.pruner}${layerwise ? `-${config.pruning.distribution}` : ''} ${(f.sparsity * 100).toFixed(0)}% sparse`}${f.signin ? ' + Sign-In' : ''}`;
  return { config, what, numClasses };
}

async function main(): Promise<void> {
  const { root, flags: f, launcher } = parseArgs(process.argv.slice(2));
  const { config, what, numClasses } = exampleConfig(root, f);
  const dir = runDirFor(f.runsDir, config);
  if (f.dryRun) {
    process.stdout.write(`run directory: ${dir} (dry run)\n${JSON.stringify(config, null, 2)}\n`);
    return;
  }
  if (launcher) {
    // What would make every worker fail is refused once, here.
    checkCpuWorkers(launcher, resolveDevice(config.device), config.device, '--nproc-per-node');
    checkWorldSize(config.batchSize, launcher, '--nproc-per-node');
    if (!f.evaluate) checkRunnable(config, f.runsDir, { worldSize: launcher.nproc * launcher.nnodes, localWorldSize: launcher.nproc });
    // Each worker re-runs this command line; the WORLD_SIZE the launcher gives it makes it train (or evaluate).
    const r = await launch({ ...launcher, command: process.execPath, args: [...process.execArgv, process.argv[1], ...process.argv.slice(2)] });
    // An evaluation leaves the run as it was: its failure is not the run's.
    reportLaunch(r, launcher, f.evaluate ? undefined : dir, (s) => process.stderr.write(s));
    process.exit(r.exitCode);
  }
  const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`);
  // Rank 0 speaks for the run, under the launcher or torchrun. RANK is read leniently: the runner
  // checks torchrun's variables and names a bad one.
  const speaks = Number(process.env.RANK ?? 0) === 0;
  const say = (line: string): void => {
    if (speaks) process.stdout.write(line);
  };
  if (f.evaluate) {
    const r = await evaluateCheckpoint(config, checkpointFile(f.resume ?? dir));
    if (speaks) {
      process.stdout.write(`${what}: val top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}, loss ${r.loss.toFixed(4)} on ${r.images} images (${r.checkpoint})\n`);
    }
    return;
  }
  if (isFinished(dir)) {
    say(`run directory: ${dir} (finished earlier)\n`);
  } else {
    checkRunnable(config, f.runsDir);
    const run = createRunDir(f.runsDir, config);
    const own = runPaths(run.dir).checkpoint;
    // Whichever rank made the directory, a checkpoint is what makes this a resumption.
    const resuming = runHasCheckpoint(run.dir);
    if (f.resume && !fs.existsSync(own)) {
      // Published by a rename, as checkpoints are: a killed copy leaves no half checkpoint behind.
      // Every rank copies to its own temporary name: the renames publish identical files.
      const tmp = tempPathFor(own);
      fs.copyFileSync(checkpointFile(f.resume), tmp);
      fs.renameSync(tmp, own);
    }
    say(`run directory: ${run.dir} (${resuming ? 'resuming' : 'new'})\n`);
    say(`${what}, ${numClasses} classes, ${f.imageSize} px, ${f.epochs} epochs, batch ${f.batchSize}, lr ${config.optimizer.lr}\n`);
    // Ctrl-C, scancel or a preemption (SIGINT / SIGTERM) checkpoints at the next step; rerunning resumes there
    // (stopped while pruning at initialization, between two rounds: rerunning prunes again).
    const stop = stopOnSignals();
    try {
      await trainFromConfig(config, run.dir, { backend: f.distBackend, signal: stop.signal });
    } finally {
      stop.dispose();
    }
  }
  // Rank 0 writes final.json, possibly after the other ranks returned.
  if (!speaks) return;
  const final = readFinal(dir);
  if (!final) throw new Error(`${dir} has no final.json`);
  process.stdout.write(`${what}: top-1 ${pct(final.testAcc)}, top-5 ${pct(final.testTop5)} after ${final.epoch} epochs (${path.join(dir, 'final.json')})\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    if (e instanceof InterruptedError || e instanceof PruningInterruptedError) {
      if (Number(process.env.RANK ?? 0) === 0) process.stderr.write(`${e.message}\n`);
      process.exit(signalExitCode(e.reason));
    }
    // For the launcher's (or torchrun's) root cause; an error inside trainFromConfig is already recorded, earlier.
    recordErrorFile(e);
    process.stderr.write(`${formatError(e)}\n`);
    process.exit(1);
  });
}
