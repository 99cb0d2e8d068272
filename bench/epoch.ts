/**
 * One real training epoch: Fashion-MNIST (60k images, the IDX files installed by setup) with
 * `cifar_resnet_20` on 1 input channel, batch 128 (last partial batch dropped), 95% Random-ERK,
 * SGD (lr 0.1, momentum 0.9, weight decay 5e-4), 2 libtorch threads. Ours runs the toolkit's
 * Trainer over its DataLoader (in memory, toTensor + normalize, no workers) with its defaults
 * (channelsLast 'auto': channels_last batches on the CPU with oneDNN); PyTorch
 * (bench/pytorch/fashion_epoch.py) runs the same epoch with torch.utils.data.DataLoader and the
 * same per-layer densities, in its default NCHW layout and again in channels_last by its recipe. Each run is a fresh process; the time blocked on the data loader
 * (waiting in next()) is reported for both. Goal (issue 9): epoch time ours / PyTorch ≤ 1.0.
 *
 *   npx tsx bench/epoch.ts [--steps N (cut the epoch short)] [--rounds 1] [--threads 2]
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { DataLoader, fashionMnist, normalize, toTensor } from '../src/data';
import { createModel } from '../src/models';
import { SGD } from '../src/optim/sgd';
import { pruneModel } from '../src/pruning';
import { manualSeed, setNumThreads } from '../src/tensor/runtime';
import type { EpochMetrics } from '../src/train/callbacks';
import { Trainer } from '../src/train/trainer';
import { benchMain, machine, machineNote, median, runOurs, runPytorch, spread, verdict } from './common';
import { TimedBatches } from './loader-overhead';

const ROOT = process.env.SIGNIN_TORCH_FASHION_MNIST_ROOT || '/usr/share/datasets/fashion-mnist';

interface EpochParams {
  threads: number;
  batch: number;
  /** 0 = the whole epoch. */
  steps: number;
}

interface EpochResult {
  epochS: number;
  steps: number;
  waitS: number;
  loss: number;
  accuracy: number;
  /** The process's peak resident set (VmHWM), MiB: data, model, libraries and all. */
  peakRssMiB: number;
}

async function buildModel() {
  manualSeed(0);
  const model = createModel('cifar_resnet_20', { numClasses: 10, inChannels: 1 });
  const pruned = await pruneModel(model, { method: 'random', sparsity: 0.95, scope: 'layerwise', distribution: 'erk', seed: 0 });
  return { model, densities: Object.fromEntries(pruned.layers.map((l) => [l.name, l.density])) };
}

