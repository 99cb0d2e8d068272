/**
 * Data-parallel scaling on this machine: the masked ResNet-20 training step (90% random sparse,
 * SGD) at a fixed global batch on 1 and 2 ranks (Gloo over loopback, 1 libtorch thread per rank,
 * launched with torchrun's variables by src/distributed/launch.ts), alternating 1- and 2-rank runs
 * over rounds. Reports steps/s, images/s, the gradient all-reduce time per step, and the
 * all-reduce bandwidth for flat buffers of 1, 16 and 64 MiB (algorithm bandwidth: bytes / time),
 * which the ImageNet ResNet-50 estimate in docs/distributed.md uses; and what broadcasting the
 * BatchNorm running statistics from rank 0 costs (ddp.syncBuffers(): the Trainer does it once per
 * epoch, PyTorch DDP before every forward); the 2-rank step with gradients all-reduced during
 * backward (c10d's Reducer, the default, with DDP's 25 MiB buckets and with 128 KiB ones) and after
 * it (overlap: false); and with SyncBatchNorm (one all-reduce forward and one backward in each of
 * its 19 layers), in the same rotation.
 *
 *   npx tsx bench/ddp.ts [--rounds 3] [--steps 20] [--warmup 3] [--batch 128] [--signin]
 *   npx tsx bench/ddp.ts --quick            # 1 round, 3 steps, batch 32: checks that it runs
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { F, tidy, zeros } from '../src';
import { allReduce, barrier, convertSyncBatchNorm, dataParallelFromEnv, launch } from '../src/distributed';
import { machine, machineNote, median, parseArgs, spread } from './common';
import { resnet20Step } from './resnet20-step';

interface Params {
  steps: number;
  warmup: number;
  batch: number;
  signin: boolean;
  syncBn: boolean;
  overlap: boolean;
  bucketBytes?: number;
  sizesMiB: number[];
  out: string;
}

interface RankResult {
  worldSize: number;
  stepMs: number;
  allReduceMsPerStep: number;
  gradientBytes: number;
  buckets: number;
  /** One syncBuffers() (broadcast of every running statistic from rank 0), median of 20. */
  bufferBroadcastMs: number;
  bufferBytes: number;
  bandwidth: { mib: number; ms: number; gbPerS: number }[];
}

async function worker(p: Params): Promise<void> {
  const dp = dataParallelFromEnv({ timeoutMs: 120_000 });
  const { model, opt, pool } = await resnet20Step({ threads: 1, density: 0.1, signin: p.signin, batch: dp.localBatch(p.batch) });
  if (p.syncBn) convertSyncBatchNorm(model);
  const ddp = dp.wrap(model, { overlap: p.overlap, bucketBytes: p.bucketBytes });
  const times: number[] = [];
  for (let i = 0; i < p.warmup + p.steps; i++) {
    if (i === p.warmup && dp.ddp) Object.assign(dp.ddp.stats, { syncs: 0, allReduceMs: 0 });
    const { x, y } = pool[i % pool.length];
    const t0 = performance.now();
    tidy(() => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      ddp?.prepareBackward(loss);
      loss.backward();
      ddp?.syncGradients();
      opt.step();
    });
    if (i >= p.warmup) times.push(performance.now() - t0);
  }
  const bandwidth: RankResult['bandwidth'] = [];
  const bufferTimes: number[] = [];
  if (ddp) {
    barrier();
    for (let r = 0; r < 20; r++) {
      const t0 = performance.now();
      ddp.syncBuffers();
      bufferTimes.push(performance.now() - t0);
    }
  }
  if (dp.worldSize > 1 && !p.syncBn && !p.overlap) {
    for (const mib of p.sizesMiB) {
      const t = zeros([(mib * 2 ** 20) / 4]);
      allReduce(t);
      const reps = 3;
      barrier();
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) allReduce(t);
      const each = (performance.now() - t0) / reps;
      bandwidth.push({ mib, ms: each, gbPerS: (mib * 2 ** 20) / (each / 1000) / 1e9 });
      t.dispose();
    }
  }
  if (dp.isMain) {
    const s = dp.ddp?.stats;
    const r: RankResult = {
      worldSize: dp.worldSize, stepMs: median(times), allReduceMsPerStep: s ? s.allReduceMs / Math.max(1, s.syncs) : 0,
      gradientBytes: s?.bytesPerSync ?? 0, buckets: s?.buckets ?? 0, bandwidth, bufferBroadcastMs: bufferTimes.length ? median(bufferTimes) : 0,
      bufferBytes: [...model.namedBuffers()].filter(([n]) => /running_(mean|var)$|num_batches_tracked$/.test(n)).reduce((sum, [, b]) => sum + b.data().byteLength, 0),
    };
    fs.writeFileSync(p.out, JSON.stringify(r));
  }
  dp.finish();
}

export interface DdpBenchOptions {
  rounds?: number;
  steps?: number;
  warmup?: number;
  batch?: number;
  signin?: boolean;
  sizesMiB?: number[];
}

