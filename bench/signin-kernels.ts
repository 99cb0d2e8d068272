/**
 * Fused Sign-In update vs the unfused autograd route, float32 on the CPU, per tensor size
 * (default 0.1M, 1M, 25M elements; mask density 0.2; momentum 0.9, weight decay 5e-4):
 *
 *   - fused: one signinStep (native/signin/): reads g = θ.grad, m, w, mask and both momentum
 *     buffers, writes θ, m, w and both buffers, in one pass.
 *   - unfused: what a parametrization does with ordinary ops: θ = mask·m·w (autograd forward),
 *     θ.backward(g) for m.grad and w.grad, then torch.optim.SGD's update on m and w with ATen ops
 *     (d = grad + λ·p; buf = μ·buf + d; p −= lr·buf), gradients reset.
 *
 * Each is timed as the median of many repetitions after warm-up. Bandwidth counts the fused
 * kernel's bytes (6 tensors read + 5 written, 44 bytes per element) against a plain tensor copy
 * that moves the same number of bytes (reads 22 and writes 22 bytes per element).
 *
 *   npx tsx bench/signin-kernels.ts [--threads 2] [--sizes 100000,1000000,25000000]
 */
import * as os from 'node:os';
import {
  getNumThreads, keep, noGrad, rand, randn, setNumThreads, tidy, type Tensor,
} from '../src';
import { signinStep } from '../src/signin/kernels';
import { printReport } from './common';

export interface SigninKernelRow {
  numel: number;
  /** Median ms per fused signinStep. */
  fusedMs: number;
  /** Median ms per unfused update (forward θ, backward, SGD on m and w). */
  unfusedMs: number;
  speedup: number;
  /** Bytes the fused kernel reads and writes (44 per element). */
  bytes: number;
  fusedGBs: number;
  /** A tensor copy moving the same bytes. */
  copyMs: number;
  copyGBs: number;
  reps: number;
}

export interface BenchResult {
  threads: number;
  device: string;
  rows: SigninKernelRow[];
  markdown: string;
}

export interface SigninKernelBenchOptions {
  sizes?: number[];
  threads?: number;
  /** Target measured time per size, in ms (rounds derived from it, 7..400). */
  budgetMs?: number;
}

const HYPER = { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 5e-4 };
const BYTES_PER_ELEMENT = 11 * 4;

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

/**
 * Median time of each function over `reps` rounds after `warmup` unmeasured ones. The functions
 * alternate within a round, so that drift of a shared machine hits all of them alike.
 */
function timeInterleaved(fns: (() => void)[], reps: number, warmup: number): number[] {
  for (let i = 0; i < warmup; i++) for (const fn of fns) fn();
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < reps; i++) {
    fns.forEach((fn, j) => {
      const t0 = nowMs();
      fn();
      times[j].push(nowMs() - t0);
    });
  }
  return times.map(median);
}

