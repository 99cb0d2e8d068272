/**
 * Warnings for runs that will not, or do not, learn, so that a user does not wait for a run that
 * ends at chance accuracy:
 *  - before training, configurations known not to train: LeNet-5 without BatchNorm (the model's
 *    default) at 90% sparsity and more stayed at loss ln 10 = 2.303 and 10% accuracy with random
 *    ERK masks on Fashion-MNIST; with BatchNorm the same mask trains (the main job, 87% at 95%);
 *  - before training, a Sign-In reset schedule under which no reset falls within the run (a
 *    1-epoch run with the default period, a period longer than the run): the run is then the
 *    "never reset" ablation (resetPeriod 0) while its config says otherwise. A warning, not a
 *    refusal, because short runs with the default schedule are common and not wrong;
 *  - after each epoch, a training loss still at ln(classes) with chance accuracy: the network
 *    outputs the uniform distribution, whatever the reason (dead ReLUs, a vanished signal, a too
 *    large learning rate);
 *  - after the first epoch whose training loss is NaN or ±Infinity: the run diverged. Its rows
 *    keep the value and its accuracy still counts in reports (a diverged seed is a result).
 * The default stays batchNorm: false, because LeNet-5's weights are then exactly the classic
 * model's and a default change would rename existing run directories.
 */
import { resetDueAtEpoch, resetDueAtStep, resolveResetOptions } from '../signin/schedule';
import type { ExperimentConfig } from './schema';

/**
 * Whether the config's Sign-In schedule resets at least once within training, by the schedule's
 * own rule: the first candidate (after `resetPeriod` units) is due, or no later one is either.
 */
function someResetRuns(config: ExperimentConfig, stepsPerEpoch: number): boolean {
  const s = config.signin;
  const o = resolveResetOptions({ period: s.resetPeriod, unit: s.resetUnit, stopAfterEpoch: s.stopResetAfterEpoch, epochs: config.epochs });
  return o.unit === 'epochs'
    ? resetDueAtEpoch(o, o.period)
    : stepsPerEpoch > 0 && resetDueAtStep(o, o.period, Math.floor((o.period - 1) / stepsPerEpoch), stepsPerEpoch);
}

/**
 * Reasons this config is known not to train, or not to train as it says; empty when none is known.
 * `stepsPerEpoch` (the train loader's batches per epoch, at most maxTrainBatches) places a reset
 * schedule counted in steps.
 */
export function configWarnings(config: ExperimentConfig, stepsPerEpoch: number): string[] {
  const warnings: string[] = [];
  const s = config.signin;
  if (s.enabled && s.resetPeriod > 0 && !someResetRuns(config, stepsPerEpoch)) {
    const stop = s.stopResetAfterEpoch === undefined ? '' : `, signin.stopResetAfterEpoch ${s.stopResetAfterEpoch}`;
    const length = `${config.epochs} epoch${config.epochs === 1 ? '' : 's'}${s.resetUnit === 'steps' ? ` of ${stepsPerEpoch} steps` : ''}`;
    warnings.push(
      `no Sign-In reset will run: signin.resetPeriod ${s.resetPeriod} ${s.resetUnit}${stop}, training ${length} ` +
        '(a reset after the last epoch is skipped); the run trains θ = m ⊙ w without resets, as resetPeriod 0 says explicitly',
    );
  }
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
