/**
 * Pruning stopped on purpose by its abort signal (the CLI's SIGINT / SIGTERM). Its own class, not
 * train/'s InterruptedError: pruning sits below train/ (architecture.md), and a stop here has no
 * step, no checkpoint and nothing to resume: the run starts again from its seeded initialization.
 */
import { ToolkitError } from '../errors';

export class PruningInterruptedError extends ToolkitError {
  /**
   * @param reason the signal's reason as given (the CLI gives the signal's name).
   * @param round the rounds finished before the stop; the model holds their masks.
   * @param rounds the rounds the prune would have run.
   */
  constructor(readonly reason: unknown, readonly round: number, readonly rounds: number, readonly method: string) {
    super('ERR_INTERRUPTED', pruningInterruptedMessage(reason, round, rounds, method));
  }
}

/** Never fails, whatever it is given (an error class's text must not hide the failure it reports). */
function pruningInterruptedMessage(reason: unknown, round: unknown, rounds: unknown, method: unknown): string {
  const by = typeof reason === 'string' ? reason : 'its abort signal';
  const n = (v: unknown): string => (typeof v === 'number' ? String(v) : '?');
  const where = round === 0 ? `before the first of its ${n(rounds)} rounds` : `after round ${n(round)} of ${n(rounds)}`;
  return `Pruning (${typeof method === 'string' ? method : '?'}) interrupted by ${by} ${where}; no mask or checkpoint saved, nothing to resume from: run the same command again to start over`;
}
