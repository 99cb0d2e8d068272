/**
 * Warnings for runs that will not, or do not, learn, so that a user does not wait for a run that
 * ends at chance accuracy:
 *  - before training, configurations known not to train: LeNet-5 without BatchNorm (the model's
 *    default) at 90% sparsity and more stayed at loss ln 10 = 2.303 and 10% accuracy with random
 *    ERK masks on Fashion-MNIST; with BatchNorm the same mask trains (the main job, 87% at 95%);
 *  - after each epoch, a training loss still at ln(classes) with chance accuracy: the network
 *    outputs the uniform distribution, whatever the reason (dead ReLUs, a vanished signal, a too
 *    large learning rate);
 *  - after the first epoch whose training loss is NaN or ±Infinity: the run diverged. Its rows
 *    keep the value and its accuracy still counts in reports (a diverged seed is a result).
 * The default stays batchNorm: false, because LeNet-5's weights are then exactly the classic
 * model's and a default change would rename existing run directories.
 */
import type { ExperimentConfig } from './schema';

/** Reasons this config is known not to train; empty when none is known. */
export function configWarnings(config: ExperimentConfig): string[] {
  const warnings: string[] = [];
  const { method, sparsity } = config.pruning;
  if (config.model.name === 'lenet5' && config.model.options.batchNorm !== true && method !== 'none' && sparsity >= 0.9) {
    warnings.push(
      `lenet5 without BatchNorm at ${Math.round(sparsity * 100)}% sparsity is known not to train (loss stays at 2.303, ` +
        "accuracy at chance): set model.options.batchNorm to true (the main job's setting) or lower pruning.sparsity",
    );
  }
  return warnings;
}

/** A message when an epoch's training loss is within 1% of ln(numClasses) at chance accuracy. */
export function notLearningWarning(row: { epoch: number; trainLoss: number; trainAcc: number }, numClasses: number): string | undefined {
  const uniformLoss = Math.log(numClasses);
  // Every comparison with NaN is false: the distance test below would let a NaN loss through.
  if (numClasses < 2 || !Number.isFinite(row.trainLoss) || Math.abs(row.trainLoss - uniformLoss) > 0.01 * uniformLoss || row.trainAcc > 1.5 / numClasses) return undefined;
  return `epoch ${row.epoch}: the training loss ${row.trainLoss.toFixed(3)} is still ln(${numClasses}) = ${uniformLoss.toFixed(3)} ` +
    `and the accuracy ${(100 * row.trainAcc).toFixed(1)}% is chance: the network is not learning ` +
    '(with a sparse mask, try BatchNorm or a lower sparsity; otherwise a lower learning rate)';
}

/**
 * The warnings of each epoch's row, in epoch order: the divergence one at the first epoch whose
 * training loss is not finite (every later one usually is too, and one line says it all), else
 * notLearningWarning's.
 */
export function epochWarner(numClasses: number): (row: { epoch: number; trainLoss: number; trainAcc: number }) => string | undefined {
  let diverged = false;
  return (row) => {
    if (Number.isFinite(row.trainLoss)) return notLearningWarning(row, numClasses);
    if (diverged) return undefined;
    diverged = true;
    return `training diverged: loss ${row.trainLoss} at epoch ${row.epoch} (the run goes on and its accuracy is reported; ` +
      'a lower optimizer.lr, schedule.warmupEpochs or gradClip may help)';
  };
}
