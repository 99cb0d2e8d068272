/**
 * Training-step time of a masked CIFAR ResNet-20 (random 90% sparsity, layerwise uniform), batch
 * 128×3×32×32, SGD (lr 0.1, momentum 0.9, weight decay 1e-4), ours vs PyTorch on the same libtorch
 * (bench/pytorch/resnet20_step.py: masking around torch.optim.SGD; Sign-In by parametrization),
 * plain and Sign-In, at 1 and 2 libtorch threads, split into forward (+ loss), backward
 * (zeroGrad + backward) and optimizer step.
 *
 * Robust on a noisy machine: every round runs ours and PyTorch, each in a fresh process with
 * warm-up steps, in alternating order (ours first in even rounds, PyTorch first in odd ones);
 * a round's figure is the median of its timed steps, and the table gives the median over rounds
 * with the min–max spread, and the ratio ours / PyTorch both of the medians and paired (median of
 * the per-round ratios, whose two runs were adjacent in time).
 *
 *   npx tsx bench/step-time.ts [--rounds 5] [--steps 10] [--warmup 3] [--threads 1,2] [--variants plain,signin]
 */
import { F, tidy } from '../src';
import { resnet20Step } from './resnet20-step';
import { childMain, childParams, machine, machineNote, median, verdict, ms, parseArgs, runOurs, runPytorch, spread } from './common';

const PHASES = ['forward', 'backward', 'optimizer', 'total'] as const;
type Phase = (typeof PHASES)[number];
type PhaseTimes = Record<Phase, number[]> & { params: number };

interface RoundParams {
  threads: number;
  steps: number;
  warmup: number;
  batch: number;
  density: number;
  signin: boolean;
}

async function oursRound(p: RoundParams): Promise<PhaseTimes> {
  const { model, opt, pool } = await resnet20Step(p);
  const out: PhaseTimes = { forward: [], backward: [], optimizer: [], total: [], params: model.numParameters() };
  for (let i = 0; i < p.warmup + p.steps; i++) {
    const { x, y } = pool[i % pool.length];
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    let t2 = t0;
    let t3 = t0;
    tidy(() => {
      const loss = F.crossEntropy(model.forward(x), y);
      t1 = process.hrtime.bigint();
      opt.zeroGrad();
      loss.backward();
      t2 = process.hrtime.bigint();
      opt.step();
      t3 = process.hrtime.bigint();
    });
    const total = ms(t0);
    // The Trainer yields to the event loop once per step; so does every round here.
    await new Promise(setImmediate);
    if (i < p.warmup) continue;
    out.forward.push(Number(t1 - t0) / 1e6);
    out.backward.push(Number(t2 - t1) / 1e6);
    out.optimizer.push(Number(t3 - t2) / 1e6);
    out.total.push(total);
  }
  return out;
}

export interface StepTimeOptions {
  rounds?: number;
  steps?: number;
  warmup?: number;
  threads?: number[];
  variants?: ('plain' | 'signin')[];
}

interface ConfigResult {
  threads: number;
  variant: 'plain' | 'signin';
  /** Per round: the median of that round's steps, per phase. */
  ours: Record<Phase, number[]>;
  pytorch: Record<Phase, number[]>;
  ratio: number;
  pairedRatio: number;
}

function roundMedians(t: PhaseTimes): Record<Phase, number> {
  return Object.fromEntries(PHASES.map((k) => [k, median(t[k])])) as Record<Phase, number>;
}

