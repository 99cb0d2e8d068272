/**
 * Gradient accumulation (TrainerOptions.gradAccumSteps, the config's gradAccumSteps): each batch
 * split into micro-batches, their gradients accumulated before one optimizer step.
 *
 * References: without training-mode BatchNorm, the unsplit batch through the same Trainer (the
 * mean loss of a batch is the share-weighted sum of its micro-batches' mean losses, so both give
 * the same step to float32 rounding); with BatchNorm, the loop a PyTorch user writes by hand
 * (forward, weighted backward per micro-batch, one step), in which each micro-batch is normalized
 * by its own statistics and moves the running ones once.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as pino from 'pino';
import {
  F, Generator, MaskedLinear, ReLU, SGD, Sequential, SignInResetSchedule, applySignIn, keep, manualSeed, noGrad, randint, randn, tidy,
  type Module, type Tensor,
} from '../../../src';
import { Trainer } from '../../../src/train/trainer';
import { errorOf } from '../../helpers/error-of';
import { batchesOf, createToyModel } from '../../helpers/toy-model';

const silent = pino.default({ level: 'silent' });

interface Data { x: Tensor; y: Tensor }

function data(batches: number[], features: number[], seed: number): Data[] {
  const gen = new Generator(seed);
  return batches.map((n) => tidy(() => ({ x: keep(randn([n, ...features], { generator: gen })), y: keep(randint(0, 10, [n], { generator: gen })) })));
}


function state(model: Module): Record<string, number[]> {
  return Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, Array.from(t.data(), Number)]));
}

function maxDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  return Math.max(...Object.keys(a).flatMap((k) => a[k].map((v, i) => Math.abs(v - b[k][i]))));
}

function mlp(): Sequential {
  manualSeed(5);
  return new Sequential(new MaskedLinear(12, 24), new ReLU(), new MaskedLinear(24, 10));
}

/** Sign-In on a masked MLP, SGD with Nesterov momentum and weight decay, clipping, label smoothing, a reset every 2 steps. */
async function trainMlp(train: Data[], gradAccumSteps: number | undefined): Promise<{ state: Record<string, number[]>; loss: number; acc: number; norms: number[] }> {
  const model = mlp();
  const gen = new Generator(9);
  for (const layer of [model.at(0), model.at(2)] as MaskedLinear[]) layer.setMask(randn(layer.weight.shape, { generator: gen }).gt(0));
  applySignIn(model);
  const optimizer = SGD.forModel(model, { lr: 0.2, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const norms: number[] = [];
  const trainer = new Trainer({
    model, optimizer, train: batchesOf(train), epochs: 2, lr: () => 0.2, labelSmoothing: 0.1, gradClipNorm: 0.5, progress: false, logger: silent,
    gradAccumSteps,
    callbacks: [
      new SignInResetSchedule(model, { period: 2, unit: 'steps', optimizer }),
      { name: 'norms', onAfterBackward: (ctx) => { norms.push(noGrad(() => tidy(() => Math.sqrt(ctx.model.parameters().reduce((s, p) => s + p.grad!.to('float64').pow(2).sum().item(), 0))))); } },
    ],
  });
  const last = await trainer.fit();
  return { state: state(model), loss: last!.trainLoss, acc: last!.trainAcc!, norms };
}

describe('gradient accumulation', () => {
  it('steps as the unsplit batch does without BatchNorm (Sign-In, momentum, clipping, label smoothing), even splits or not', async () => {
    // Batches of 12, 12 and a last one of 7: split in 3 (4+4+4, and 2+2+3), in 5 (2+3+2+3+2, and
    // 1+1+2+1+2) and in 12 (one sample each; the last batch in 7).
    const train = data([12, 12, 7], [12], 1);
    const whole = await trainMlp(train, undefined);
    expect(whole.norms).toHaveLength(6);
    for (const k of [3, 5, 12]) {
      const split = await trainMlp(train, k);
      expect({ k, d: maxDiff(split.state, whole.state) < 2e-6 }).toEqual({ k, d: true });
      // The clipped gradient norm each step saw: the whole batch's, not the last micro-batch's.
      split.norms.forEach((n, i) => expect({ k, i, rel: Math.abs(n - whole.norms[i]) / whole.norms[i] < 1e-5 }).toEqual({ k, i, rel: true }));
      expect(Math.abs(split.loss - whole.loss)).toBeLessThan(1e-6);
      expect(split.acc).toBe(whole.acc);
    }
  });

  it('with training-mode BatchNorm, matches the hand-written accumulation loop (each micro-batch its own statistics)', async () => {
    const train = data([8, 8], [1, 8, 8], 2);
    manualSeed(3);
    const model = createToyModel({ width: 4 });
    const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
    await new Trainer({ model, optimizer, train: batchesOf(train), epochs: 1, lr: () => 0.1, progress: false, logger: silent, gradAccumSteps: 2 }).fit();

    manualSeed(3);
    const ref = createToyModel({ width: 4 });
    const refOpt = SGD.forModel(ref, { lr: 0.1, momentum: 0.9 });
    ref.train();
    for (const b of train) {
      tidy(() => {
        for (const lo of [0, 4]) F.crossEntropy(ref.forward(b.x.narrow(0, lo, 4)), b.y.narrow(0, lo, 4)).mul(0.5).backward();
        refOpt.step();
      });
      refOpt.zeroGrad();
    }
    expect(maxDiff(state(model), state(ref))).toBeLessThan(1e-6);
    // Two micro-batches a step moved the running statistics twice a step.
    expect(state(model)['bn1.num_batches_tracked']).toEqual([4]);
  });

  it('is refused unless a positive integer, naming gradAccumSteps', () => {
    const model = mlp();
    for (const bad of [0, 2.5, -1, '2', Number.NaN]) {
      const e = errorOf(() => new Trainer({ model, optimizer: SGD.forModel(model, { lr: 0.1 }), train: batchesOf([]), epochs: 1, lr: () => 0.1, gradAccumSteps: bad as number }));
      expect({ bad, code: e.code, named: /gradAccumSteps/.test(e.message) }).toEqual({ bad, code: 'ERR_INVALID_ARG', named: true });
    }
  });

  it('holds the activations of one micro-batch at a time (peak bytes in use, each in a fresh process)', () => {
    const peak = (k: number): number => {
      const r = spawnSync(path.join(__dirname, '../../../node_modules/.bin/tsx'), [path.join(__dirname, 'grad-accumulation-peak.ts'), String(k)], { encoding: 'utf8' });
      expect({ k, status: r.status, stderr: r.stderr }).toEqual({ k, status: 0, stderr: '' });
      return Number(r.stdout.trim());
    };
    const [one, four] = [peak(1), peak(4)];
    // A batch of 2048 through layers 1024 wide: activations of 8 MiB each (a layer's input, its ReLU's output, their gradients), a quarter of that split in 4.
    expect(one - four).toBeGreaterThan(24 * 2 ** 20);
  });
});
