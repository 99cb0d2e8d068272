/**
 * The inner scaling β = m² − w² that the reset schedule logs: measured before each reset (the
 * quantity that decays) and after it, against a closed form (SGD with weight decay only scales m
 * and w by (1 − ηλ) per step, so β becomes (1 − ηλ)^(2k)) and against PyTorch computing the mean
 * over kept entries from the same m, w and mask in float64. And no reset once training is over.
 */
import { SGD } from '../../../src/optim/sgd';
import {
  F, SignInResetSchedule, applySignIn, innerScaling, manualSeed, maskedLayers, resolveResetOptions, tidy, type Tensor,
} from '../../../src';
import { describeWithTorch, runTorch } from '../../helpers/torch-ref';
import { toyBatch } from '../../helpers/toy-model';
import { maskedToy, simulate } from './helpers';
import { signinFactors } from '../../../src/signin/parametrization';

beforeAll(() => manualSeed(9));

function train(model: ReturnType<typeof maskedToy>, opt: SGD, steps: number, loss: 'zero' | 'ce'): void {
  const { x, y } = toyBatch(8);
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      const out = model.forward(x);
      (loss === 'zero' ? out.sum().mul(0) : F.crossEntropy(out, y)).backward();
    });
    opt.step();
    opt.zeroGrad();
  }
  x.dispose();
  y.dispose();
}

test('weight decay alone: β before the reset is (1 − ηλ)^(2k), after it β again', () => {
  const model = maskedToy(3, 0.5);
  applySignIn(model, { beta: 1 });
  const lr = 0.1;
  const wd = 0.05;
  const k = 7;
  const opt = SGD.forModel(model, { lr, momentum: 0, weightDecay: wd });
  train(model, opt, k, 'zero');
  const schedule = new SignInResetSchedule(model, { optimizer: opt });
  const metrics: Record<string, unknown> = {};
  schedule.onEpochEnd(1, metrics);
  const expected = (1 - lr * wd) ** (2 * k);
  expect(Math.abs((metrics.betaBeforeReset as number) - expected)).toBeLessThan(2e-6 * expected);
  expect(Math.abs((metrics.betaAfterReset as number) - 1)).toBeLessThan(2e-6);
  expect(schedule.history[0].betaBefore).toBe(metrics.betaBeforeReset);
  // An epoch without a reset adds neither field.
  const none = new SignInResetSchedule(model, { period: 2 });
  const quiet: Record<string, unknown> = {};
  none.onEpochEnd(1, quiet);
  expect(quiet).toEqual({ signinResets: 0 });
  opt.dispose();
  model.dispose();
});

describeWithTorch('β over kept entries against PyTorch', () => {
  test('innerScaling and the logged β equal a float64 mean of m² − w² over mask ≠ 0', () => {
    const model = maskedToy(5, 0.4);
    applySignIn(model, { beta: (name) => (name === 'fc' ? 2 : 1) });
    const opt = SGD.forModel(model, { lr: 0.2, momentum: 0.9, weightDecay: 5e-3 });
    train(model, opt, 12, 'ce');
    const inputs: Record<string, Tensor> = {};
    for (const [name, l] of maskedLayers(model)) {
      inputs[`${name}.m`] = signinFactors(l)!.m;
      inputs[`${name}.w`] = signinFactors(l)!.w;
      inputs[`${name}.mask`] = l.mask;
    }
    const ref = runTorch(`
names = sorted({k.rsplit('.', 1)[0] for k in inp})
tot, cnt = 0.0, 0
for n in names:
    keep = inp[n + '.mask'] != 0
    b = (inp[n + '.m'].double() ** 2 - inp[n + '.w'].double() ** 2)[keep]
    js[n] = b.mean().item()
    tot += b.sum().item()
    cnt += int(keep.sum().item())
js['mean'] = tot / cnt
js['count'] = cnt
`, inputs).js as Record<string, number>;
    const s = innerScaling(model);
    expect(s.count).toBe(ref.count);
    expect(Math.abs(s.mean - ref.mean)).toBeLessThan(1e-12);
    for (const name of ['conv1', 'conv2', 'fc']) expect(Math.abs(s.perLayer[name] - ref[name])).toBeLessThan(1e-12);
    // A reset restores each layer's own β: the kept-weighted mean of 1s and 2s. Before it, SGD
    // noise and weight decay have worn β down.
    const kept = maskedLayers(model).map(([n, l]) => [n, tidy(() => l.mask.ne(0).sum().item())] as const);
    const restored = kept.reduce((a, [n, c]) => a + (n === 'fc' ? 2 : 1) * c, 0) / kept.reduce((a, [, c]) => a + c, 0);
    expect(ref.mean).toBeLessThan(restored - 0.01);

    const metrics: Record<string, unknown> = {};
    new SignInResetSchedule(model, { optimizer: opt }).onEpochEnd(1, metrics);
    expect(Math.abs((metrics.betaBeforeReset as number) - ref.mean)).toBeLessThan(1e-12);
    expect(Math.abs((metrics.betaAfterReset as number) - restored)).toBeLessThan(1e-5);
    // Per layer, in network order; weighted by the kept counts they give the mean over all layers.
    const perLayer = metrics.betaBeforeResetPerLayer as Record<string, number>;
    expect(Object.keys(perLayer)).toEqual(['conv1', 'conv2', 'fc']);
    for (const name of ['conv1', 'conv2', 'fc']) expect(Math.abs(perLayer[name] - ref[name])).toBeLessThan(1e-12);
    const weighted = kept.reduce((a, [n, c]) => a + perLayer[n] * c, 0) / kept.reduce((a, [, c]) => a + c, 0);
    expect(Math.abs(weighted - (metrics.betaBeforeReset as number))).toBeLessThan(1e-12);
    opt.dispose();
    model.dispose();
  });
});

