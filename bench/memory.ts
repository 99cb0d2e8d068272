/**
 * Memory soak: many steps of the masked ResNet-20 training step (random 90% sparsity, batch
 * 128×3×32×32, SGD with momentum 0.9, 2 libtorch threads), plain and Sign-In, each run in a fresh
 * process, ours vs PyTorch on the same libtorch (bench/pytorch/resnet20_memory.py). Every 100
 * steps a run records its RSS and its minor/major page-fault counters (/proc/self/stat); at the
 * end its peak RSS (VmHWM). Ours also records the live-tensor counter and the statistics of the
 * toolkit's CPU allocator (cpuMemoryStats()).
 *
 * Ours yields to the event loop once per step and feeds the batch in channels_last, as the
 * Trainer does by default on the CPU; PyTorch runs in its default NCHW layout. A variant without yielding
 * shows what the native side alone does (it is stopped when its RSS passes --max-rss-mb, so that
 * a leak cannot take the machine down).
 *
 * Goals (issue 9): RSS growth from step 100 to the last step under 5%; peak RSS ≤ 1.3× PyTorch's.
 * Writes bench/results/memory.csv (every sample) and bench/results/memory.svg (the RSS curves).
 *
 *   npx tsx bench/memory.ts [--steps 2000] [--every 100] [--threads 2] [--max-rss-mb 4096] [--variants a,b]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { F, cpuMemoryStats, memory, tidy } from '../src';
import { resnet20Step } from './resnet20-step';
import { renderSvg } from '../src/experiments/plots';
import { benchMain, RESULTS_DIR, machine, machineNote, median, procCounters, runOurs, runPytorch, verdict, type ProcCounters } from './common';
import type { CpuMemoryStats } from '../src';

interface RunParams {
  threads: number;
  steps: number;
  every: number;
  batch: number;
  density: number;
  signin: boolean;
  yield: boolean;
  maxRssMb: number;
}

interface Sample extends ProcCounters {
  step: number;
  liveTensors?: number;
  allocator?: CpuMemoryStats;
}

interface RunResult {
  samples: Sample[];
  hwmMb: number;
  msPerStep: number;
  params: number;
  /** Set when the run was stopped at --max-rss-mb. */
  stoppedAt?: number;
}

