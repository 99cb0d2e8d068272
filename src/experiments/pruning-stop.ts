/**
 * How the ranks of a data-parallel run agree to stop pruning at initialization at the same round.
 * Each rank prunes its own copy of the model and reads its own signal between rounds; the launcher
 * (or torchrun, or a user's `kill` of one worker) does not reach them at the same instant, so a
 * rank that passed its last check just before its signal came would go on to its first collective
 * alone and fail there (ERR_DISTRIBUTED, exit 1) while the others stop (measured: Gloo's
 * "Connection closed by peer" in the broadcast of DistributedDataParallel).
 */
import type { DataParallelContext } from '../distributed/data-parallel';
import { signalName, signalNumber } from '../train/interrupt';

/**
 * pruneModel's stopOverRanks for a data-parallel context (undefined with one process): at every
 * check the ranks gather their stops and each stops when any rank does, with its own signal's
 * reason, else with the first stopped rank's signal (which the CLI turns into its exit code, as the
 * Trainer's per-step agreement does). One gather of 2 numbers per round.
 */
export function pruningStopOverRanks(dp: DataParallelContext): ((reason: unknown) => unknown) | undefined {
  if (dp.worldSize === 1) return undefined;
  return (reason: unknown): unknown => {
    const stops = dp.gatherNumbers(reason === undefined ? [0, 0] : [1, signalNumber(reason)]);
    if (reason !== undefined) return reason;
    const first = stops.findIndex(([stopped]) => stopped === 1);
    if (first === -1) return undefined;
    return signalName(stops[first][1]) ?? `the abort signal of rank ${first}`;
  };
}
