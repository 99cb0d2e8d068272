/**
 * SignInResetSchedule: when resets happen (steps, epochs, stopAfterEpoch), the trainer-context
 * form of the hooks, and what a reset does: outputs unchanged, m² − w² = β restored, momentum
 * buffers kept or zeroed.
 */
import { SGD } from '../../../src/optim/sgd';
import {
  F, SignInResetSchedule, applySignIn, keep, manualSeed, maskedLayers, memory, noGrad, resetSignIn, resolveResetOptions, tidy,
} from '../../../src';
import { toyBatch } from '../../helpers/toy-model';
import { maskedToy, maxDiff, outsideMask, simulate } from './helpers';
import { signinFactors } from '../../../src/signin/parametrization';

beforeAll(() => manualSeed(5));

describe('reset timing', () => {
  it("defaults: every epoch, keep momentum, each layer's own β", () => {
    expect(resolveResetOptions()).toEqual({ period: 1, unit: 'epochs', stopAfterEpoch: undefined, epochs: undefined, momentum: 'keep', beta: undefined });
    expect(simulate({}, 3, 4)).toEqual(['e1', 'e2', 'e3']);
  });

  it('every p epochs, counting completed epochs', () => {
    expect(simulate({ period: 2 }, 7, 3)).toEqual(['e2', 'e4', 'e6']);
    expect(simulate({ period: 3, unit: 'epochs' }, 7, 1)).toEqual(['e3', 'e6']);
  });

  it('every p steps, counting completed steps across epochs', () => {
    expect(simulate({ period: 5, unit: 'steps' }, 3, 4)).toEqual(['s5', 's10']);
    expect(simulate({ period: 1, unit: 'steps' }, 1, 3)).toEqual(['s1', 's2', 's3']);
  });

  it('stopAfterEpoch: epochs up to and including it, steps inside those epochs', () => {
    expect(simulate({ period: 1, stopAfterEpoch: 3 }, 6, 2)).toEqual(['e1', 'e2', 'e3']);
    expect(simulate({ period: 2, stopAfterEpoch: 5 }, 10, 1)).toEqual(['e2', 'e4']);
    // 4 steps per epoch, stop after epoch 2: steps 1..8 are in epochs 1-2.
    expect(simulate({ period: 3, unit: 'steps', stopAfterEpoch: 2 }, 4, 4)).toEqual(['s3', 's6']);
    expect(simulate({ period: 1, stopAfterEpoch: 0 }, 3, 1)).toEqual([]);
  });

  it('rejects bad options naming them', () => {
    expect(() => resolveResetOptions({ period: 0 })).toThrow(/Expected positive integer for period but received 0 of type number/);
    expect(() => resolveResetOptions({ unit: 'iterations' as never })).toThrow(/Expected one of 'epochs', 'steps' for unit but received 'iterations'/);
    expect(() => resolveResetOptions({ momentum: 'reset' as never })).toThrow(/Expected one of 'keep', 'zero' for momentum/);
    expect(() => resolveResetOptions({ beta: 0 })).toThrow(/Expected finite number > 0 or a function of the layer for beta but received 0/);
    expect(() => resolveResetOptions({ stopAfterEpoch: 1.5 })).toThrow(/Expected non-negative integer for stopAfterEpoch/);
  });

  it('the hooks take numbers or the trainer context, and record what they did', () => {
    const model = maskedToy(1);
    applySignIn(model);
    const s = new SignInResetSchedule(model, { period: 2, unit: 'steps', stopAfterEpoch: 1 });
    s.onStepEnd(1, 0);
    s.onStepEnd(2, 0);
    s.onStepEnd({ step: 4, epoch: 0 });
    s.onStepEnd({ step: 6, epoch: 1 }); // in epoch 2: after stopAfterEpoch
    const metrics: Record<string, unknown> = {};
    s.onEpochEnd({ step: 6, epoch: 1 }, metrics); // unit 'steps': nothing at epoch ends
    expect(s.history.map(({ step, epoch, layers }) => ({ step, epoch, layers }))).toEqual([{ step: 2, epoch: 0, layers: 3 }, { step: 4, epoch: 0, layers: 3 }]);
    expect(metrics.signinResets).toBe(2);
    const e = new SignInResetSchedule(model, { period: 1 });
    e.onStepEnd(1, 0);
    e.onEpochEnd(1);
    e.onEpochEnd({ step: 10, epoch: 2 });
    expect(e.history.map(({ step, epoch, layers }) => ({ step, epoch, layers }))).toEqual([{ step: undefined, epoch: 1, layers: 3 }, { step: 10, epoch: 2, layers: 3 }]);
    expect(e.name).toBe('signin-reset');
    model.dispose();
  });
});

