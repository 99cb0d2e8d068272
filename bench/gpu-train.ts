/**
 * GPU training throughput of a masked ResNet-50 (ImageNet shape: batch 256, 224 px, 1000
 * classes, 90% random layerwise-uniform sparsity, SGD with momentum): images/s and peak GPU
 * memory for fp32, bf16 autocast, and bf16 autocast with channels_last inputs; plain and
 * Sign-In. The PyTorch twin is bench/pytorch/gpu_train.py; scripts/gpu-check.sh runs both in the
 * same call and bench/gpu-report.ts puts them side by side.
 *
 *   tsx bench/gpu-train.ts --out file.json [--tiny]
 * --tiny: CPU, ResNet-18, batch 2, 32 px, 1 + 2 steps, two variants that between them take every
 * option (plain fp32; Sign-In bf16 channels_last): the dry run of the script, no figure.
 * Each step is followed by a device synchronize before the clock is read; the figure is the
 * median step after the warm-up steps, over freshly drawn random batches.
 */
import * as fs from 'node:fs';
import {
  F, SGD, applySignIn, autocast, createModel, cudaMemoryStats, cudaResetPeakMemoryStats, cudaSynchronize, keep, manualSeed,
  pruneModel, randint, randn, tidy, toChannelsLast, torchVersion, type AmpMode, type Tensor,
} from '../src';
import { median, parseArgs } from './common';

export interface TrainVariant {
  signin: boolean;
  amp: AmpMode;
  channelsLast: boolean;
}

export interface TrainResult extends TrainVariant {
  stepMs: number[];
  medianStepMs: number;
  imagesPerSec: number;
  peakAllocatedBytes: number | null;
  finalLoss: number;
}

export const VARIANTS: TrainVariant[] = [false, true].flatMap((signin) => [
  { signin, amp: false as const, channelsLast: false },
  { signin, amp: 'bf16' as const, channelsLast: false },
  { signin, amp: 'bf16' as const, channelsLast: true },
]);

interface Sizes { model: 'resnet18' | 'resnet50'; device: string; batch: number; size: number; warmup: number; steps: number }

async function measure(v: TrainVariant, p: Sizes): Promise<TrainResult> {
  manualSeed(0);
  const model = createModel(p.model, { numClasses: 1000 });
  await pruneModel(model, { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'uniform', seed: 0 });
  if (v.signin) applySignIn(model);
  model.to(p.device);
  model.train();
  const opt = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  const cuda = p.device.startsWith('cuda');
  const sync = () => { if (cuda) cudaSynchronize(); };
  const batches = Array.from({ length: 2 }, () => tidy(() => ({
    x: keep(randn([p.batch, 3, p.size, p.size]).to({ device: p.device })),
    y: keep(randint(0, 1000, [p.batch]).to({ device: p.device })),
  })));
  if (cuda) cudaResetPeakMemoryStats();
  const stepMs: number[] = [];
  let loss = NaN;
  for (let i = 0; i < p.warmup + p.steps; i++) {
    const b = batches[i % batches.length];
    const t0 = process.hrtime.bigint();
    tidy(() => {
      const x: Tensor = v.channelsLast ? toChannelsLast(b.x) : b.x;
      const l = autocast({ device: cuda ? 'cuda' : 'cpu', dtype: 'bfloat16', enabled: v.amp !== false }, () => F.crossEntropy(model.forward(x), b.y));
      l.backward();
      opt.step();
      if (i === p.warmup + p.steps - 1) loss = l.item();
    });
    opt.zeroGrad();
    sync();
    if (i >= p.warmup) stepMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const peak = cuda ? cudaMemoryStats().peakAllocatedBytes : null;
  for (const b of batches) { b.x.dispose(); b.y.dispose(); }
  model.dispose();
  const med = median(stepMs);
  return { ...v, stepMs, medianStepMs: med, imagesPerSec: p.batch / (med / 1000), peakAllocatedBytes: peak, finalLoss: loss };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.out) throw new Error('usage: tsx bench/gpu-train.ts --out file.json [--tiny]');
  const tiny = args.tiny === 'true';
  const p: Sizes = tiny
    ? { model: 'resnet18', device: 'cpu', batch: 2, size: 32, warmup: 1, steps: 2 }
    : { model: 'resnet50', device: 'cuda', batch: 256, size: 224, warmup: 3, steps: 10 };
  const results: TrainResult[] = [];
  for (const v of tiny ? [VARIANTS[0], VARIANTS[VARIANTS.length - 1]] : VARIANTS) {
    results.push(await measure(v, p));
    // Rewritten (whole, by a rename) after every variant: a run stopped by gpu-check's time box
    // keeps what it measured.
    fs.writeFileSync(`${args.out}.tmp`, JSON.stringify({ impl: 'signin-torch', torch: torchVersion(), ...p, sparsity: 0.9, results }, null, 2));
    fs.renameSync(`${args.out}.tmp`, args.out);
    process.stderr.write(`gpu-train: ${JSON.stringify({ ...results[results.length - 1], stepMs: undefined })}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
