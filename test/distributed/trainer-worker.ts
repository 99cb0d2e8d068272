/**
 * One rank of the Trainer-under-DDP tests (run with tsx by trainer-ddp.test.ts). Each rank trains
 * through the Trainer on its contiguous shard of every global batch of a fixed synthetic data set,
 * with the DDP as the Trainer's `dataParallel` hooks (none with WORLD_SIZE=1, the reference).
 * The model is drawn with seed 100 + rank, so only DDP's broadcast makes the ranks agree; the
 * global RNG is then reseeded alike on every rank, as the config runner does. Writes JSON.
 *
 * argv[2]: JSON { mode, initMethod, out, accum? }
 *   mode 'rigl' | 'set' | 'str' | 'acdc' | 'clip': a masked MLP, 2 epochs of 4 steps, global batch 16;
 *     a callback records the global gradient norm onAfterBackward sees. `accum`: the Trainer's
 *     gradAccumSteps; the backwards DDP was armed to reduce are counted as `prepares`.
 *   mode 'bn': ToyNet (BatchNorm in training mode) through the Trainer, then evaluated.
 *   mode 'bn-reference' (1 process): what PyTorch DDP's semantics give for 'bn' on rank 0, simulated:
 *     both shards' gradients averaged, the running statistics updated by shard 0 only.
 *   mode 'scaler': fp16 loss scaling by hand (GradScaler runs on the CPU) with an inf in rank 1's
 *     first batch only.
 *   mode 'eval': the masked MLP trained with shardedEval and a `signal`, each rank evaluating its
 *     share (every 2nd sample) of 41 samples in batches of 4 (21 samples in 6 batches on rank 0, 20
 *     in 5 on rank 1); each epoch's test metrics, and trainer.evaluate's after fit, beside the
 *     whole set's evaluated in one batch by this rank alone (the ranks hold the same weights).
 *   mode 'eval-stop': as 'eval', rank 1's signal aborted ('SIGTERM') as it takes its 3rd test batch.
 */
import * as fs from 'node:fs';
import {
  Acdc, GradScaler, Generator, InterruptedError, MaskedLinear, Module, ReLU, Rigl, SGD, Str, Trainer, F, manualSeed, noGrad, randint, randn,
  setNumThreads, tensor, tidy, topkCorrect, type BatchSource, type Callback, type Tensor,
} from '../../src';
import { DistributedDataParallel, destroyProcessGroup, initProcessGroup } from '../../src/distributed';
import { ToyNet } from '../helpers/toy-model';

type Mode = 'rigl' | 'set' | 'str' | 'acdc' | 'clip' | 'bn' | 'bn-reference' | 'scaler' | 'eval' | 'eval-stop';

interface Args {
  mode: Mode;
  initMethod: string;
  out: string;
  accum?: number;
}

const EPOCHS = 2;
const STEPS = 4;
const BATCH = 16;
const CLIP = 0.05;

class Mlp extends Module {
  readonly fc1: MaskedLinear;
  readonly relu: ReLU;
  readonly fc2: MaskedLinear;

  constructor() {
    super();
    this.fc1 = this.registerModule('fc1', new MaskedLinear(16, 32));
    this.relu = this.registerModule('relu', new ReLU());
    this.fc2 = this.registerModule('fc2', new MaskedLinear(32, 10));
  }

  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}

/** This rank's shard of each global batch (views; the Trainer disposes them after the step). */
function shards(x: Tensor, y: Tensor, rank: number, world: number): BatchSource {
  const local = BATCH / world;
  return {
    length: STEPS,
    async *[Symbol.asyncIterator]() {
      for (let s = 0; s < STEPS; s++) {
        const lo = s * BATCH + rank * local;
        yield { x: x.narrow(0, lo, local), y: y.narrow(0, lo, local) };
      }
    },
  };
}

/** The L2 norm of all gradients, in float64: what every rank must see after the sync. */
function gradNorm(model: Module): number {
  return noGrad(() => tidy(() => Math.sqrt(model.parameters().reduce((s, p) => s + (p.grad ? p.grad.to('float64').pow(2).sum().item() : 0), 0))));
}

function stateJson(model: Module): Record<string, number[]> {
  const state: Record<string, number[]> = {};
  for (const [k, t] of model.stateDict()) state[k] = Array.from(t.data(), Number);
  return state;
}

function sparsifier(mode: Mode): Callback[] {
  const total = EPOCHS * STEPS;
  switch (mode) {
    case 'rigl':
    case 'set':
      return [new Rigl({ sparsity: 0.5, distribution: 'uniform', deltaT: 2, dropFraction: 0.5, stopFraction: 1, totalSteps: total, growth: mode === 'rigl' ? 'gradient' : 'random' })];
    case 'str':
      return [new Str({ sInit: -3, momentum: 0.9, weightDecay: 5e-4 })];
    case 'acdc':
      return [new Acdc({ sparsity: 0.5, epochs: EPOCHS, warmupEpochs: 0, phaseEpochs: 1, finetuneEpochs: 0 })];
    default:
      return [];
  }
}

