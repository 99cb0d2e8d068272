/**
 * The main job (README's first command): on Fashion-MNIST, train one sparse network with a random
 * ERK mask twice — plain (Random PaI) and with Sign-In — with the same seed, mask and
 * hyperparameters, then print the comparison table (accuracy, sign flips, the paired difference
 * and whether it is within noise) and where the report and plots are. Logs go to stderr and to
 * each run's log.jsonl; stdout carries only the table.
 *
 *   npx tsx examples/fashion-mnist.ts [--sparsity 0.95] [--epochs 5] [--seed 0] [--no-batch-norm]
 *
 * The defaults are one cell of the committed sweep (examples/configs/fashion-mnist-sweep-5ep.json,
 * docs/results/): LeNet-5 with BatchNorm, ERK densities, SGD 0.05 with cosine decay.
 *
 * Runs live in run directories named by their config (runs/quickstart by default): a second
 * invocation skips finished runs and resumes unfinished ones from their last checkpoint.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { createDataset } from '../src/data';
import { createRunDir, isFinished, parseConfig, readFinal, writeReport, type ExperimentConfigInput } from '../src/experiments';
import { logger } from '../src/logger';
import { trainFromConfig } from '../src/experiments/runner';
import { mainJobTable, type MainJobRun } from './main-job-table';

interface Args {
  model: string;
  batchNorm: boolean;
  sparsity: number;
  epochs: number;
  seed: number;
  lr: number;
  threads: number;
  runsDir: string;
}

function parseArgs(): Args {
  const program = new Command()
    .name('fashion-mnist')
    .description('Random-ERK sparse training on Fashion-MNIST: plain vs Sign-In, same seed and hyperparameters.')
    .option('--model <name>', 'model registry name', 'lenet5')
    .option('--no-batch-norm', 'LeNet-5 without BatchNorm (only for --model lenet5)')
    .option('--sparsity <x>', 'fraction of weights removed', Number, 0.95)
    .option('--epochs <n>', 'epochs per run', Number, 5)
    .option('--seed <n>', 'seed of init, mask and data order', Number, 0)
    .option('--lr <x>', 'peak learning rate (cosine schedule)', Number, 0.05)
    .option('--threads <n>', 'libtorch CPU threads', Number, 2)
    .option('--runs-dir <dir>', 'where the run directories and the report go', path.join('runs', 'quickstart'))
    .parse();
  return program.opts<Args>();
}

async function main(): Promise<void> {
  const args = parseArgs();
  const log = logger();
  const base: ExperimentConfigInput = {
    dataset: { name: 'fashion_mnist' },
    model: { name: args.model, options: args.model === 'lenet5' ? { batchNorm: args.batchNorm } : {} },
    pruning: { method: 'random', sparsity: args.sparsity, scope: 'layerwise', distribution: 'erk' },
    optimizer: { lr: args.lr, momentum: 0.9, weightDecay: 1e-4 },
    schedule: { name: 'cosine' },
    epochs: args.epochs,
    batchSize: 128,
    seed: args.seed,
    threads: args.threads,
  };
  const results: MainJobRun[] = [];
  for (const signin of [false, true]) {
    const config = parseConfig({ ...base, signin: { enabled: signin } });
    const run = createRunDir(args.runsDir, config);
    const label = signin ? 'Random + Sign-In' : 'Random';
    if (isFinished(run.dir)) {
      log.info({ run: run.dir }, `${label}: finished earlier, skipped`);
    } else {
      log.info({ run: run.dir }, `${label}: training ${args.model} at ${(args.sparsity * 100).toFixed(0)}% sparsity for ${args.epochs} epochs`);
      await trainFromConfig(config, run.dir);
    }
    const final = readFinal(run.dir);
    if (!final) throw new Error(`${run.dir} has no final.json after training`);
    results.push({ label, testAcc: final.testAcc, signFlips: final.signFlips?.overall });
  }
  const outDir = path.join(args.runsDir, 'report');
  await writeReport(args.runsDir, outDir);
  const testSize = createDataset('fashion_mnist', { train: false }).length;
  process.stdout.write(`\n${mainJobTable(results[0], results[1], testSize)}\n`);
  process.stdout.write(`Report, CSV and SVG plots: ${path.resolve(outDir)}\n`);
  // maxRSS is in KiB: the process's peak resident set, the figure a memory blow-up would show.
  process.stdout.write(`Peak resident memory of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
}

main().catch((e: unknown) => {
  const err = e as { code?: string; message?: string };
  process.stderr.write(`${err.code ?? 'ERROR'}: ${err.message ?? String(e)}\n`);
  process.exit(1);
});