export async function run(opts: StepTimeOptions = {}): Promise<{ markdown: string; configs: ConfigResult[] }> {
  const rounds = opts.rounds ?? 5;
  const steps = opts.steps ?? 10;
  const warmup = opts.warmup ?? 3;
  const threads = opts.threads ?? [1, 2];
  const variants = opts.variants ?? ['plain', 'signin'];
  const before = machine();
  const configs: ConfigResult[] = [];
  for (const th of threads) {
    for (const variant of variants) {
      const p: RoundParams = { threads: th, steps, warmup, batch: 128, density: 0.1, signin: variant === 'signin' };
      const empty = () => Object.fromEntries(PHASES.map((k) => [k, [] as number[]])) as Record<Phase, number[]>;
      const ours = empty();
      const pytorch = empty();
      for (let r = 0; r < rounds; r++) {
        const runOne = (who: 'ours' | 'pytorch') => {
          const t = who === 'ours' ? runOurs<PhaseTimes>(__filename, p) : runPytorch<PhaseTimes>('resnet20_step.py', p);
          const m = roundMedians(t);
          for (const k of PHASES) (who === 'ours' ? ours : pytorch)[k].push(m[k]);
          return t.params;
        };
        const order: ('ours' | 'pytorch')[] = r % 2 === 0 ? ['ours', 'pytorch'] : ['pytorch', 'ours'];
        const params = order.map(runOne);
        if (params[0] !== params[1]) throw new Error(`architectures differ: ${params[0]} vs ${params[1]} parameters`);
        process.stderr.write(`step-time ${th} threads ${variant} round ${r + 1}/${rounds}: ours ${ours.total.at(-1)!.toFixed(1)} ms, PyTorch ${pytorch.total.at(-1)!.toFixed(1)} ms\n`);
      }
      configs.push({
        threads: th, variant, ours, pytorch,
        ratio: median(ours.total) / median(pytorch.total),
        pairedRatio: median(ours.total.map((t, i) => t / pytorch.total[i])),
      });
    }
  }
  const after = machine();
  const row = (c: ConfigResult, who: 'ours' | 'pytorch') => {
    const t = c[who];
    const name = who === 'ours' ? 'signin-torch' : 'PyTorch';
    return `| ${c.threads} | ${c.variant} | ${name} | ${PHASES.map((k) => spread(t[k], k === 'optimizer' ? 2 : 1)).join(' | ')} |`;
  };
  const goal = (c: ConfigResult) => `${verdict(c.ratio <= 1, before, after)}${c.ratio <= 0.95 ? ', aim 0.95 reached' : ''}`;
  const markdown = [
    `Masked CIFAR ResNet-20 (random 90% sparsity, layerwise uniform), batch 128×3×32×32, SGD (lr 0.1, momentum 0.9, weight decay 1e-4). `
      + `${rounds} rounds per configuration; each round runs ours and PyTorch, each in a fresh process with ${warmup} warm-up steps and ${steps} timed steps, `
      + 'the order alternating between rounds. A round\'s figure is the median of its steps; cells give the median over rounds and (min–max) over rounds, in ms. '
      + 'Forward includes the loss; backward includes zeroing the gradients; total includes releasing the step\'s tensors. '
      + 'PyTorch: masking around torch.optim.SGD (plain), torch.nn.utils.parametrize θ = M·m·w (Sign-In).',
    '',
    '| threads | variant | implementation | forward | backward | optimizer | total |',
    '|---|---|---|---|---|---|---|',
    ...configs.flatMap((c) => [row(c, 'ours'), row(c, 'pytorch')]),
    '',
    '| threads | variant | ratio ours / PyTorch (medians) | paired ratio (median of per-round ratios) | goal ≤ 1.0 (aim 0.95) |',
    '|---|---|---|---|---|',
    ...configs.map((c) => `| ${c.threads} | ${c.variant} | ${c.ratio.toFixed(3)} | ${c.pairedRatio.toFixed(3)} | ${goal(c)} |`),
    '',
    machineNote(before, after),
  ].join('\n');
  return { markdown, configs };
}

const child = childParams<RoundParams>();
if (child) {
  childMain(() => oursRound(child));
} else if (require.main === module) {
  const a = parseArgs(process.argv.slice(2));
  const list = (s: string | undefined) => s?.split(',').filter(Boolean);
  run({
    rounds: a.rounds ? Number(a.rounds) : undefined,
    steps: a.steps ? Number(a.steps) : undefined,
    warmup: a.warmup ? Number(a.warmup) : undefined,
    threads: list(a.threads)?.map(Number),
    variants: list(a.variants) as ('plain' | 'signin')[] | undefined,
  }).then(
    (r) => process.stdout.write(`${r.markdown}\n`),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
