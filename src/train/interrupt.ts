/**
 * Stopping a training run early on purpose (a signal the CLI turned into an AbortSignal): the
 * error Trainer.fit rejects with, so that no caller takes a stopped run for a finished one.
 */
import { constants } from 'node:os';
import { ToolkitError } from '../errors';

/** Where a run stopped: `epoch` epochs done, then `batch` steps of the next (0 at an epoch's end). */
export interface StopPosition {
  epoch: number;
  step: number;
  batch: number;
}

/**
 * Training stopped at a step boundary because its signal was aborted. `reason` is the signal's
 * reason as given (the CLI gives the signal's name); `checkpoint` is the file that holds the run
 * at `position`, when one was written (the trainer leaves it to a callback, runner.ts writes it).
 */
export class InterruptedError extends ToolkitError {
  constructor(readonly reason: unknown, readonly position: StopPosition, readonly stepsPerEpoch: number, readonly checkpoint?: string) {
    super('ERR_INTERRUPTED', interruptedMessage(reason, position, stepsPerEpoch, checkpoint));
  }

  /** signalExitCode of the reason. */
  get exitCode(): number {
    return signalExitCode(this.reason);
  }
}

const SIGNAL_NUMBERS = constants.signals as Record<string, number>;

/** The number of the signal a reason names ('SIGTERM': 15); 0 for any other reason. */
export function signalNumber(reason: unknown): number {
  return typeof reason === 'string' && Object.hasOwn(SIGNAL_NUMBERS, reason) ? SIGNAL_NUMBERS[reason] : 0;
}

/** The name of signal number `n` ('SIGTERM' for 15); undefined for any other number. */
export function signalName(n: number): string | undefined {
  return Object.keys(SIGNAL_NUMBERS).find((k) => SIGNAL_NUMBERS[k] === n);
}

/** A shell's code for a process ended by the signal a reason names: 130 for 'SIGINT', 143 for 'SIGTERM'; 1 for any other reason. */
export function signalExitCode(reason: unknown): number {
  const n = signalNumber(reason);
  return n === 0 ? 1 : 128 + n;
}

/** Never fails, whatever it is given (an error class's text must not hide the failure it reports). */
function interruptedMessage(reason: unknown, position: StopPosition, stepsPerEpoch: number, checkpoint: string | undefined): string {
  const p = (typeof position === 'object' && position !== null ? position : {}) as Partial<Record<keyof StopPosition, unknown>>;
  const n = (v: unknown): number => (typeof v === 'number' ? v : NaN);
  const [epoch, step, batch] = [n(p.epoch), n(p.step), n(p.batch)];
  const by = typeof reason === 'string' ? reason : 'its abort signal';
  const where = batch > 0 ? `in epoch ${epoch + 1} after ${batch} of its ${n(stepsPerEpoch)} steps (step ${step})` : `after epoch ${epoch} (step ${step})`;
  const saved = typeof checkpoint === 'string' ? `checkpoint ${checkpoint}` : 'no checkpoint written';
  return `Training interrupted by ${by} ${where}; ${saved}: run the same command again to resume`;
}
