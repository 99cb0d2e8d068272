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
    expect(configWarnings(lenet({}, 0.9), 469)).toEqual([expect.stringMatching(/^lenet5 without BatchNorm at 90% sparsity is known not to train.*set model\.options\.batchNorm to true/)]);
    expect(configWarnings(lenet({ batchNorm: false }, 0.98), 469)).toHaveLength(1);
    expect(configWarnings(lenet({ batchNorm: true }, 0.95), 469)).toEqual([]);
    expect(configWarnings(lenet({}, 0.8), 469)).toEqual([]);
  });

  describe('a Sign-In schedule under which no reset falls within the run', () => {
    const signin = (signinOpts: Record<string, unknown>, epochs: number) => parseConfig({
      dataset: { name: 'fashion_mnist' },
      model: { name: 'cifar_resnet_20' },
      pruning: { method: 'random', sparsity: 0.95 },
      signin: { enabled: true, ...signinOpts },
      epochs,
    });
    const warned = (signinOpts: Record<string, unknown>, epochs: number, stepsPerEpoch = 10) =>
      configWarnings(signin(signinOpts, epochs), stepsPerEpoch).some((w) => w.startsWith('no Sign-In reset will run'));

    it('in epochs: resets run after epochs period, 2·period, ... before the last, and up to stopResetAfterEpoch', () => {
      expect(configWarnings(signin({}, 1), 10)).toEqual([
        'no Sign-In reset will run: signin.resetPeriod 1 epochs, training 1 epoch (a reset after the last epoch is skipped); ' +
          'the run trains θ = m ⊙ w without resets, as resetPeriod 0 says explicitly',
      ]);
      expect(warned({ resetPeriod: 6 }, 6)).toBe(true);
      expect(warned({ resetPeriod: 9 }, 6)).toBe(true);
      expect(warned({ resetPeriod: 5 }, 6)).toBe(false);
      expect(warned({ resetPeriod: 2, stopResetAfterEpoch: 1 }, 6)).toBe(true);
      expect(warned({ resetPeriod: 2, stopResetAfterEpoch: 2 }, 6)).toBe(false);
    });

    it('in steps: the first reset after resetPeriod steps, not at the last step of training, in an epoch below stopResetAfterEpoch', () => {
      // 2 epochs of 10 steps: training ends at step 20.
      expect(warned({ resetUnit: 'steps', resetPeriod: 20 }, 2)).toBe(true);
      expect(warned({ resetUnit: 'steps', resetPeriod: 19 }, 2)).toBe(false);
      // Step 10 ends epoch 1 (none completed before it); step 11 runs after one epoch.
      expect(warned({ resetUnit: 'steps', resetPeriod: 10, stopResetAfterEpoch: 1 }, 2)).toBe(false);
      expect(warned({ resetUnit: 'steps', resetPeriod: 11, stopResetAfterEpoch: 1 }, 2)).toBe(true);
      expect(configWarnings(signin({ resetUnit: 'steps', resetPeriod: 20 }, 2), 10)[0]).toMatch(/^no Sign-In reset will run: signin\.resetPeriod 20 steps, training 2 epochs of 10 steps/);
    });

    it('says nothing with Sign-In off or resets off on purpose', () => {
      expect(warned({ resetPeriod: 0 }, 1)).toBe(false);
      expect(configWarnings(parseConfig({ dataset: { name: 'fashion_mnist' }, model: { name: 'cifar_resnet_20' }, pruning: { method: 'random', sparsity: 0.95 }, epochs: 1 }), 10)).toEqual([]);
    });
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
