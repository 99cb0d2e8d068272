/**
 * Training-step time of a masked CIFAR ResNet-20 (random 90% sparsity, layerwise uniform), batch
 * 128×3×32×32, SGD (lr 0.1, momentum 0.9, weight decay 1e-4), ours vs PyTorch on the same libtorch
 * (bench/pytorch/resnet20_step.py: masking around torch.optim.SGD; Sign-In by parametrization),
 * plain and Sign-In, at 1 and 2 libtorch threads, split into forward (+ loss), backward
 * (zeroGrad + backward) and optimizer step. Ours runs in the Trainer's default layout
 * (channelsLast 'auto': channels_last batches on the CPU when libtorch has oneDNN); PyTorch runs
 * twice, in its default NCHW and in channels_last by its own recipe (model and batch converted), so
 * that the layout's share of the difference is visible.
 *
 * Robust on a noisy machine: every round runs ours and PyTorch, each in a fresh process with
 * warm-up steps, the order rotating between rounds; a round's figure is the median of its timed
 * steps, and the table gives the median over rounds with the min–max spread, and the ratio ours /
 * PyTorch both of the medians and paired (median of the per-round ratios, whose runs were close
 * in time).
 *
 *   npx tsx bench/step-time.ts [--rounds 5] [--steps 10] [--warmup 3] [--threads 1,2] [--variants plain,signin]
 */
import { F, tidy } from '../src';
import { resnet20Step } from './resnet20-step';
import { benchMain, machine, machineNote, median, verdict, ms, runOurs, runPytorch, spread } from './common';

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
  const { model, opt, pool, input } = await resnet20Step(p);
  const out: PhaseTimes = { forward: [], backward: [], optimizer: [], total: [], params: model.numParameters() };
  for (let i = 0; i < p.warmup + p.steps; i++) {
    const { x, y } = pool[i % pool.length];
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    let t2 = t0;
    let t3 = t0;
    tidy(() => {
      const loss = F.crossEntropy(model.forward(input(x)), y);
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

type Impl = 'ours' | 'pytorch' | 'pytorchCl';
const IMPLS: readonly Impl[] = ['ours', 'pytorch', 'pytorchCl'];
const IMPL_NAMES: Record<Impl, string> = { ours: 'signin-torch (default: channels_last)', pytorch: 'PyTorch (default: NCHW)', pytorchCl: 'PyTorch (channels_last)' };

interface ConfigResult {
  threads: number;
  variant: 'plain' | 'signin';
  /** Per implementation, per round: the median of that round's steps, per phase. */
  times: Record<Impl, Record<Phase, number[]>>;
  /** ours / PyTorch's default, ours / PyTorch channels_last: of the medians and paired by round. */
  ratio: number;
  pairedRatio: number;
  ratioCl: number;
  pairedRatioCl: number;
}

function roundMedians(t: PhaseTimes): Record<Phase, number> {
  return Object.fromEntries(PHASES.map((k) => [k, median(t[k])])) as Record<Phase, number>;
}

function roundTimes(who: Impl, p: RoundParams): PhaseTimes {
  if (who === 'ours') return runOurs<PhaseTimes>(__filename, p);
  return runPytorch<PhaseTimes>('resnet20_step.py', { ...p, channelsLast: who === 'pytorchCl' });
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
      const times = { ours: empty(), pytorch: empty(), pytorchCl: empty() };
      for (let r = 0; r < rounds; r++) {
        const order = IMPLS.map((_, i) => IMPLS[(i + r) % IMPLS.length]);
        const params = order.map((who) => {
          const t = roundTimes(who, p);
          const m = roundMedians(t);
          for (const k of PHASES) times[who][k].push(m[k]);
          return t.params;
        });
        if (new Set(params).size !== 1) throw new Error(`architectures differ: ${params.join(' vs ')} parameters`);
        const last = IMPLS.map((who) => `${who} ${times[who].total.at(-1)!.toFixed(1)} ms`).join(', ');
        process.stderr.write(`step-time ${th} threads ${variant} round ${r + 1}/${rounds}: ${last}\n`);
      }
      const ratios = (ref: Impl) => [
        median(times.ours.total) / median(times[ref].total),
        median(times.ours.total.map((t, i) => t / times[ref].total[i])),
      ];
      const [ratio, pairedRatio] = ratios('pytorch');
      const [ratioCl, pairedRatioCl] = ratios('pytorchCl');
      configs.push({ threads: th, variant, times, ratio, pairedRatio, ratioCl, pairedRatioCl });
    }
  }
  const after = machine();
  const row = (c: ConfigResult, who: Impl) =>
    `| ${c.threads} | ${c.variant} | ${IMPL_NAMES[who]} | ${PHASES.map((k) => spread(c.times[who][k], k === 'optimizer' ? 2 : 1)).join(' | ')} |`;
  const goal = (r: number) => `${verdict(r <= 1, before, after)}${r <= 0.95 ? ', aim 0.95 reached' : ''}`;
  const markdown = [
    `Masked CIFAR ResNet-20 (random 90% sparsity, layerwise uniform), batch 128×3×32×32, SGD (lr 0.1, momentum 0.9, weight decay 1e-4). `
      + `${rounds} rounds per configuration; each round runs ours, PyTorch in its default NCHW layout and PyTorch in channels_last, each in a fresh process with ${warmup} warm-up steps and ${steps} timed steps, `
      + 'the order rotating between rounds. A round\'s figure is the median of its steps; cells give the median over rounds and (min–max) over rounds, in ms. '
      + 'Forward includes the loss and the batch\'s conversion to channels_last where it is made; backward includes zeroing the gradients; total includes releasing the step\'s tensors. '
      + 'Ours runs as the Trainer does by default (channelsLast \'auto\': channels_last batches on the CPU with oneDNN). '
      + 'PyTorch: masking around torch.optim.SGD (plain), torch.nn.utils.parametrize θ = M·m·w (Sign-In); channels_last by its recipe (model.to(memory_format=torch.channels_last) and each batch converted).',
    '',
    '| threads | variant | implementation | forward | backward | optimizer | total |',
    '|---|---|---|---|---|---|---|',
    ...configs.flatMap((c) => IMPLS.map((who) => row(c, who))),
    '',
    '| threads | variant | ours / PyTorch default (medians) | paired | goal ≤ 1.0 (aim 0.95) | ours / PyTorch channels_last (medians) | paired | same layout ≤ 1.0 |',
    '|---|---|---|---|---|---|---|---|',
    ...configs.map((c) => `| ${c.threads} | ${c.variant} | ${c.ratio.toFixed(3)} | ${c.pairedRatio.toFixed(3)} | ${goal(c.ratio)} | ${c.ratioCl.toFixed(3)} | ${c.pairedRatioCl.toFixed(3)} | ${goal(c.ratioCl)} |`),
    '',
    machineNote(before, after),
  ].join('\n');
  return { markdown, configs };
}

benchMain<RoundParams>(module, oursRound, ({ raw, num }) => {
  const list = (s: string | undefined) => s?.split(',').filter(Boolean);
  return run({
    rounds: num('rounds'), steps: num('steps'), warmup: num('warmup'),
    threads: list(raw.threads)?.map(Number),
    variants: list(raw.variants) as ('plain' | 'signin')[] | undefined,
  });
});
