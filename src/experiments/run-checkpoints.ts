/**
 * The checkpoints a run directory holds at an epoch's end: those it kept for good
 * (checkpoint.keepEpochs / keepEvery) and its rolling two, each with its header's position. A
 * transfer's source epoch and `signin-torch evaluate --epoch` are looked up here.
 */
import * as fs from 'node:fs';
import { readCheckpointInfo, type CheckpointInfo } from '../train/checkpoint';
import { runPaths } from './paths';
import { keptCheckpoints } from './runs';

export interface EpochCheckpoint {
  file: string;
  info: CheckpointInfo;
}

/** Kept checkpoints first, so that an epoch held twice is read from the file that stays; then the newest rolling one. */
export function epochCheckpoints(runDir: string): EpochCheckpoint[] {
  const paths = runPaths(runDir);
  return [...keptCheckpoints(runDir).map((k) => k.file), paths.checkpoint, paths.checkpointPrev]
    .filter((f) => fs.existsSync(f)).map((file) => ({ file, info: readCheckpointInfo(file) }))
    // A checkpoint in an epoch's middle (a signal, checkpoint.everySteps) holds no epoch's end.
    .filter((c) => !c.info.position.batch);
}

/** The epochs of `held`, ascending, for an error that names what there is ('none' when nothing). */
export function heldEpochs(held: readonly EpochCheckpoint[]): string {
  const epochs = [...new Set(held.map((c) => c.info.position.epoch))].sort((a, b) => a - b);
  return epochs.length === 0 ? 'none' : epochs.join(', ');
}
