/** Warnings for runs that will not or do not learn (ln(classes) worked out by hand). */
import { parseConfig } from '../../../src/experiments/schema';
import { configWarnings, epochWarner, notLearningWarning } from '../../../src/experiments/training-warnings';

const lenet = (options: Record<string, unknown>, sparsity: number) => parseConfig({
  dataset: { name: 'fashion_mnist' },
  model: { name: 'lenet5', options },
  pruning: { method: 'random', sparsity, scope: 'layerwise', distribution: 'erk' },
  epochs: 5,
});

describe('training warnings', () => {
  it('LeNet-5 without BatchNorm at 90% sparsity and more is flagged, with the fix', () => {
    expect(configWarnings(lenet({}, 0.9))).toEqual([expect.stringMatching(/^lenet5 without BatchNorm at 90% sparsity is known not to train.*set model\.options\.batchNorm to true/)]);
    expect(configWarnings(lenet({ batchNorm: false }, 0.98))).toHaveLength(1);
    expect(configWarnings(lenet({ batchNorm: true }, 0.95))).toEqual([]);
    expect(configWarnings(lenet({}, 0.8))).toEqual([]);
  });

  it('a loss at ln(classes) with chance accuracy is "not learning"; a loss below it is not', () => {
    // ln 10 = 2.302585: the loss of the uniform prediction over 10 classes
    expect(notLearningWarning({ epoch: 1, trainLoss: 2.3026, trainAcc: 0.1 }, 10)).toMatch(/^epoch 1: the training loss 2\.303 is still ln\(10\) = 2\.303 and the accuracy 10\.0% is chance/);
    expect(notLearningWarning({ epoch: 1, trainLoss: 2.2, trainAcc: 0.12 }, 10)).toBeUndefined();
    expect(notLearningWarning({ epoch: 1, trainLoss: 2.30, trainAcc: 0.4 }, 10)).toBeUndefined();
    // ln 100 = 4.60517
    expect(notLearningWarning({ epoch: 3, trainLoss: 4.6, trainAcc: 0.011 }, 100)).toMatch(/ln\(100\) = 4\.605/);
  });

  it('a training loss that is not finite says "training diverged", once, and never that it is still ln(classes)', () => {
    expect(notLearningWarning({ epoch: 1, trainLoss: NaN, trainAcc: 0.1 }, 10)).toBeUndefined();
    const warn = epochWarner(10);
    expect(warn({ epoch: 1, trainLoss: 2.3026, trainAcc: 0.1 })).toMatch(/^epoch 1: the training loss 2\.303 is still ln\(10\)/);
    expect(warn({ epoch: 2, trainLoss: NaN, trainAcc: 0.11 })).toMatch(/^training diverged: loss NaN at epoch 2 /);
    expect(warn({ epoch: 3, trainLoss: NaN, trainAcc: 0.1 })).toBeUndefined();
    expect(epochWarner(10)({ epoch: 4, trainLoss: -Infinity, trainAcc: 0.5 })).toMatch(/^training diverged: loss -Infinity at epoch 4 /);
  });
});
