/**
 * Bandwidth of the fused Sign-In step on the GPU against a device-to-device copy of the same
 * bytes (goal: ≥ 80%). The fused step reads g = θ.grad, m, w, mask and both momentum buffers and
 * writes θ, m, w and both buffers: 11 float32 tensors, 44 bytes per element; the copy moves 22
 * bytes per element each way. Sizes: a ResNet-50's weights (25.6M) and 100M elements.
 *
 *   tsx bench/gpu-signin-step.ts --out file.json [--tiny]
 * Kernels are queued back to back: each sample is `batch` calls followed by one synchronize, and
 * the figure is the median per-call time over the samples after warm-up.
 * --tiny: CPU, 100k elements, a few samples (the dry run; no figure).
 */
import * as fs from 'node:fs';
import { cudaSynchronize, keep, noGrad, rand, randn, tidy, torchVersion, type Tensor } from '../src';
import { signinStep } from '../src/signin/kernels';
import { median, parseArgs } from './common';

const BYTES_PER_ELEMENT = 11 * 4;
const HYPER = { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 5e-4 };

function sampleMs(fn: () => void, sync: () => void, batch: number, samples: number, warmup: number): number {
  const out: number[] = [];
  for (let s = 0; s < warmup + samples; s++) {
    sync();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    sync();
    if (s >= warmup) out.push(Number(process.hrtime.bigint() - t0) / 1e6 / batch);
  }
  return median(out);
}

function benchSize(numel: number, device: string, p: { batch: number; samples: number; warmup: number }) {
  const made: Tensor[] = [];
  const k = (t: Tensor): Tensor => {
    made.push(keep(t));
    return t;
  };
  try {
    const on = (t: Tensor) => k(tidy(() => t.to({ device })));
    const mask = on(tidy(() => rand([numel]).lt(0.2).to('float32')));
    const m = on(tidy(() => rand([numel]).mul(0.4).add(0.8)));
    const w = on(tidy(() => randn([numel]).mul(0.05)));
    const theta = on(tidy(() => m.mul(w))).requiresGrad_(true);
    theta.grad = on(randn([numel]));
    const bufM = on(randn([numel]).mul(0.01));
    const bufW = on(randn([numel]).mul(0.01));
    const copyElems = Math.round((numel * BYTES_PER_ELEMENT) / 2 / 4);
    const src = on(randn([copyElems]));
    const dst = on(randn([copyElems]));
    const sync = () => { if (device !== 'cpu') cudaSynchronize(); };
    let step = 1;
    const fusedMs = sampleMs(() => { signinStep({ theta, m, w, mask, bufM, bufW, ...HYPER, step: step++ }); }, sync, p.batch, p.samples, p.warmup);
    const copyMs = sampleMs(() => noGrad(() => { dst.copy_(src); }), sync, p.batch, p.samples, p.warmup);
    const bytes = numel * BYTES_PER_ELEMENT;
    const fusedGBs = bytes / (fusedMs * 1e6);
    const copyGBs = bytes / (copyMs * 1e6);
    return { numel, bytes, fusedMs, copyMs, fusedGBs, copyGBs, fusedOverCopy: fusedGBs / copyGBs };
  } finally {
    for (const t of made) t.dispose();
  }
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (!args.out) throw new Error('usage: tsx bench/gpu-signin-step.ts --out file.json [--tiny]');
  const tiny = args.tiny === 'true';
  const device = tiny ? 'cpu' : 'cuda';
  const sizes = tiny ? [100_000] : [25_600_000, 100_000_000];
  const p = tiny ? { batch: 2, samples: 3, warmup: 1 } : { batch: 20, samples: 15, warmup: 3 };
  const rows = sizes.map((n) => benchSize(n, device, p));
  for (const r of rows) process.stderr.write(`gpu-signin-step: ${JSON.stringify(r)}\n`);
  fs.writeFileSync(args.out, JSON.stringify({ impl: 'signin-torch', torch: torchVersion(), device, ...p, rows }, null, 2));
}

try {
  main();
} catch (e) {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
