/**
 * The programmatic API end to end, without the experiment layer: a LeNet-5 (with BatchNorm) on
 * Fashion-MNIST, a random mask (default 90% sparse; --sparsity 0 trains it dense), the fused
 * mask-aware SGD, a cosine schedule, and the test accuracy after each epoch.
 *
 *   npx tsx examples/fashion-mnist-lenet.ts [--sparsity 0.9] [--epochs 3] [--signin]
 */
import { Command } from 'commander';
import { exitWithError, intFlag, numberFlag } from '../src/cli/flags';
import { createDataset, DataLoader, defaultTransforms } from '../src/data';
import { createModel } from '../src/models';
import { SGD } from '../src/optim/sgd';
import { pruneModel } from '../src/pruning';
import { applySignIn, SignInResetSchedule } from '../src/signin';
import { manualSeed, setNumThreads } from '../src/tensor';
import { maxThreads, maxThreadsReason } from '../src/validate';
import type { Callback } from '../src/train/callbacks';
import { createSchedule } from '../src/train/schedule';
import { Trainer } from '../src/train/trainer';

export interface LenetArgs {
  sparsity: number;
  epochs: number;
  lr: number;
  signin: boolean;
  batchNorm: boolean;
  threads: number;
}

/** The command line: a value out of range names its flag (not the Trainer's totalEpochs, not NaN). */
export function parseArgs(argv: readonly string[]): LenetArgs {
  return new Command('fashion-mnist-lenet')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .option('--sparsity <x>', 'fraction of weights removed by the random mask (0 = dense)', numberFlag('--sparsity', 'a fraction in [0, 1)', (n) => n >= 0 && n < 1), 0.9)
    .option('--epochs <n>', 'epochs', intFlag('--epochs', 1), 3)
    .option('--lr <x>', 'peak learning rate', numberFlag('--lr', 'a positive number', (n) => n > 0), 0.05)
    .option('--signin', 'reparameterize the masked layers with Sign-In (reset every epoch)', false)
    .option('--no-batch-norm', 'the classic LeNet-5, without BatchNorm')
    .option('--threads <n>', 'libtorch threads', intFlag('--threads', 1, maxThreads(), maxThreadsReason()), 2)
    .parse([...argv], { from: 'user' })
    .opts<LenetArgs>();
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  setNumThreads(args.threads);
  manualSeed(0);

  const trainSet = createDataset('fashion_mnist', { train: true });
  const testSet = createDataset('fashion_mnist', { train: false });
  const train = new DataLoader(trainSet, { batchSize: 128, shuffle: true, seed: 0, transforms: defaultTransforms('fashion_mnist', true) });
  const test = new DataLoader(testSet, { batchSize: 512, transforms: defaultTransforms('fashion_mnist', false) });

  const model = createModel('lenet5', { numClasses: 10, inChannels: 1, batchNorm: args.batchNorm });
  if (args.sparsity > 0) await pruneModel(model, { method: 'random', sparsity: args.sparsity, scope: 'layerwise', distribution: 'uniform', seed: 0 });
  if (args.signin) applySignIn(model);
  const optimizer = SGD.forModel(model, { lr: args.lr, momentum: 0.9, weightDecay: 5e-4 });
  const callbacks: Callback[] = args.signin ? [new SignInResetSchedule(model, { optimizer })] : [];

  const started = Date.now();
  const trainer = new Trainer({
    model, optimizer, train, test, epochs: args.epochs, callbacks,
    lr: createSchedule({ name: 'cosine', lr: args.lr, epochs: args.epochs }),
  });
  const last = await trainer.fit();
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `LeNet-5, ${args.sparsity > 0 ? `random ${(args.sparsity * 100).toFixed(0)}% sparse` : 'dense'}${args.signin ? ' + Sign-In' : ''}: ` +
    `test accuracy ${((last?.testAcc ?? 0) * 100).toFixed(2)}% after ${args.epochs} epochs (${seconds.toFixed(0)} s, ${args.threads} threads)\n`,
  );
  optimizer.dispose();
  model.dispose();
}

if (require.main === module) {
  main().catch(exitWithError);
}
