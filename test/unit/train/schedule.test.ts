import { constantLr, cosineLr, createSchedule, perStep, stepLr, withWarmup } from '../../../src/train/schedule';

/** PyTorch's CosineAnnealingLR as it actually steps: the recursive (chainable) form of get_lr(). */
function torchCosineAnnealing(baseLr: number, tMax: number, etaMin: number, epochs: number): number[] {
  const lrs = [baseLr];
  let lr = baseLr;
  for (let t = 1; t <= epochs; t++) {
    if ((t - 1 - tMax) % (2 * tMax) === 0) lr += ((baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
    else lr = ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) * (lr - etaMin) + etaMin;
    lrs.push(lr);
  }
  return lrs;
}

describe('constant and step', () => {
  test('constant', () => {
    const s = constantLr(0.1);
    expect([0, 3.5, 1000].map(s)).toEqual([0.1, 0.1, 0.1]);
  });

  test('MultiStepLR: lr · gamma^(milestones passed), decayed AT the milestone epoch', () => {
    const s = stepLr(0.1, [80, 120], 0.1);
    expect(s(0)).toBe(0.1);
    expect(s(79.99)).toBe(0.1);
    expect(s(80)).toBeCloseTo(0.01, 15);
    expect(s(119)).toBeCloseTo(0.01, 15);
    expect(s(120)).toBeCloseTo(0.001, 15);
    expect(s(160)).toBeCloseTo(0.001, 15);
  });

  test('validates milestones and epochs', () => {
    expect(() => stepLr(0.1, [5, 5])).toThrow('Expected strictly increasing array of epochs >= 0 for milestones but received an array of length 2');
    expect(() => constantLr(0.1)(-1)).toThrow('Expected number >= 0 for epoch but received -1 of type number');
    expect(() => constantLr(-1)).toThrow(/for lr/);
  });
});

describe('cosine', () => {
  test('matches the closed form at fractional epochs', () => {
    const lr = 0.1;
    const T = 160;
    const s = cosineLr(lr, { totalEpochs: T });
    for (const t of [0, 0.5, 1, 37.25, 80, 159.9, 160]) {
      expect(s(t)).toBeCloseTo((lr * (1 + Math.cos((Math.PI * t) / T))) / 2, 14);
    }
    expect(s(80)).toBeCloseTo(0.05, 14);
    expect(s(200)).toBe(0);
  });

  test("equals PyTorch's CosineAnnealingLR (stepped per epoch) at every integer epoch", () => {
    for (const [T, etaMin] of [[10, 0], [10, 0.001], [160, 0]] as const) {
      const torch = torchCosineAnnealing(0.1, T, etaMin, T);
      const ours = cosineLr(0.1, { totalEpochs: T, minLr: etaMin });
      torch.forEach((v, e) => expect(ours(e)).toBeCloseTo(v, 12));
    }
  });

  test('startEpoch shifts the decay: lr until start, minLr at total', () => {
    const s = cosineLr(0.1, { totalEpochs: 90, startEpoch: 5, minLr: 0.001 });
    expect(s(0)).toBe(0.1);
    expect(s(5)).toBe(0.1);
    expect(s(47.5)).toBeCloseTo(0.001 + 0.099 / 2, 14);
    expect(s(90)).toBe(0.001);
    expect(() => cosineLr(0.1, { totalEpochs: 10, minLr: 0.2 })).toThrow(/minLr/);
  });
});

describe('warm-up', () => {
  test('linear from startFactor·peak to main(warmup), then the main schedule', () => {
    const s = withWarmup(constantLr(0.1), 5);
    expect(s(0)).toBe(0);
    expect(s(1)).toBeCloseTo(0.02, 15);
    expect(s(2.5)).toBeCloseTo(0.05, 15);
    expect(s(5)).toBe(0.1);
    const f = withWarmup(stepLr(0.1, [30, 60]), 5, 0.1);
    expect(f(0)).toBeCloseTo(0.01, 15);
    expect(f(5)).toBe(0.1);
    expect(f(30)).toBeCloseTo(0.01, 15);
    expect(withWarmup(constantLr(0.3), 0)(0)).toBe(0.3);
  });

  test('composes with cosine and is continuous at the end of the warm-up', () => {
    const s = createSchedule({ name: 'cosine', lr: 0.1, epochs: 90, warmupEpochs: 5 });
    expect(s(0)).toBe(0);
    expect(s(2.5)).toBeCloseTo(0.05, 15);
    expect(s(5 - 1e-9)).toBeCloseTo(0.1, 7);
    expect(s(5)).toBe(0.1);
    expect(s(47.5)).toBeCloseTo(0.05, 14);
    expect(s(90)).toBe(0);
  });
});

describe('createSchedule and perStep', () => {
  test('builds each schedule from config-shaped options', () => {
    expect(createSchedule({ name: 'constant', lr: 0.2, epochs: 10 })(7)).toBe(0.2);
    expect(createSchedule({ name: 'step', lr: 0.1, epochs: 10, milestones: [5], gamma: 0.5 })(6)).toBe(0.05);
    expect(createSchedule({ name: 'cosine', lr: 0.1, epochs: 10 })(5)).toBeCloseTo(0.05, 15);
    expect(() => createSchedule({ name: 'linear' as 'step', lr: 0.1, epochs: 10 })).toThrow("Expected one of 'cosine', 'step', 'constant' for schedule name but received 'linear' of type string");
  });

  test('perStep evaluates at step / stepsPerEpoch', () => {
    const s = perStep(cosineLr(0.1, { totalEpochs: 2 }), 100);
    expect(s(100)).toBeCloseTo(0.05, 15);
    expect(s(50)).toBeCloseTo((0.1 * (1 + Math.cos(Math.PI / 4))) / 2, 15);
  });
});

describe('bad arguments', () => {
  const message = (f: () => unknown): string => {
    try { f(); } catch (e) { return `${(e as { code?: string }).code}: ${(e as Error).message}`; }
    return 'no error';
  };

  test('an infinite lr, gamma, warm-up or epoch count is refused, naming it (every lr would be Infinity, NaN or 0)', () => {
    expect(message(() => constantLr(Infinity))).toMatch(/^ERR_INVALID_ARG: Expected finite number >= 0 for lr/);
    expect(message(() => stepLr(0.1, [5], Infinity))).toMatch(/^ERR_INVALID_ARG: Expected finite number >= 0 for gamma/);
    expect(message(() => cosineLr(Infinity, { totalEpochs: 10 }))).toMatch(/for lr/);
    expect(message(() => cosineLr(0.1, { totalEpochs: Infinity }))).toMatch(/for totalEpochs/);
    expect(message(() => withWarmup(constantLr(0.1), Infinity))).toMatch(/for warmupEpochs/);
    expect(message(() => perStep(constantLr(0.1), Infinity))).toMatch(/for stepsPerEpoch/);
  });

  test('a cosine decay over zero epochs is refused, as PyTorch divides by T_max = 0', () => {
    expect(message(() => cosineLr(0.1, { totalEpochs: 0 }))).toMatch(/^ERR_INVALID_ARG: Expected finite number > startEpoch \(0\) for totalEpochs but received 0/);
    expect(message(() => cosineLr(0.1, { totalEpochs: 5, startEpoch: 5 }))).toMatch(/> startEpoch \(5\) for totalEpochs/);
  });

  test('withWarmup names a main schedule that is not a function', () => {
    expect(message(() => withWarmup(0.1 as never, 5))).toMatch(/^ERR_INVALID_ARG: Expected function for main/);
  });
});