describe('per-layer β before the resets through a checkpoint in the epoch', () => {
  /** Two models trained alike (same seed, same batches): one schedule straight, one stopped and resumed. */
  function twin(): { model: ReturnType<typeof maskedToy>; opt: SGD } {
    manualSeed(31);
    const model = maskedToy(8, 0.5);
    applySignIn(model);
    return { model, opt: SGD.forModel(model, { lr: 0.2, momentum: 0.9, weightDecay: 5e-3 }) };
  }
  const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  // Resets after every step of a 4-step epoch, the checkpoint after step 2: two resets on either side.
  const opts = { period: 1, unit: 'steps' as const };
  const stepsAndEnd = (run: ReturnType<typeof twin>, schedule: () => SignInResetSchedule, from: number, to: number) => {
    for (let step = from; step <= to; step++) {
      train(run.model, run.opt, 1, 'ce');
      schedule().onStepEnd({ step, epoch: 0, stepsPerEpoch: 4 });
    }
  };

  test('the resumed epoch writes the uninterrupted per-layer means; an older state without them, none', () => {
    const straight = twin();
    const s = new SignInResetSchedule(straight.model, { ...opts, optimizer: straight.opt });
    stepsAndEnd(straight, () => s, 1, 4);
    const expected: Record<string, unknown> = {};
    s.onEpochEnd({ step: 4, epoch: 1 }, expected);

    const stopped = twin();
    const first = new SignInResetSchedule(stopped.model, { ...opts, optimizer: stopped.opt });
    stepsAndEnd(stopped, () => first, 1, 2);
    const state = roundTrip(first.getState());
    const resumed = new SignInResetSchedule(stopped.model, { ...opts, optimizer: stopped.opt });
    resumed.setState(state);
    // An older checkpoint: the same state without the per-layer sums.
    const { epochBeforePerLayer: _sums, ...older } = state.json;
    const fromOlder = new SignInResetSchedule(stopped.model, { ...opts, optimizer: stopped.opt });
    fromOlder.setState({ json: older });
    stepsAndEnd(stopped, () => resumed, 3, 4);
    const got: Record<string, unknown> = {};
    resumed.onEpochEnd({ step: 4, epoch: 1 }, got);
    const gotOlder: Record<string, unknown> = {};
    fromOlder.onEpochEnd({ step: 4, epoch: 1 }, gotOlder);

    expect(s.history).toHaveLength(4);
    const perLayer = expected.betaBeforeResetPerLayer as Record<string, number>;
    expect(Object.keys(perLayer)).toEqual(['conv1', 'conv2', 'fc']);
    // The four resets measured different β, so a mean over the last two would differ.
    const b = s.history.map((e) => e.betaBefore);
    expect(Math.abs((b[2] + b[3]) / 2 - (b[0] + b[1] + b[2] + b[3]) / 4)).toBeGreaterThan(1e-6);
    expect(got).toEqual(expected);
    expect(gotOlder.betaBeforeReset).toBe(b.slice(0, 2).reduce((a, x) => a + x, 0) / 2);
    expect(gotOlder).not.toHaveProperty('betaBeforeResetPerLayer');
    // The next epoch of the schedule resumed from the older state has them again.
    stepsAndEnd(stopped, () => fromOlder, 5, 5);
    const next: Record<string, unknown> = {};
    fromOlder.onEpochEnd({ step: 5, epoch: 2 }, next);
    expect(Object.keys(next.betaBeforeResetPerLayer as object)).toEqual(['conv1', 'conv2', 'fc']);
    for (const run of [straight, stopped]) {
      run.opt.dispose();
      run.model.dispose();
    }
  });
});

describe('no reset once training is over', () => {
  test('epochs: every epoch but the last; steps: every period but the last step', () => {
    expect(simulate({ epochs: 3 }, 3, 4)).toEqual(['e1', 'e2']);
    expect(simulate({ period: 2, epochs: 4 }, 4, 1)).toEqual(['e2']);
    expect(simulate({ period: 2, unit: 'steps', epochs: 2 }, 2, 4)).toEqual(['s2', 's4', 's6']);
    expect(simulate({ period: 3, unit: 'steps', epochs: 2 }, 2, 4)).toEqual(['s3', 's6']);
    // Without `epochs` the schedule cannot know: it resets on schedule (the old behaviour).
    expect(simulate({}, 2, 1)).toEqual(['e1', 'e2']);
    expect(() => resolveResetOptions({ epochs: 0 })).toThrow(/Expected positive integer for epochs but received 0/);
  });

  test('through the hooks: the final epoch keeps its worn β', () => {
    const model = maskedToy(6, 0.5);
    applySignIn(model);
    const opt = SGD.forModel(model, { lr: 0.1, momentum: 0, weightDecay: 0.05 });
    const schedule = new SignInResetSchedule(model, { optimizer: opt, epochs: 2 });
    train(model, opt, 3, 'zero');
    schedule.onEpochEnd({ step: 3, epoch: 1, stepsPerEpoch: 3 });
    train(model, opt, 3, 'zero');
    const last: Record<string, unknown> = {};
    schedule.onEpochEnd({ step: 6, epoch: 2, stepsPerEpoch: 3 }, last);
    expect(schedule.history.map((e) => e.epoch)).toEqual([1]);
    expect(last.betaBeforeReset).toBeUndefined();
    expect(Math.abs(innerScaling(model).mean - 0.995 ** 6)).toBeLessThan(2e-6);
    opt.dispose();
    model.dispose();
  });
});
