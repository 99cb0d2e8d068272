/**
 * The main job (README's first command): Sign-In where the issue-12 regime says it shows. On
 * Fashion-MNIST, ResNet-20 (1 input channel, option-B shortcuts) with a random ERK mask at high
 * sparsity (first conv and classifier pruned too) is trained twice, plain (Random PaI) and with
 * Sign-In (β = 1, reset every epoch), with the same seed, mask, data order and crops, SGD lr 0.1
 * momentum 0.9 weight decay 5e-4, cosine per step, batch 128, random crop (pad 2) + flip. Then it
 * prints the comparison table (accuracy, sign flips, β, the paired difference and its noise)
 * and where the multi-seed evidence is. Logs go to stderr and to each run's log.jsonl; stdout
 * carries only the table.
 *
 *   npx tsx examples/fashion-mnist.ts [--sparsity 0.95] [--epochs N] [--train-batches N] [--parallel 2]
 *
 * Defaults (epochs, batches per epoch) are sized to finish well under 15 minutes on 2 cores (the
 * README records the time measured);
 * SIGNIN_MAIN_EPOCHS and SIGNIN_MAIN_TRAIN_BATCHES override them (a short smoke run). With
 * --parallel 2 the two runs train at once, each in its own process with 1 libtorch thread
 * (faster on 2 cores than one after the other with 2 threads); thread counts change float
 * sums, so results differ by a few tenths between the two modes.
 *
 * Runs live in run directories named by their config (runs/main by default): a second
 * invocation skips finished runs and resumes unfinished ones from their last checkpoint.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createDataset } from '../src/data';
import {
  parseConfig, readFinal, readMetrics, runDirFor, runPaths, runSweep, writeReport, type ExperimentConfigInput, type PlannedRun,
} from '../src/experiments';
import { logger } from '../src/logger';
import { trainFromConfig } from '../src/experiments/runner';
import { stopOnSignals } from '../src/cli/signals';
import { InterruptedError, signalExitCode } from '../src/train/interrupt';
import { mainJobTable, type MainJobRun } from './main-job-table';
import { intFlag, numberFlag } from '../src/cli/flags';
import { ToolkitError } from '../src/errors';
import { readRecordBounded, readTail } from '../src/bounded-read';

/** What fits in about 12 minutes with the setup on a 2-core machine (measured: an epoch of 160 batches took 178 s per run with both runs at once, 1 thread each): 5 epochs of 120 batches (docs/results/README.md). */
const DEFAULT_EPOCHS = 5;
const DEFAULT_TRAIN_BATCHES = 120;
const RSS_LINE = 'peak resident memory of this run (MiB): ';
const RSS_TAIL_BYTES = 64 * 1024;

interface Args {
  sparsity: number;
  epochs: number;
  trainBatches: number;
  seed: number;
  parallel: number;
  runsDir: string;
  arm?: string;
}