/** The MLP drawn with rank's seed (DDP's broadcast makes the ranks agree), and the training data, alike on every rank. */
function mlpSetup(rank: number, ddp: (m: Module) => DistributedDataParallel | undefined) {
  manualSeed(100 + rank);
  const model = new Mlp();
  const dataParallel = ddp(model);
  manualSeed(7);
  const gen = new Generator(3);
  const x = randn([STEPS * BATCH, 16], { generator: gen });
  const y = randint(0, 10, [STEPS * BATCH], { generator: gen });
  return { model, dataParallel, gen, x, y, world: dataParallel ? 2 : 1 };
}

async function trainMlp(a: Args, rank: number, ddp: (m: Module) => DistributedDataParallel | undefined): Promise<object> {
  const { model, dataParallel, x, y, world } = mlpSetup(rank, ddp);
  const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  let prepares = 0;
  if (dataParallel) {
    const prepare = dataParallel.prepareBackward.bind(dataParallel);
    dataParallel.prepareBackward = (loss) => { prepares++; prepare(loss); };
  }
  const norms: number[] = [];
  const masks: Record<string, number[]>[] = [];
  const recorder: Callback = {
    name: 'recorder',
    onAfterBackward: (ctx) => { norms.push(gradNorm(ctx.model)); },
    onStepEnd: (ctx) => {
      masks.push(Object.fromEntries([...ctx.model.namedBuffers()].filter(([n]) => n.endsWith('_mask')).map(([n, b]) => [n, Array.from(b.data(), Number)])));
    },
  };
  const trainer = new Trainer({
    model, optimizer, train: shards(x, y, rank, world), epochs: EPOCHS, lr: () => 0.1, progress: false,
    gradClipNorm: a.mode === 'clip' ? CLIP : undefined, callbacks: [recorder, ...sparsifier(a.mode)], dataParallel, gradAccumSteps: a.accum,
  });
  await trainer.fit();
  return { norms, masks, state: stateJson(model), prepares };
}

async function trainBn(rank: number, ddp: (m: Module) => DistributedDataParallel | undefined): Promise<object> {
  manualSeed(100 + rank);
  const model = new ToyNet({ width: 4 });
  const dataParallel = ddp(model);
  manualSeed(7);
  const gen = new Generator(3);
  const x = randn([STEPS * BATCH, 1, 8, 8], { generator: gen });
  const y = randint(0, 10, [STEPS * BATCH], { generator: gen });
  const world = dataParallel ? 2 : 1;
  const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
  const trainer = new Trainer({
    model, optimizer, train: shards(x, y, rank, world), test: shards(x, y, 0, 1), epochs: EPOCHS, lr: () => 0.1, progress: false, dataParallel,
  });
  const last = await trainer.fit();
  return { testLoss: last?.testLoss, state: stateJson(model) };
}

/** PyTorch DDP's semantics for 'bn' in one process: mean of the shards' gradients, running statistics from shard 0. */
function bnReference(): object {
  manualSeed(100);
  const model = new ToyNet({ width: 4 });
  manualSeed(7);
  const gen = new Generator(3);
  const x = randn([STEPS * BATCH, 1, 8, 8], { generator: gen });
  const y = randint(0, 10, [STEPS * BATCH], { generator: gen });
  const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
  const running = () => [...model.namedBuffers()].filter(([n]) => /running_|num_batches/.test(n)).map(([, b]) => b);
  const half = BATCH / 2;
  for (let e = 0; e < EPOCHS; e++) {
    model.train();
    for (let s = 0; s < STEPS; s++) {
      tidy(() => {
        for (const r of [0, 1]) {
          const saved = r === 1 ? noGrad(() => running().map((b) => b.clone())) : [];
          F.crossEntropy(model.forward(x.narrow(0, s * BATCH + r * half, half)), y.narrow(0, s * BATCH + r * half, half)).backward();
          noGrad(() => running().forEach((b, i) => saved[i] && b.copy_(saved[i])));
        }
        noGrad(() => { for (const p of model.parameters()) p.grad?.mul_(0.5); });
        optimizer.step();
      });
      optimizer.zeroGrad();
    }
  }
  return { state: stateJson(model) };
}

/** An inf in rank 1's first local gradient: every rank must skip that step and back off alike. */
function scaler(rank: number, ddp: DistributedDataParallel, model: Module): object {
  const opt = SGD.forModel(model, { lr: 0.1 });
  const s = new GradScaler({ initScale: 1024 });
  const gen = new Generator(3);
  const steps: { foundInf: boolean; stepped: boolean; scale: number }[] = [];
  for (let i = 0; i < 2; i++) {
    const x = randn([8, 16], { generator: gen });
    const y = randint(0, 10, [8], { generator: gen });
    tidy(() => {
      if (i === 0 && rank === 1) noGrad(() => x.narrow(0, 0, 1).fill_(Infinity));
      s.scale(F.crossEntropy(ddp.forward(x), y)).backward();
      const params = model.parameters();
      ddp.syncGradients(params);
      const foundInf = s.unscale(params);
      const stepped = s.step(opt, params);
      s.update();
      steps.push({ foundInf, stepped, scale: s.getScale() });
    });
    opt.zeroGrad();
  }
  return { steps, state: stateJson(model) };
}