export async function run(opts: DdpBenchOptions = {}): Promise<{ markdown: string }> {
  const rounds = opts.rounds ?? 3;
  const base = {
    steps: opts.steps ?? 20, warmup: opts.warmup ?? 3, batch: opts.batch ?? 128, signin: opts.signin ?? false, sizesMiB: opts.sizesMiB ?? [1, 16, 64],
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-ddp-'));
  // One process; 2 ranks reducing during backward, after it, and with SyncBatchNorm: rotated over rounds.
  const variants: { n: number; syncBn: boolean; overlap: boolean; bucketBytes?: number }[] = [
    { n: 1, syncBn: false, overlap: true }, { n: 2, syncBn: false, overlap: true },
    { n: 2, syncBn: false, overlap: true, bucketBytes: 128 * 1024 },
    { n: 2, syncBn: false, overlap: false }, { n: 2, syncBn: true, overlap: true },
  ];
  const label = (v: number) => {
    const { n, syncBn, overlap, bucketBytes } = variants[v];
    if (n === 1) return '1';
    const buckets = bucketBytes ? `, ${bucketBytes / 1024} KiB buckets` : '';
    return `${n}, ${overlap ? 'reduced during backward' : 'reduced after backward'}${buckets}${syncBn ? ', SyncBatchNorm' : ''}`;
  };
  const before = machine();
  const results: RankResult[][] = variants.map(() => []);
  try {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < variants.length; k++) {
        const v = (r + k) % variants.length;
        const out = path.join(dir, `r${r}-v${v}.json`);
        const launched = await launch({
          nproc: variants[v].n, command: process.execPath,
          args: ['--require', require.resolve('tsx/cjs'), __filename, '--worker', JSON.stringify({ ...base, ...variants[v], out })],
          env: { SIGNIN_TORCH_LOG_LEVEL: 'warn', OMP_NUM_THREADS: '1' },
        });
        if (launched.exitCode !== 0) throw new Error(`${label(v)} failed with exit code ${launched.exitCode}`);
        results[v].push(JSON.parse(fs.readFileSync(out, 'utf8')) as RankResult);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const row = (v: number) => {
    const rs = results[v];
    const { n } = variants[v];
    const step = rs.map((x) => x.stepMs);
    const ar = rs.map((x) => x.allReduceMsPerStep);
    return `| ${label(v)} | ${base.batch / n} | ${spread(step)} | ${((1000 * base.batch) / median(step)).toFixed(0)} | ${n > 1 ? spread(ar, 2) : '–'} | ${n > 1 ? rs[0].buckets || '–' : '–'} |`;
  };
  const bw = results[variants.findIndex((v) => !v.overlap)].flatMap((x) => x.bandwidth);
  const lines = [
    `ResNet-20 step, 90% random sparse${base.signin ? ' + Sign-In' : ''}, global batch ${base.batch}, 1 libtorch thread per rank, Gloo over loopback; median over ${rounds} round(s) of ${base.steps} steps (min–max over rounds). Reduced during backward: c10d's Reducer, which launches each bucket's all-reduce once its gradients are ready and waits for them all at the end of backward, so its cost is inside the step time and the time after backward is only the check (DDP's 25 MiB buckets unless named: a first bucket of 1 MiB, then up to the cap). Reduced after backward: flat buckets after backward, whose all-reduce time includes waiting for the slower rank.`,
    '',
    '| ranks | batch per rank | step (ms) | images/s | gradient sync after backward (ms/step) | buckets |',
    '| :--- | ---: | ---: | ---: | ---: | ---: |',
    ...variants.map((_, v) => row(v)),
    '',
    `Gradient bytes per step: ${results[1][0]?.gradientBytes ?? 0}. Broadcasting the BatchNorm running statistics from rank 0 (${results[1][0]?.bufferBytes ?? 0} bytes, one ddp.syncBuffers()): ${spread(results[1].map((x) => x.bufferBroadcastMs), 3)} ms.`,
    '',
    '| all-reduce buffer (MiB) | time (ms) | bandwidth (GB/s, bytes / time) |',
    '| ---: | ---: | ---: |',
    ...base.sizesMiB.map((mib) => {
      const xs = bw.filter((b) => b.mib === mib);
      return `| ${mib} | ${median(xs.map((b) => b.ms)).toFixed(2)} | ${median(xs.map((b) => b.gbPerS)).toFixed(2)} |`;
    }),
    '',
    machineNote(before),
  ];
  return { markdown: lines.join('\n') };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.worker) return worker(JSON.parse(a.worker) as Params);
  const quick = a.quick === 'true';
  const r = await run({
    rounds: Number(a.rounds ?? (quick ? 1 : 3)), steps: Number(a.steps ?? (quick ? 3 : 20)), warmup: Number(a.warmup ?? (quick ? 1 : 3)),
    batch: Number(a.batch ?? (quick ? 32 : 128)), signin: a.signin === 'true', sizesMiB: quick ? [1] : undefined,
  });
  process.stdout.write(`${r.markdown}\n`);
}

if (require.main === module) main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
