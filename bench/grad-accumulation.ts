/**
 * Gradient accumulation's memory: a ResNet-50 training step on a batch of 3x224x224 images, whole
 * or split into micro-batches (TrainerOptions.gradAccumSteps), ours through the Trainer against
 * PyTorch's accumulation loop (bench/pytorch/grad_accumulation.py), both channels_last, SGD with
 * momentum, 2 threads, each run in a fresh process. Reported: the resident set's peak (VmHWM)
 * over the one after the model and optimizer were built (so activations, gradients and momentum,
 * not the weights nor ours' masks), and the last of the steps' time.
 *
 *   npx tsx bench/grad-accumulation.ts [--rounds 2] [--batch 32] [--steps 2]
 */
import * as pino from 'pino';
import { SGD, randint, randn, setNumThreads } from '../src';
import { createModel } from '../src/models';
import { Trainer, type BatchSource } from '../src/train/trainer';
import { benchMain, machine, machineNote, median, procCounters, runOurs, runPytorch, spread } from './common';

interface Params {
  batch: number;
  accum: number;
  steps: number;
}

interface Result {
  peakMiB: number;
  stepMs: number;
}

async function ours(p: Params): Promise<Result> {
  setNumThreads(2);
  const model = createModel('resnet50', { numClasses: 1000 });
  const optimizer = SGD.forModel(model, { lr: 0.01, momentum: 0.9 });
  const base = procCounters().rssMb;
  const x = randn([p.batch, 3, 224, 224]);
  const y = randint(0, 1000, [p.batch]);
  const times: number[] = [];
  let t0 = 0;
  const train: BatchSource = {
    length: p.steps,
    async *[Symbol.asyncIterator]() {
      for (let s = 0; s < p.steps; s++) yield { x: x.clone(), y: y.clone() };
    },
  };
  await new Trainer({
    model, optimizer, train, epochs: 1, lr: () => 0.01, progress: false, logger: pino.default({ level: 'silent' }), gradAccumSteps: p.accum,
    callbacks: [{
      name: 'timer',
      onTrainStart: () => { t0 = performance.now(); },
      onStepEnd: () => { times.push(performance.now() - t0); t0 = performance.now(); },
    }],
  }).fit();
  return { peakMiB: procCounters().hwmMb - base, stepMs: times[times.length - 1] };
}

export async function run(opts: { rounds?: number; batch?: number; steps?: number } = {}): Promise<{ markdown: string }> {
  const rounds = opts.rounds ?? 2;
  const batch = opts.batch ?? 32;
  const steps = opts.steps ?? 2;
  const before = machine();
  const accums = [1, 4];
  const res: Record<string, Result[]> = {};
  const add = (key: string, r: Result) => { (res[key] ??= []).push(r); };
  for (let r = 0; r < rounds; r++) {
    const runs = accums.flatMap((accum) => [
      () => add(`ours-${accum}`, runOurs<Result>(__filename, { batch, accum, steps })),
      () => add(`torch-${accum}`, runPytorch<Result>('grad_accumulation.py', { batch, accum, steps })),
    ]);
    for (const go of r % 2 ? runs.reverse() : runs) go();
  }
  const after = machine();
  const row = (who: string, key: string, accum: number) => `| ${who} | ${accum} (${batch / accum} a micro-batch) | ${spread(res[key].map((x) => x.peakMiB), 0)} | ${spread(res[key].map((x) => x.stepMs / 1000), 2)} |`;
  const markdown = [
    `ResNet-50, batch ${batch} of 3×224×224, ${steps} steps in a fresh process, ${rounds} round(s), the order alternating; median (min–max).`,
    '',
    '| implementation | micro-batches | peak resident set over the built model (MiB) | last step (s) |',
    '|---|---|---|---|',
    ...accums.flatMap((a) => [row('signin-torch (Trainer, gradAccumSteps)', `ours-${a}`, a), row('PyTorch (accumulation loop)', `torch-${a}`, a)]),
    '',
    `Peak saved by splitting in 4: ours ${(median(res['ours-1'].map((x) => x.peakMiB)) - median(res['ours-4'].map((x) => x.peakMiB))).toFixed(0)} MiB, PyTorch ${(median(res['torch-1'].map((x) => x.peakMiB)) - median(res['torch-4'].map((x) => x.peakMiB))).toFixed(0)} MiB.`,
    '',
    machineNote(before, after),
  ].join('\n');
  return { markdown };
}

benchMain<Params>(module, ours, ({ num }) => run({ rounds: num('rounds'), batch: num('batch'), steps: num('steps') }));