async function oursRun(p: RunParams): Promise<RunResult> {
  const { model, opt, pool, input } = await resnet20Step(p);
  const sample = (step: number): Sample => ({ step, ...procCounters(), liveTensors: memory().numTensors, allocator: { ...cpuMemoryStats() } });
  const samples = [sample(0)];
  let stoppedAt: number | undefined;
  const t0 = process.hrtime.bigint();
  for (let i = 1; i <= p.steps; i++) {
    const { x, y } = pool[i % pool.length];
    tidy(() => {
      const loss = F.crossEntropy(model.forward(input(x)), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
    if (p.yield) await new Promise(setImmediate);
    if (i % p.every === 0 || i === p.steps) samples.push(sample(i));
    if (procCounters().rssMb > p.maxRssMb) {
      samples.push(sample(i));
      stoppedAt = i;
      break;
    }
  }
  const steps = stoppedAt ?? p.steps;
  return { samples, hwmMb: procCounters().hwmMb, msPerStep: Number(process.hrtime.bigint() - t0) / 1e6 / steps, params: model.numParameters(), stoppedAt };
}

interface Variant {
  name: string;
  impl: 'ours' | 'pytorch';
  signin: boolean;
  yield: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'ours-plain', impl: 'ours', signin: false, yield: true },
  { name: 'ours-signin', impl: 'ours', signin: true, yield: true },
  { name: 'ours-plain-noyield', impl: 'ours', signin: false, yield: false },
  { name: 'pytorch-plain', impl: 'pytorch', signin: false, yield: false },
  { name: 'pytorch-signin', impl: 'pytorch', signin: true, yield: false },
];

export interface MemoryOptions {
  steps?: number;
  every?: number;
  threads?: number;
  maxRssMb?: number;
  /** Variant names to run (default all). */
  variants?: string[];
  /** Where memory.csv and memory.svg go (default bench/results, whose copies are committed). */
  outDir?: string;
}

interface Row {
  variant: Variant;
  result: RunResult;
  /** RSS at the first sample at or after step 100 (or the first after step 0) and at the end. */
  rssStart: number;
  rssEnd: number;
  growthPct: number;
  /** Median minor/major faults per step over the windows after the start sample. */
  minorPerStep: number;
  majorPerStep: number;
}

function analyse(variant: Variant, result: RunResult, every: number): Row {
  const s = result.samples;
  const startIdx = Math.max(1, s.findIndex((x) => x.step >= Math.min(100, every)));
  const start = s[Math.min(startIdx, s.length - 1)];
  const end = s[s.length - 1];
  const windows = s.slice(startIdx + 1).map((x, k) => {
    const prev = s[startIdx + k];
    const n = Math.max(1, x.step - prev.step);
    return { minor: (x.minflt - prev.minflt) / n, major: (x.majflt - prev.majflt) / n };
  });
  return {
    variant, result, rssStart: start.rssMb, rssEnd: end.rssMb, growthPct: (end.rssMb / start.rssMb - 1) * 100,
    minorPerStep: windows.length ? median(windows.map((w) => w.minor)) : NaN,
    majorPerStep: windows.length ? median(windows.map((w) => w.major)) : NaN,
  };
}

function curveSpec(rows: Row[]): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 560,
    height: 300,
    title: 'RSS over training steps (masked ResNet-20, batch 128)',
    data: { values: rows.flatMap((r) => r.result.samples.map((x) => ({ variant: r.variant.name, step: x.step, rss: x.rssMb }))) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'rss', type: 'quantitative', title: 'RSS (MB)' },
      color: { field: 'variant', type: 'nominal' },
    },
  };
}