describe('what a reset does', () => {
  function trained(momentum: number, weightDecay: number) {
    const model = maskedToy(2, 0.5);
    applySignIn(model);
    const opt = SGD.forModel(model, { lr: 0.2, momentum, weightDecay });
    const { x, y } = toyBatch(8);
    for (let s = 0; s < 6; s++) {
      tidy(() => F.crossEntropy(model.forward(x), y).backward());
      opt.step();
      opt.zeroGrad();
    }
    return { model, opt, x, y };
  }

  function betas(model: ReturnType<typeof maskedToy>): number[][] {
    return maskedLayers(model).map(([, l]) => tidy(() => {
      const s = signinFactors(l)!;
      const b = s.m.square().sub(s.w.square()).toArray();
      const mask = l.mask.toArray();
      return b.filter((_, i) => mask[i] !== 0);
    }));
  }

  it('never changes outputs (train mode) and restores m² − w² = β', () => {
    const { model, opt, x } = trained(0.9, 0.05);
    // Weight decay shrank β below 1.
    expect(Math.max(...betas(model).flat())).toBeLessThan(0.999);
    model.train();
    const before = keep(noGrad(() => model.forward(x)));
    const layers = resetSignIn(model, { optimizer: opt });
    expect(layers).toBe(3);
    const after = keep(noGrad(() => model.forward(x)));
    const d = maxDiff(after, before);
    expect(d.abs).toBeLessThanOrEqual(1e-5 * Math.max(1, d.scale));
    for (const b of betas(model).flat()) expect(b).toBeCloseTo(1, 5);
    for (const [, l] of maskedLayers(model)) {
      expect(tidy(() => signinFactors(l)!.m.mul(signinFactors(l)!.w).toArray())).toEqual(l.weight.toArray());
      expect(outsideMask(l.weight, l.mask).every((v) => v === 0)).toBe(true);
    }
    before.dispose();
    after.dispose();
    opt.dispose();
    model.dispose();
  });

  it('eval outputs are unchanged too; β can be changed at a reset', () => {
    const { model, opt, x } = trained(0.9, 0.05);
    model.eval();
    const before = keep(noGrad(() => model.forward(x)));
    new SignInResetSchedule(model, { optimizer: opt, beta: 2 }).resetNow();
    const after = keep(noGrad(() => model.forward(x)));
    const d = maxDiff(after, before);
    expect(d.abs).toBeLessThanOrEqual(1e-5 * Math.max(1, d.scale));
    for (const b of betas(model).flat()) expect(b).toBeCloseTo(2, 5);
    expect(signinFactors(model.fc)!.beta).toBe(2);
    before.dispose();
    after.dispose();
    opt.dispose();
    model.dispose();
  });

  it("by default a reset restores each layer's own β (per-layer β from applySignIn)", () => {
    const model = maskedToy(4, 0.5);
    applySignIn(model, { beta: (name) => (name === 'fc' ? 3 : 1) });
    noGrad(() => {
      for (const [, l] of maskedLayers(model)) signinFactors(l)!.m.mul_(1.1); // disturb β (θ is not used here)
    });
    new SignInResetSchedule(model).onEpochEnd(1);
    const [c1, c2, fc] = betas(model);
    for (const b of [...c1, ...c2]) expect(b).toBeCloseTo(1, 5);
    for (const b of fc) expect(b).toBeCloseTo(3, 5);
    model.dispose();
  });

  it("momentum 'keep' keeps the buffers (masked), 'zero' zeroes them; both from the optimizer", () => {
    const { model, opt } = trained(0.9, 0);
    const bufs = () => maskedLayers(model).map(([, l]) => {
      const b = opt.entryBuffers(l.weight)!;
      return [b.m.toArray(), b.w.toArray()];
    });
    const before = bufs();
    expect(before.flat(2).some((v) => v !== 0)).toBe(true);
    new SignInResetSchedule(model, { momentum: 'keep', optimizer: opt }).onEpochEnd(1);
    expect(bufs()).toEqual(before);
    // The trainer passes its optimizer in the context.
    new SignInResetSchedule(model, { momentum: 'zero' }).onEpochEnd({ step: 6, epoch: 1, optimizer: opt });
    expect(bufs().flat(2).every((v) => v === 0)).toBe(true);
    expect(() => new SignInResetSchedule(model, { momentum: 'zero' }).onEpochEnd(1)).toThrow(/for optimizer/);
    opt.dispose();
    model.dispose();
  });

  it('a reset leaks no tensors', () => {
    const { model, opt, x, y } = trained(0.9, 0);
    const before = memory().numTensors;
    resetSignIn(model, { optimizer: opt, zeroMomentum: true });
    resetSignIn(model);
    expect(memory().numTensors).toBe(before);
    opt.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  });
});
