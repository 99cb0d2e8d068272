/**
 * `npm run bench`: runs the benchmarks and writes BENCHMARKS.md with the machine named.
 * Benchmarks are never tests: they measure, side by side, and report.
 *
 *   npm run bench                          # every benchmark (about 35 min on 2 cores)
 *   npm run bench -- memory step-time      # a subset: only their sections of BENCHMARKS.md change
 *   npm run bench -- --quick [names...]    # tiny runs to check the benches work; writes only
 *                                          # under bench/results/quick/ (ignored by git), never
 *                                          # BENCHMARKS.md or the committed bench/results files
 *
 * The whole set is sized to finish in about 35 minutes on 2 cores, so some benches run shorter
 * here than on their own (each file's header gives its own defaults): the memory soak runs 1,000
 * steps per variant (2,000 with `npx tsx bench/memory.ts`), the epoch, input-pipeline memory and
 * gradient-accumulation benches one round (the last at batch 16, not 32).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS_DIR, machine, machineNote } from './common';

const QUICK_DIR = path.join(RESULTS_DIR, 'quick');

interface Bench {
  name: string;
  file: string;
  title: string;
  /** Options for the full set (sized for the 35-minute budget) and for --quick. */
  full?: object;
  quick: object;
}

const BENCHES: Bench[] = [
  {
    name: 'step-time', file: './step-time', title: 'Training step: masked ResNet-20, ours vs PyTorch, by phase',
    quick: { rounds: 1, steps: 1, warmup: 1, threads: [2], variants: ['plain'] },
  },
  {
    name: 'memory', file: './memory', title: 'Memory over a long run: RSS, page faults and peak, ours vs PyTorch',
    full: { steps: 1000 }, quick: { steps: 4, every: 2, variants: ['ours-plain', 'pytorch-plain'], outDir: QUICK_DIR },
  },
  {
    name: 'dataset-memory', file: './dataset-memory', title: 'Dataset loading: resident memory, ours vs torchvision',
    quick: { rounds: 1 },
  },
  {
    name: 'checkpoint-memory', file: './checkpoint-memory', title: 'Checkpoints: resident memory of saving and resuming, ours vs PyTorch',
    quick: { rounds: 1, steps: 1 },
  },
  {
    name: 'loader-memory', file: './loader-memory', title: 'Input pipeline memory: ImageFolder DataLoader over a run, ours vs torchvision',
    full: { rounds: 1 }, quick: { rounds: 1, batches: 6, unique: 32, batchSizes: [16] },
  },
  {
    name: 'op-overhead', file: './op-overhead', title: 'Per-op overhead: small add and batch-1 MLP step, ours vs PyTorch eager',
    quick: { rounds: 1, calls: 2000, steps: 20, warmup: 5 },
  },
  {
    name: 'epoch', file: './epoch', title: 'A training epoch: Fashion-MNIST ResNet-20 (95% Random-ERK), ours vs PyTorch',
    full: { rounds: 1 }, quick: { steps: 3 },
  },
  { name: 'signin-overhead', file: './signin-overhead', title: 'Sign-In overhead per training step', quick: { steps: 20, warmup: 1, batch: 8, control: false } },
  { name: 'signin-kernels', file: './signin-kernels', title: 'Fused Sign-In update vs unfused autograd route', quick: { sizes: [4096], budgetMs: 50 } },
  { name: 'loader', file: './loader', title: 'ImageFolder loader throughput vs torchvision', quick: { images: 32, epochs: 1, workers: [0], rounds: 1 } },
  { name: 'ddp', file: './ddp', title: 'Data parallel: ResNet-20 step on 1 vs 2 ranks (Gloo, loopback)', quick: { rounds: 1, steps: 2, warmup: 1, batch: 16, sizesMiB: [1] } },
  {
    name: 'loader-overhead', file: './loader-overhead', title: 'Loader overhead: time blocked on the data loader while training',
    quick: { steps: 2, warmup: 1, images: 160 },
  },
  {
    name: 'grad-accumulation', file: './grad-accumulation', title: 'Gradient accumulation: ResNet-50 step memory, ours vs PyTorch',
    full: { rounds: 1, batch: 16 }, quick: { rounds: 1, batch: 4, steps: 1 },
  },
];

/** The "## title" sections of an existing BENCHMARKS.md, in order. */
function readSections(file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(file)) return out;
  const parts = fs.readFileSync(file, 'utf8').split(/^## /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    out.set(p.slice(0, nl).trim(), p.slice(nl + 1).trim());
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  const chosen = BENCHES.filter((b) => !names.length || names.includes(b.name));
  const target = quick ? path.join(QUICK_DIR, 'BENCHMARKS.md') : path.join(__dirname, '..', 'BENCHMARKS.md');
  // A subset replaces only its own sections; the others keep their last figures.
  const sections = names.length && !quick ? readSections(target) : new Map<string, string>();
  const before = machine();
  for (const b of chosen) {
    process.stderr.write(`running ${b.name}\n`);
    const mod = (await import(b.file)) as { run: (opts?: object) => Promise<{ markdown: string }> };
    const t0 = Date.now();
    const r = await mod.run(quick ? b.quick : b.full);
    process.stderr.write(`${b.name}: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    sections.set(b.title, r.markdown.trim());
  }
  const ordered = [...BENCHES.map((b) => b.title).filter((t) => sections.has(t)), ...[...sections.keys()].filter((t) => !BENCHES.some((b) => b.title === t))];
  const out = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench${names.length ? ` -- ${names.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}${quick ? ' with --quick (tiny runs that check the benches work; the figures mean nothing)' : ''}.`,
    '',
    `${machineNote(before)} No GPU on this machine; CUDA numbers, when measured, are named with their device.`,
    '',
    ...ordered.flatMap((t) => [`## ${t}`, '', sections.get(t)!, '']),
  ].join('\n');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, out);
  process.stdout.write(out);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