function intAtLeast(min: number, expected: string) {
  return (name: string) => (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name}: expected ${expected}, got '${v}'`);
    return n;
  };
}
const positiveInt = intAtLeast(1, 'a positive integer');
const oneOrTwo = (name: string) => (v: string) => {
  if (v !== '1' && v !== '2') throw new InvalidArgumentError(`${name}: expected 2 or 1, got '${v}'`);
  return Number(v);
};
const nonNegativeInt = intAtLeast(0, 'a non-negative integer (0: every batch)');

/** An environment variable's integer: a bad value is one ERR_INVALID_ARG line naming the variable (as the toolkit's own). */
function fromEnv(name: string, fallback: number, min: number, expected: string): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ToolkitError('ERR_INVALID_ARG', `Expected ${name} to be ${expected} but it is '${v}'`);
  return n;
}

function parseArgs(): Args {
  const program = new Command()
    .name('fashion-mnist')
    .description('Issue-12 regime on Fashion-MNIST: ResNet-20, Random-ERK, plain vs Sign-In with the same seed, mask and data order.')
    .option('--sparsity <x>', 'fraction of weights removed', numberFlag('--sparsity', 'a fraction in [0, 1)', (n) => n >= 0 && n < 1), 0.95)
    .option('--epochs <n>', 'epochs per run (env SIGNIN_MAIN_EPOCHS)', positiveInt('--epochs'), fromEnv('SIGNIN_MAIN_EPOCHS', DEFAULT_EPOCHS, 1, 'a positive integer'))
    .option('--train-batches <n>', 'training batches per epoch, the first of each epoch\'s shuffled order; 0: all 469 (env SIGNIN_MAIN_TRAIN_BATCHES)', nonNegativeInt('--train-batches'), fromEnv('SIGNIN_MAIN_TRAIN_BATCHES', DEFAULT_TRAIN_BATCHES, 0, 'a non-negative integer (0: every batch)'))
    .option('--seed <n>', 'seed of init, mask, data order and crops', intFlag('--seed', 0), 0)
    .option('--parallel <n>', 'runs at once: 2 (1 thread each) or 1 (2 threads, one after the other)', oneOrTwo('--parallel'), 2)
    .option('--runs-dir <dir>', 'where the run directories and the report go', path.join('runs', 'main'))
    .addOption(new Option('--arm <runDir>', 'internal: train one prepared run directory').hideHelp())
    .parse();
  return program.opts<Args>();
}

function configs(args: Args) {
  const base: ExperimentConfigInput = {
    dataset: {
      name: 'fashion_mnist',
      augment: { crop: { padding: 2 }, flip: true },
      ...(args.trainBatches > 0 ? { maxTrainBatches: args.trainBatches } : {}),
    },
    model: { name: 'cifar_resnet_20', options: { shortcut: 'B' } },
    pruning: { method: 'random', sparsity: args.sparsity },
    signin: { beta: 1, resetPeriod: 1 },
    optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
    schedule: { name: 'cosine' },
    epochs: args.epochs,
    batchSize: 128,
    seed: args.seed,
    threads: args.parallel === 2 ? 1 : 2,
  };
  return [false, true].map((enabled) => parseConfig({ ...base, signin: { ...base.signin, enabled } }));
}

/** Child process: train one run directory, then report this process's peak RSS into the run's train.log. */
async function trainArm(runDir: string): Promise<void> {
  const config = parseConfig(JSON.parse(readRecordBounded(runPaths(runDir).config)));
  const stop = stopOnSignals();
  try {
    await trainFromConfig(config, runDir, { signal: stop.signal });
  } finally {
    stop.dispose();
  }
  // maxRSS is in KiB: the process's peak resident set, the figure a memory blow-up would show.
  process.stdout.write(`${RSS_LINE}${(process.resourceUsage().maxRSS / 1024).toFixed(0)}\n`);
}

function armCommand(run: PlannedRun) {
  const pre = path.extname(__filename) === '.ts' ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  return { command: process.execPath, args: [...pre, __filename, '--arm', run.runDir] };
}

/**
 * The last peak-RSS line a run's child wrote (runs trained earlier keep theirs in train.log). It
 * is the child's last line, so only the log's end is read: a long run's log is not read whole.
 */
function peakRssMiB(runDir: string): number | undefined {
  try {
    const lines = readTail(runPaths(runDir).log, RSS_TAIL_BYTES).split('\n').filter((l) => l.startsWith(RSS_LINE));
    return lines.length ? Number(lines[lines.length - 1].slice(RSS_LINE.length)) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.arm) return trainArm(args.arm);
  const log = logger();
  const [plain, signin] = configs(args);
  const subset = args.trainBatches > 0 ? `${args.trainBatches} batches (${args.trainBatches * 128} images) per epoch` : 'all 60,000 training images per epoch';
  log.info(`ResNet-20 at ${(args.sparsity * 100).toFixed(0)}% sparsity, ${args.epochs} epochs of ${subset}, plain and Sign-In, ${args.parallel === 2 ? 'both at once' : 'one after the other'}`);
  const stop = stopOnSignals();
  const result = await runSweep([plain, signin], {
    runsDir: args.runsDir,
    processes: args.parallel,
    childCommand: armCommand,
    signal: stop.signal,
    onEvent: (e) => {
      const label = e.run.config.signin.enabled ? 'Random + Sign-In' : 'Random';
      if (e.type === 'skip') log.info({ run: e.run.runDir }, `${label}: finished earlier, skipped`);
      else if (e.type === 'start') log.info({ run: e.run.runDir }, `${label}: training`);
      else if (e.type === 'done') log.info({ run: e.run.runDir, seconds: e.seconds }, `${label}: done`);
      else if (e.type === 'busy') log.warn({ run: e.run.runDir, pid: e.holder.pid, host: e.holder.host }, `${label}: another process is training it`);
      else if (e.type === 'fail') log.error({ run: e.run.runDir, error: e.error }, `${label}: failed`);
      else log.warn({ run: e.run.runDir }, `${label}: interrupted at a checkpoint`);
    },
  }).finally(() => stop.dispose());
  if (stop.signal.aborted) {
    process.stderr.write(`Interrupted by ${String(stop.signal.reason)}: ${result.interrupted} run(s) stopped at a checkpoint; run the same command again to resume\n`);
    process.exitCode = signalExitCode(stop.signal.reason);
    return;
  }
  if (result.failed.length) throw new Error(`${result.failed.length} run(s) failed: ${result.failed.map((f) => `${f.runDir}: ${f.error}`).join('; ')}`);
  if (result.busy) throw new Error(`${result.busy} run(s) are being trained by another process (another main job?): run this again when it has finished`);

  const rows: MainJobRun[] = [plain, signin].map((config) => {
    const dir = runDirFor(args.runsDir, config);
    const final = readFinal(dir);
    if (!final) throw new Error(`${dir} has no final.json after training`);
    const last = readMetrics(dir).at(-1);
    return {
      label: config.signin.enabled ? 'Random + Sign-In' : 'Random',
      testAcc: final.testAcc,
      signFlips: final.signFlips?.fromInit,
      signFlipsLastEpoch: final.signFlips?.fromPrev,
      beta: config.signin.enabled ? last?.meanBeta : undefined,
    };
  });
  const outDir = path.join(args.runsDir, 'report');
  await writeReport(args.runsDir, outDir);
  const testSize = createDataset('fashion_mnist', { train: false }).length;
  process.stdout.write(`\nResNet-20 (option B), Fashion-MNIST, Random-ERK ${(args.sparsity * 100).toFixed(0)}% sparse, ${args.epochs} epochs of ${subset}, seed ${args.seed}:\n\n`);
  process.stdout.write(`${mainJobTable(rows[0], rows[1], testSize, 'docs/results/README.md (ResNet-20 sweep, ablations, flatness)')}\n`);
  process.stdout.write(`Report, CSV and SVG plots: ${path.resolve(outDir)}\n`);
  const rss = [plain, signin].map((c) => peakRssMiB(runDirFor(args.runsDir, c))).filter((v): v is number => v !== undefined);
  const own = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`Peak resident memory: ${rss.length ? `${rss.map((v) => v.toFixed(0)).join(' and ')} MiB (the training processes), ` : ''}${own.toFixed(0)} MiB (this process)\n`);
}

main().catch((e: unknown) => {
  const err = e as { code?: string; message?: string };
  // An arm stopped by a signal: its one line (where, the checkpoint) goes to its train.log.
  process.stderr.write(e instanceof InterruptedError ? `${err.message}\n` : `${err.code ?? 'ERROR'}: ${err.message ?? String(e)}\n`);
  process.exit(e instanceof InterruptedError ? e.exitCode : 1);
});
