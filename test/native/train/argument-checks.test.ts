/**
 * Issue 10 regressions: the train/ entry points refuse junk with coded errors (naming the
 * argument) before they walk a list or touch a tensor, and still compute what they did.
 */
import { Linear, tensor, tidy } from '../../../src';
import { clipGradNorm } from '../../../src/train/clip';
import { topHessianEigenvalue } from '../../../src/train/hessian';
import { topkCorrect } from '../../../src/train/metrics';
import { createSchedule } from '../../../src/train/schedule';
import { Trainer } from '../../../src/train/trainer';

const invalid = (re: RegExp) => expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(re) });

it('clipGradNorm refuses a sparse list of length 2^32-1 at once, and clips as before', () => {
  expect(() => clipGradNorm(new Array(2 ** 32 - 1), 1)).toThrow(invalid(/for params/));
  expect(() => clipGradNorm([], -1)).toThrow(invalid(/for maxNorm/));
  tidy(() => {
    const p = tensor([3, 4]).requiresGrad_(true);
    p.mul(p).mul(0.5).sum().backward();
    // The gradient is p itself, norm 5 (3-4-5): scaled by 1 / (5 + 1e-6).
    expect(clipGradNorm([p], 1)).toBeCloseTo(5, 5);
    const g = p.grad!.toArray() as number[];
    expect(g[0]).toBeCloseTo(3 / 5, 5);
    expect(g[1]).toBeCloseTo(4 / 5, 5);
  });
});

it('topkCorrect wants 2-D logits, a target tensor and positive ks', () => {
  tidy(() => {
    const logits = tensor([[0.1, 0.9], [0.8, 0.2]]);
    const target = tensor([1, 1], { dtype: 'int64' });
    expect(() => topkCorrect(tensor([1, 2]), target, [1])).toThrow(invalid(/2-D Tensor .*for logits/));
    expect(() => topkCorrect(logits, [1, 1] as never, [1])).toThrow(invalid(/for target/));
    expect(() => topkCorrect(logits, target, [])).toThrow(invalid(/for ks/));
    expect(() => topkCorrect(logits, target, [0])).toThrow(invalid(/for ks/));
    expect(topkCorrect(logits, target, [1, 2])).toEqual([1, 2]);
  });
});

it('createSchedule refuses a non-object and an unknown name; step milestones are bounded first', () => {
  expect(() => createSchedule(null as never)).toThrow(invalid(/for options/));
  expect(() => createSchedule({ name: 'linear' as never, lr: 0.1, epochs: 2 })).toThrow(invalid(/for schedule name/));
  expect(() => createSchedule({ name: 'step', lr: 0.1, epochs: 2, milestones: new Array(2 ** 32 - 1) })).toThrow(invalid(/for milestones/));
  expect(() => createSchedule({ name: 'step', lr: 0.1, epochs: 4, milestones: [2, 2] })).toThrow(invalid(/strictly increasing/));
  expect(createSchedule({ name: 'step', lr: 0.1, epochs: 4, milestones: [1, 3], gamma: 0.5 })(3)).toBeCloseTo(0.025, 12);
});

it('topHessianEigenvalue wants one mask per parameter', () => {
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_(true);
    const loss = () => x.mul(x).sum();
    expect(() => topHessianEigenvalue([x], [loss], { masks: [] })).toThrow(invalid(/array of 1 masks, one per parameter for masks/));
    expect(() => topHessianEigenvalue([x], ['loss' as never])).toThrow(invalid(/for losses/));
    expect(() => topHessianEigenvalue([x], [loss], { generator: 1 as never })).toThrow(invalid(/for options.generator/));
  });
});

it('the Trainer names the option at fault', async () => {
  const model = new Linear(2, 2);
  const optimizer = { lr: 0, step() {}, zeroGrad() {}, stateDict: () => new Map(), loadStateDict() {} };
  const train = { length: 1, async *[Symbol.asyncIterator]() {} };
  const base = { model, optimizer, train, epochs: 1, lr: () => 0.1 };
  expect(() => new Trainer(undefined as never)).toThrow(invalid(/for options/));
  expect(() => new Trainer({ ...base, model: {} as never })).toThrow(invalid(/Module for model/));
  expect(() => new Trainer({ ...base, optimizer: { ...optimizer, step: 1 } as never })).toThrow(invalid(/for optimizer.step/));
  expect(() => new Trainer({ ...base, train: [] as never })).toThrow(invalid(/for train/));
  expect(() => new Trainer({ ...base, test: { length: -1, [Symbol.asyncIterator]: train[Symbol.asyncIterator] } })).toThrow(invalid(/for test.length/));
  expect(() => new Trainer({ ...base, lr: 0.1 as never })).toThrow(invalid(/for lr/));
  expect(() => new Trainer({ ...base, callbacks: new Array(2 ** 32 - 1) })).toThrow(invalid(/for callbacks/));
  const trainer = new Trainer(base);
  expect(trainer.ctx.stepsPerEpoch).toBe(1);
  expect(() => trainer.setPosition(-1, 0)).toThrow(invalid(/for epoch/));
  await expect(trainer.evaluate({} as never)).rejects.toThrow(invalid(/for source/));
  model.parameters().forEach((p) => p.dispose());
});