export async function run(opts: MemoryOptions = {}): Promise<{ markdown: string; rows: Row[] }> {
  const steps = opts.steps ?? 2000;
  const every = opts.every ?? 100;
  const threads = opts.threads ?? 2;
  const maxRssMb = opts.maxRssMb ?? 4096;
  const chosen = VARIANTS.filter((v) => !opts.variants?.length || opts.variants.includes(v.name));
  const before = machine();
  const rows: Row[] = [];
  for (const v of chosen) {
    const p: RunParams = { threads, steps, every, batch: 128, density: 0.1, signin: v.signin, yield: v.yield, maxRssMb };
    process.stderr.write(`memory: ${v.name}, ${steps} steps\n`);
    const result = v.impl === 'ours' ? runOurs<RunResult>(__filename, p) : runPytorch<RunResult>('resnet20_memory.py', p);
    rows.push(analyse(v, result, every));
  }
  const after = machine();
  const outDir = opts.outDir ?? RESULTS_DIR;
  fs.mkdirSync(outDir, { recursive: true });
  const csv = ['variant,step,rss_mb,hwm_mb,minflt,majflt,live_tensors,alloc_in_use_mb,alloc_cached_mb,alloc_hits,alloc_misses,alloc_releases'];
  for (const r of rows) {
    for (const x of r.result.samples) {
      csv.push([r.variant.name, x.step, x.rssMb.toFixed(1), x.hwmMb.toFixed(1), x.minflt, x.majflt, x.liveTensors ?? '',
        ...(x.allocator ? [(x.allocator.inUseBytes / 2 ** 20).toFixed(1), (x.allocator.cachedBytes / 2 ** 20).toFixed(1), x.allocator.hits, x.allocator.misses, x.allocator.releases] : ['', '', '', '', ''])].join(','));
    }
  }
  fs.writeFileSync(path.join(outDir, 'memory.csv'), `${csv.join('\n')}\n`);
  fs.writeFileSync(path.join(outDir, 'memory.svg'), await renderSvg(curveSpec(rows)));
  const shown = path.relative(path.join(__dirname, '..'), outDir);

  const peakOf = (name: string) => rows.find((r) => r.variant.name === name)?.result.hwmMb;
  const startStep = Math.min(100, every);
  const line = (r: Row) => {
    const x = r.result;
    const last = x.samples[x.samples.length - 1];
    const ref = r.variant.impl === 'ours' ? peakOf(r.variant.signin ? 'pytorch-signin' : 'pytorch-plain') : undefined;
    const growthOk = r.growthPct < 5 && x.stoppedAt === undefined;
    const peakOk = ref === undefined ? undefined : x.hwmMb <= 1.3 * ref;
    const goals = r.variant.impl === 'pytorch' ? '(reference)'
      : `growth ${verdict(growthOk, before, after)}; peak ${peakOk === undefined ? 'no PyTorch run' : `${(x.hwmMb / ref!).toFixed(2)}× PyTorch's, ${verdict(peakOk, before, after)}`}`;
    return `| ${r.variant.name} | ${last.step}${x.stoppedAt ? ` (stopped at ${maxRssMb} MB)` : ''} | ${r.rssStart.toFixed(0)} | ${r.rssEnd.toFixed(0)} | `
      + `${r.growthPct >= 0 ? '+' : ''}${r.growthPct.toFixed(1)}% | ${x.hwmMb.toFixed(0)} | ${r.minorPerStep.toFixed(0)} | ${r.majorPerStep.toFixed(1)} | `
      + `${last.liveTensors ?? '—'} | ${x.msPerStep.toFixed(0)} | ${goals} |`;
  };
  const mb = (b: number | undefined) => (b === undefined ? '—' : (b / 2 ** 20).toFixed(0));
  const allocatorRows = rows.filter((r) => r.variant.impl === 'ours').map((r) => {
    const a = r.result.samples.at(-1)!.allocator!;
    return `| ${r.variant.name} | ${mb(a.inUseBytes)} | ${mb(a.cachedBytes)} | ${mb(a.peakInUseBytes)} | ${a.hits} | ${a.misses} | ${a.releases} |`;
  });
  const allocatorNote = allocatorRows.length
    ? ['The toolkit\'s CPU allocator at the end of each run (cpuMemoryStats(); large blocks, MB):', '',
      '| variant | in use | cached | peak in use | hits | misses | releases |', '|---|---|---|---|---|---|---|', ...allocatorRows].join('\n')
    : '';
  const markdown = [
    `Masked CIFAR ResNet-20 (random 90% sparsity), batch 128×3×32×32, SGD (lr 0.1, momentum 0.9, weight decay 1e-4), ${threads} libtorch threads, `
      + `${steps} steps per run, each run in a fresh process; samples every ${every} steps. `
      + '"yield" runs await setImmediate after each step, as the Trainer does; "noyield" runs the steps back to back. '
      + 'Ours feeds channels_last batches (the Trainer\'s CPU default), PyTorch its default NCHW. '
      + `RSS in MB; growth from step ${startStep} to the last step; peak = VmHWM; faults per step = median over the ${every}-step windows after step ${startStep}.`,
    '',
    `| variant | steps | RSS @${startStep} | RSS @end | growth | peak RSS | minor faults / step | major faults / step | live tensors @end | ms / step | goals (growth < 5%, peak ≤ 1.3× PyTorch) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(line),
    '',
    allocatorNote,
    '',
    `Curves: ${shown}/memory.svg; every sample: ${shown}/memory.csv. ${machineNote(before, after)}`,
  ].join('\n');
  return { markdown, rows };
}

benchMain<RunParams>(module, oursRun, ({ raw, num }) => run({
  steps: num('steps'), every: num('every'), threads: num('threads'), maxRssMb: num('max-rss-mb'), variants: raw.variants?.split(','),
}));