async function oursEpoch(p: EpochParams): Promise<EpochResult> {
  setNumThreads(p.threads);
  const { model } = await buildModel();
  const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const data = fashionMnist({ train: true, root: ROOT });
  const loader = new DataLoader(data, { batchSize: p.batch, shuffle: true, seed: 0, dropLast: true, transforms: [toTensor(), normalize(0.286, 0.353)] });
  const full = Math.floor(data.length / p.batch);
  const source = new TimedBatches(loader, p.steps ? Math.min(p.steps, full) : full);
  let metrics: EpochMetrics | undefined;
  const t0 = performance.now();
  try {
    const trainer = new Trainer({ model, optimizer, train: source, epochs: 1, lr: () => 0.1, progress: false, logger: pino({ level: 'silent' }) });
    metrics = await trainer.fit();
  } finally {
    await loader.close();
  }
  const epochS = (performance.now() - t0) / 1000;
  optimizer.dispose();
  model.dispose();
  return {
    epochS,
    steps: source.waits.length,
    waitS: source.waits.reduce((a, b) => a + b, 0) / 1000,
    loss: metrics?.trainLoss ?? NaN,
    accuracy: metrics?.trainAcc ?? NaN,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

type Impl = 'ours' | 'pytorch' | 'pytorchCl';
const IMPLS: readonly Impl[] = ['ours', 'pytorch', 'pytorchCl'];
const IMPL_NAMES: Record<Impl, string> = { ours: 'signin-torch (default: channels_last)', pytorch: 'PyTorch (default: NCHW)', pytorchCl: 'PyTorch (channels_last)' };

export interface EpochOptions {
  steps?: number;
  rounds?: number;
  threads?: number;
}

export async function run(opts: EpochOptions = {}): Promise<{ markdown: string }> {
  const p: EpochParams = { threads: opts.threads ?? 2, batch: 128, steps: opts.steps ?? 0 };
  const rounds = opts.rounds ?? 1;
  const { model, densities } = await buildModel();
  model.dispose();
  const before = machine();
  const results: Record<Impl, EpochResult[]> = { ours: [], pytorch: [], pytorchCl: [] };
  for (let r = 0; r < rounds; r++) {
    for (const who of IMPLS.map((_, i) => IMPLS[(i + r) % IMPLS.length])) {
      process.stderr.write(`epoch: ${who}, round ${r + 1}/${rounds}\n`);
      results[who].push(who === 'ours'
        ? runOurs<EpochResult>(__filename, p)
        : runPytorch<EpochResult>('fashion_epoch.py', { ...p, densities, root: ROOT, channelsLast: who === 'pytorchCl' }));
    }
  }
  const after = machine();
  const epochs = (who: Impl) => results[who].map((x) => x.epochS);
  const ratio = (ref: Impl) => median(epochs('ours')) / median(epochs(ref));
  const paired = (ref: Impl) => median(epochs('ours').map((t, i) => t / epochs(ref)[i]));
  const row = (who: Impl) => {
    const xs = results[who];
    const blocked = xs.map((x) => (100 * x.waitS) / x.epochS);
    return `| ${IMPL_NAMES[who]} | ${xs[0].steps} | ${spread(xs.map((x) => x.epochS), 1)} | ${spread(xs.map((x) => (1000 * x.epochS) / x.steps), 1)} | `
      + `${spread(xs.map((x) => x.waitS), 2)} (${median(blocked).toFixed(1)}%) | ${median(xs.map((x) => x.loss)).toFixed(3)} | ${(100 * median(xs.map((x) => x.accuracy))).toFixed(1)}% | `
      + `${spread(xs.map((x) => x.peakRssMiB), 0)} |`;
  };
  const markdown = [
    `Fashion-MNIST train split, cifar_resnet_20 with 1 input channel, batch 128 (last partial batch dropped), Random-ERK at 95% sparsity, `
      + `SGD (lr 0.1, momentum 0.9, weight decay 5e-4), ${p.threads} libtorch threads, ${p.steps ? `cut to ${p.steps} steps` : 'one whole epoch'}; `
      + `${rounds} round(s), ours (Trainer + DataLoader, no workers, its default channels_last batches), PyTorch (torch.utils.data.DataLoader, no workers, NCHW) and PyTorch in channels_last (model and batches converted), the order rotating, each in a fresh process. `
      + 'Times in s (median, min–max over rounds); "blocked" is the time spent waiting for the next batch. '
      + 'Peak RSS is each process\'s VmHWM: ours holds the images as uint8 (47 MB) and converts each batch, the PyTorch script the whole split as float32 (188 MB), as a TensorDataset recipe does.',
    '',
    '| implementation | steps | epoch (s) | per step (ms) | blocked on the loader (s, % of epoch) | train loss | train accuracy | peak RSS (MiB) |',
    '|---|---|---|---|---|---|---|---|',
    ...IMPLS.map(row),
    '',
    `Epoch time ours / PyTorch's default: **${ratio('pytorch').toFixed(3)}** (paired ${paired('pytorch').toFixed(3)}); goal ≤ 1.0: ${verdict(ratio('pytorch') <= 1, before, after)}. `
      + `Ours / PyTorch in channels_last: **${ratio('pytorchCl').toFixed(3)}** (paired ${paired('pytorchCl').toFixed(3)}); ≤ 1.0: ${verdict(ratio('pytorchCl') <= 1, before, after)}.`,
    '',
    machineNote(before, after),
  ].join('\n');
  return { markdown };
}

benchMain<EpochParams>(module, oursEpoch, ({ num }) => run({ steps: num('steps'), rounds: num('rounds'), threads: num('threads') }));