const EVAL_N = 41;
const EVAL_BATCH = 4;

/** Every world-th sample from `rank`, in batches of EVAL_BATCH (copies: the Trainer disposes them); `onBatch` sees each batch's index. */
function evalShare(x: Tensor, y: Tensor, rank: number, world: number, onBatch: (k: number) => void = () => undefined): BatchSource {
  const idx = Array.from({ length: Math.ceil((EVAL_N - rank) / world) }, (_, k) => rank + k * world);
  return {
    length: Math.ceil(idx.length / EVAL_BATCH),
    async *[Symbol.asyncIterator]() {
      for (let lo = 0, k = 0; lo < idx.length; lo += EVAL_BATCH, k++) {
        onBatch(k);
        const rows = idx.slice(lo, lo + EVAL_BATCH);
        const at = tensor(rows, { dtype: 'int64' });
        yield { x: x.indexSelect(0, at), y: y.indexSelect(0, at) };
        at.dispose();
      }
    },
  };
}

/** The whole evaluation set in one batch, by this process alone: mean cross-entropy, top-1 and top-5. */
function wholeSet(model: Module, x: Tensor, y: Tensor): { loss: number; top1: number; top5: number } {
  const training = model.training;
  model.eval();
  try {
    return noGrad(() => tidy(() => {
      const logits = model.forward(x);
      const [h1, h5] = topkCorrect(logits, y, [1, 5]);
      return { loss: F.crossEntropy(logits.to('float64'), y).item(), top1: h1 / EVAL_N, top5: h5 / EVAL_N };
    }));
  } finally {
    model.train(training);
  }
}

async function trainEval(a: Args, rank: number, ddp: (m: Module) => DistributedDataParallel | undefined): Promise<object> {
  const { model, dataParallel, gen, x, y, world } = mlpSetup(rank, ddp);
  const tx = randn([EVAL_N, 16], { generator: gen });
  const ty = randint(0, 10, [EVAL_N], { generator: gen });
  const controller = new AbortController();
  const stopAt = (k: number) => { if (a.mode === 'eval-stop' && rank === 1 && k === 2) controller.abort('SIGTERM'); };
  const epochs: object[] = [];
  const recorder: Callback = {
    name: 'recorder',
    onEpochEnd: (ctx, m) => { epochs.push({ sharded: { loss: m.testLoss, top1: m.testAcc, top5: m.testTop5 }, whole: wholeSet(ctx.model, tx, ty) }); },
  };
  const trainer = new Trainer({
    model, optimizer: SGD.forModel(model, { lr: 0.1, momentum: 0.9 }), train: shards(x, y, rank, world), test: evalShare(tx, ty, rank, world, stopAt),
    epochs: EPOCHS, lr: () => 0.1, progress: false, callbacks: [recorder], dataParallel, signal: controller.signal, shardedEval: true,
  });
  try {
    await trainer.fit();
  } catch (e) {
    if (!(e instanceof InterruptedError)) throw e;
    return { interrupted: { reason: e.reason, epoch: e.position.epoch }, epochs };
  }
  const after = await trainer.evaluate(evalShare(tx, ty, rank, world));
  return { epochs, evaluate: { sharded: after, whole: wholeSet(model, tx, ty) } };
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as Args;
  const rank = Number(process.env.RANK);
  const world = Number(process.env.WORLD_SIZE);
  setNumThreads(1);
  if (world > 1) initProcessGroup({ backend: 'gloo', initMethod: a.initMethod, timeoutMs: 30_000 });
  const ddp = (m: Module) => (world > 1 ? new DistributedDataParallel(m) : undefined);
  let result: object;
  if (a.mode === 'bn') result = await trainBn(rank, ddp);
  else if (a.mode === 'bn-reference') result = bnReference();
  else if (a.mode === 'eval' || a.mode === 'eval-stop') result = await trainEval(a, rank, ddp);
  else if (a.mode === 'scaler') {
    manualSeed(100 + rank);
    const model = new Mlp();
    result = scaler(rank, new DistributedDataParallel(model), model);
  } else result = await trainMlp(a, rank, ddp);
  fs.writeFileSync(a.out, JSON.stringify({ rank, world, ...result }));
  if (world > 1) destroyProcessGroup();
}

main().catch((e: Error & { code?: string }) => {
  process.stderr.write(`rank ${process.env.RANK} failed: ${e.code ?? ''} ${e.stack ?? e.message}\n`);
  process.exit(3);
});
