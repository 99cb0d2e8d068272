/**
 * Training-step time (forward, cross-entropy, backward, fused masked SGD) of a masked CIFAR
 * ResNet-20 (random 90% sparsity) on 128×3×32×32 inputs, ours vs PyTorch on the same libtorch
 * (bench/pytorch/resnet20_step.py, masking around torch.optim.SGD), same thread count, in one run.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { createModel } from '../src/models';
import { crossEntropy } from '../src/nn/functional';
import { SGD } from '../src/optim/sgd';
import { pruneModel } from '../src/pruning';
import { manualSeed, randint, randn, setNumThreads, tidy } from '../src';

const THREADS = 2;
const STEPS = 20;
const WARMUP = 3;
const BATCH = 128;
const SPARSITY = 0.9;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function ours(): Promise<{ medianMs: number; params: number }> {
  setNumThreads(THREADS);
  manualSeed(0);
  const model = createModel('cifar_resnet_20', { numClasses: 10 });
  await pruneModel(model, { method: 'random', sparsity: SPARSITY, scope: 'layerwise', distribution: 'uniform', seed: 0 });
  const opt = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  const x = randn([BATCH, 3, 32, 32]);
  const y = randint(0, 10, [BATCH]);
  const times: number[] = [];
  for (let i = 0; i < STEPS + WARMUP; i++) {
    const t0 = process.hrtime.bigint();
    tidy(() => {
      const loss = crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
    if (i >= WARMUP) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const params = model.numParameters();
  x.dispose();
  y.dispose();
  opt.dispose();
  model.dispose();
  return { medianMs: median(times), params };
}

function pytorch(): { medianMs: number; params: number } {
  const script = path.join(__dirname, 'pytorch', 'resnet20_step.py');
  const out = execFileSync('/usr/bin/python3', [script, String(THREADS), String(STEPS), String(BATCH), String(1 - SPARSITY)], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { median_ms: number; params: number };
  return { medianMs: r.median_ms, params: r.params };
}

export async function run(): Promise<{ markdown: string; ratio: number }> {
  const a = await ours();
  const b = pytorch();
  if (a.params !== b.params) throw new Error(`architectures differ: ${a.params} vs ${b.params} parameters`);
  const ratio = a.medianMs / b.medianMs;
  const markdown = [
    `Masked CIFAR ResNet-20 (${a.params.toLocaleString('en-US')} parameters, random ${SPARSITY * 100}% sparsity), batch ${BATCH}×3×32×32, ${THREADS} libtorch threads, median of ${STEPS} steps after ${WARMUP} warm-up steps.`,
    '',
    '| implementation | step (ms) |',
    '|---|---|',
    `| signin-torch (fused masked SGD) | ${a.medianMs.toFixed(1)} |`,
    `| PyTorch ${'1.13'} (same libtorch, mask applied around torch.optim.SGD) | ${b.medianMs.toFixed(1)} |`,
    `| **ratio ours / PyTorch** | **${ratio.toFixed(3)}** |`,
  ].join('\n');
  return { markdown, ratio };
}

if (require.main === module) {
  run().then((r) => process.stdout.write(`${r.markdown}\n`));
}
