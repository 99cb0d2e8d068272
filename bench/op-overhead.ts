/**
 * Per-op overhead, ours vs PyTorch eager on the same libtorch (bench/pytorch/op_overhead.py), at
 * 1 libtorch thread, where the work per op is tiny and the call path is what is measured:
 *  - add: `a.add(b)` of two 16-element float32 tensors, 100k calls, each result disposed at once
 *    (PyTorch frees it by reference counting when the next call replaces it);
 *  - MLP step: one SGD step (momentum 0.9) of a 3-layer MLP (32-64-64-10, ReLU) at batch 1 with
 *    cross-entropy: forward, loss, zeroGrad, backward, step, inside tidy(); median per step.
 * Rounds alternate ours and PyTorch, each in a fresh process; the table gives the median over
 * rounds with the min–max spread. Goal (issue 9): ours ≤ PyTorch's per-op cost. The add is also
 * timed in CPU time of the process, which a loaded machine inflates far less than wall time
 * (a block of calls longer than a time slice is descheduled). bench/op-overhead-floor.ts splits
 * the add into its layers and measures the floor under them. `--before <dir>` adds a third
 * contender in the same alternation: this bench as another checkout has it (its own src/ and
 * build-cmake/ addon), e.g. the commit before a change to the call path.
 *
 *   npx tsx bench/op-overhead.ts [--rounds 5] [--calls 100000] [--steps 2000] [--warmup 200] [--before dir]
 */
import * as path from 'node:path';
import { F, Linear, ReLU, SGD, Sequential, manualSeed, randint, randn, setNumThreads, tidy } from '../src';
import { benchMain, machine, machineNote, median, runOurs, runPytorch, spread, verdict } from './common';

interface RoundParams {
  calls: number;
  steps: number;
  warmup: number;
}

interface RoundResult {
  addUs: number;
  addCpuUs: number;
  mlpStepUs: number;
}

function oursRound(p: RoundParams): RoundResult {
  setNumThreads(1);
  manualSeed(0);
  const a = randn([16]);
  const b = randn([16]);
  for (let i = 0; i < 1000; i++) a.add(b).dispose();
  let t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < p.calls; i++) a.add(b).dispose();
  const addUs = Number(process.hrtime.bigint() - t0) / 1e3 / p.calls;
  const cpu = process.cpuUsage(c0);
  const addCpuUs = (cpu.user + cpu.system) / p.calls;

  const model = new Sequential(new Linear(32, 64), new ReLU(), new Linear(64, 64), new ReLU(), new Linear(64, 10));
  const opt = SGD.forModel(model, { lr: 0.01, momentum: 0.9 });
  const x = randn([1, 32]);
  const y = randint(0, 10, [1]);
  const times: number[] = [];
  for (let i = 0; i < p.warmup + p.steps; i++) {
    t0 = process.hrtime.bigint();
    tidy(() => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
    });
    if (i >= p.warmup) times.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return { addUs, addCpuUs, mlpStepUs: median(times) };
}

export interface OpOverheadOptions {
  rounds?: number;
  calls?: number;
  steps?: number;
  warmup?: number;
  /** A checkout to time as "before" alongside this one. */
  before?: string;
}

export async function run(opts: OpOverheadOptions = {}): Promise<{ markdown: string }> {
  const rounds = opts.rounds ?? 5;
  const p: RoundParams = { calls: opts.calls ?? 100_000, steps: opts.steps ?? 2000, warmup: opts.warmup ?? 200 };
  const beforeFile = opts.before ? path.join(path.resolve(opts.before), 'bench', 'op-overhead.ts') : undefined;
  const start = machine();
  const ours: RoundResult[] = [];
  const pytorch: RoundResult[] = [];
  const earlier: RoundResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['ours', 'pytorch', 'before'] : ['before', 'pytorch', 'ours'];
    for (const who of order) {
      if (who === 'ours') ours.push(runOurs<RoundResult>(__filename, p));
      else if (who === 'pytorch') pytorch.push(runPytorch<RoundResult>('op_overhead.py', p));
      else if (beforeFile) earlier.push(runOurs<RoundResult>(beforeFile, p));
    }
  }
  const end = machine();
  const line = (name: string, key: keyof RoundResult, digits: number) => {
    const o = ours.map((x) => x[key]);
    const t = pytorch.map((x) => x[key]);
    const ratio = median(o) / median(t);
    const paired = median(o.map((v, i) => v / t[i]));
    const was = beforeFile ? ` ${spread(earlier.map((x) => x[key]), digits)} |` : '';
    return `| ${name} |${was} ${spread(o, digits)} | ${spread(t, digits)} | ${ratio.toFixed(2)} | ${paired.toFixed(2)} | ${verdict(ratio <= 1, start, end)} |`;
  };
  const markdown = [
    `1 libtorch thread; ${rounds} rounds, ${beforeFile ? 'before, ' : ''}ours and PyTorch eager alternating, each in a fresh process. `
      + `add: ${p.calls.toLocaleString('en-US')} calls of a 16-element float32 add (ours disposes each result at once); `
      + `MLP step: 32-64-64-10 ReLU MLP at batch 1, cross-entropy, SGD momentum 0.9, median of ${p.steps} steps after ${p.warmup} warm-up steps. `
      + 'Cells: median over rounds (min–max over rounds), in µs.',
    '',
    `| measure |${beforeFile ? ' before (µs) |' : ''} signin-torch (µs) | PyTorch eager (µs) | ratio (medians) | paired ratio | goal ours ≤ PyTorch |`,
    `|---|${beforeFile ? '---|' : ''}---|---|---|---|---|`,
    line('add, per call', 'addUs', 2),
    line('add, per call (CPU time)', 'addCpuUs', 2),
    line('MLP step at batch 1', 'mlpStepUs', 0),
    '',
    machineNote(start, end),
  ].join('\n');
  return { markdown };
}

benchMain<RoundParams>(module, oursRound, ({ raw, num }) => run({
  rounds: num('rounds'), calls: num('calls'), steps: num('steps'), warmup: num('warmup'), before: raw.before,
}));