function benchSize(numel: number, budgetMs: number): SigninKernelRow {
  const shape = [numel];
  const made: Tensor[] = [];
  const k = <T extends Tensor>(t: T): T => {
    made.push(keep(t));
    return t;
  };
  try {
    const mask = k(tidy(() => rand(shape).lt(0.2).to('float32')));
    const g = k(randn(shape));
    // Fused state: θ (leaf with a gradient), m, w, buffers (steady state: buffers in use).
    const m = k(tidy(() => rand(shape).mul(0.4).add(0.8)));
    const w = k(tidy(() => randn(shape).mul(0.05).mul(mask)));
    const theta = k(tidy(() => m.mul(w))).requiresGrad_(true);
    theta.grad = g;
    const bufM = k(tidy(() => randn(shape).mul(0.01).mul(mask)));
    const bufW = k(tidy(() => randn(shape).mul(0.01).mul(mask)));
    // Unfused state: leaves m2, w2 and their buffers.
    const m2 = k(m.clone()).requiresGrad_(true);
    const w2 = k(w.clone()).requiresGrad_(true);
    const bufM2 = k(bufM.clone());
    const bufW2 = k(bufW.clone());
    // Copy of the same traffic: 22 bytes per element read and written.
    const copyElems = Math.round((numel * BYTES_PER_ELEMENT) / 2 / 4);
    const src = k(randn([copyElems]));
    const dst = k(randn([copyElems]));

    let step = 1;
    const fused = () => {
      signinStep({ theta, m, w, mask, bufM, bufW, ...HYPER, step: step++ });
    };
    const unfused = () => {
      tidy(() => {
        const th = mask.mul(m2).mul(w2);
        th.backward(g);
        noGrad(() => {
          for (const [p, buf] of [[m2, bufM2], [w2, bufW2]] as const) {
            const d = p.grad!.add(p, HYPER.weightDecay);
            buf.mul_(HYPER.momentum).add_(d, 1 - HYPER.dampening);
            p.add_(buf, -HYPER.lr);
          }
        });
        m2.grad = undefined;
        w2.grad = undefined;
      });
    };
    const copy = () => {
      noGrad(() => dst.copy_(src));
    };

    // Cost of one round after a warm-up, then enough rounds to fill the budget.
    for (let i = 0; i < 2; i++) { unfused(); fused(); copy(); }
    const t0 = nowMs();
    unfused();
    fused();
    copy();
    const round = Math.max(nowMs() - t0, 1e-3);
    const reps = Math.max(7, Math.min(400, Math.round(budgetMs / round)));
    const [fusedMs, unfusedMs, copyMs] = timeInterleaved([fused, unfused, copy], reps, Math.max(2, Math.round(reps / 10)));
    const bytes = numel * BYTES_PER_ELEMENT;
    return {
      numel, fusedMs, unfusedMs, speedup: unfusedMs / fusedMs, bytes,
      fusedGBs: bytes / (fusedMs * 1e6), copyMs, copyGBs: bytes / (copyMs * 1e6), reps,
    };
  } finally {
    for (const t of made) t.dispose();
  }
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(2)}M` : `${+(n / 1e3).toFixed(1)}k`;
}

export async function run(opts: SigninKernelBenchOptions = {}): Promise<BenchResult> {
  const sizes = opts.sizes ?? [100_000, 1_000_000, 25_000_000];
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const threads = opts.threads ?? cores;
  const budgetMs = opts.budgetMs ?? 4000;
  const before = getNumThreads();
  setNumThreads(threads);
  const rows: SigninKernelRow[] = [];
  try {
    for (const n of sizes) rows.push(benchSize(n, budgetMs));
  } finally {
    setNumThreads(before);
  }
  const lines = [
    `float32 on the CPU, libtorch threads ${threads}, mask density 0.2, SGD momentum 0.9, weight decay 5e-4; `
      + 'median per update after warm-up. Fused bytes: 6 tensors read + 5 written (44 B/element); '
      + 'the copy moves the same bytes (dst.copy_(src), 22 B/element each way).',
    '',
    '| elements | fused signinStep (ms) | unfused autograd route (ms) | speedup | fused GB/s | copy GB/s | fused / copy | reps |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${fmtCount(r.numel)} | ${r.fusedMs.toFixed(3)} | ${r.unfusedMs.toFixed(3)} | ${r.speedup.toFixed(1)}× | `
      + `${r.fusedGBs.toFixed(1)} | ${r.copyGBs.toFixed(1)} | ${((r.fusedGBs / r.copyGBs) * 100).toFixed(0)}% | ${r.reps} |`),
  ];
  return { threads, device: 'cpu', rows, markdown: lines.join('\n') };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const threads = argValue('--threads');
  const sizes = argValue('--sizes');
  printReport(run({
    threads: threads ? Number(threads) : undefined,
    sizes: sizes ? sizes.split(',').map(Number) : undefined,
  }));
}
