/**
 * Iterative pruning schedules (Synaptic-Flow's prune_loop): the density after round k of n, going
 * from a start density S (1 for an unpruned model) to a final density D.
 * exponential: S·(D/S)^(k/n) (each round removes the same fraction of what is left; S = 1 gives
 * Synaptic-Flow's D^(k/n)); linear: S − (S − D)·k/n. The last round always lands exactly on D.
 */
import { InvalidArgumentError } from '../errors';
import { MAX_LIST_LENGTH, oneOf } from '../validate';

export const SCHEDULES = ['exponential', 'linear'] as const;
export type Schedule = (typeof SCHEDULES)[number];

export function scheduleDensities(density: number, rounds: number, schedule: Schedule = 'exponential', start = 1): number[] {
  if (typeof density !== 'number' || !(density >= 0 && density <= 1)) throw new InvalidArgumentError('density', 'number in [0, 1]', density);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_LIST_LENGTH) {
    throw new InvalidArgumentError('iterations', `integer in [1, ${MAX_LIST_LENGTH}]`, rounds);
  }
  oneOf('schedule', schedule, SCHEDULES);
  if (typeof start !== 'number' || !(start >= density && start <= 1)) throw new InvalidArgumentError('start', `number in [${density}, 1]`, start);
  const out: number[] = [];
  for (let k = 1; k <= rounds; k++) {
    if (k === rounds) out.push(density);
    else if (schedule === 'exponential') out.push(density === 0 ? 0 : start * (density / start) ** (k / rounds));
    else out.push(start - (start - density) * (k / rounds));
  }
  return out;
}
