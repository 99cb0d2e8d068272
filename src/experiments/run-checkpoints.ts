/**
 * The checkpoints a run directory holds and the model they restore: those kept for good
 * (checkpoint.keepEpochs / keepEvery) and the rolling two, each with its header's position. A
 * transfer's source epoch, `signin-torch evaluate` and `signin-torch export` find theirs here.
 */
import * as fs from 'node:fs';
import { systemErrorText } from '../atomic';
import { statIfAny } from '../bounded-read';
import { InvalidArgumentError } from '../errors';
import { createModel, type Model } from '../models';
import { applySignIn } from '../signin';
import { loadCheckpointModel, readCheckpointInfo, type CheckpointInfo } from '../train/checkpoint';
import { str } from '../validate';
import { runPaths } from './paths';
import { modelOptionsFor, signInOptionsFor } from './resolve';
import { keptCheckpoints } from './runs';
import type { ExperimentConfig } from './schema';

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

/** statIfAny of a path argument: a path under a file, or one that cannot be read, is named. */
export function statArg(name: string, p: string): fs.Stats | undefined {
  return statIfAny(p, (e) => new InvalidArgumentError(name, `a path that can be read (${systemErrorText(e)})`, p));
}

/** Which checkpoint of a run: the one after `epoch`, a `checkpoint` file of the same config, or (neither) the newest. */
export interface CheckpointChoice {
  epoch?: number;
  checkpoint?: string;
}

/** The checkpoint a choice names, checked to exist, with its header's position. */
export function runCheckpoint(runDir: string, o: CheckpointChoice): EpochCheckpoint {
  if (o.checkpoint !== undefined) {
    if (o.epoch !== undefined) throw new InvalidArgumentError('epoch', 'no epoch when a checkpoint file is given (the file says which epoch it holds)', o.epoch);
    str('checkpoint', o.checkpoint);
    if (!statArg('checkpoint', o.checkpoint)?.isFile()) throw new InvalidArgumentError('checkpoint', 'an existing checkpoint file', o.checkpoint);
    return { file: o.checkpoint, info: readCheckpointInfo(o.checkpoint) };
  }
  const held = epochCheckpoints(runDir);
  if (o.epoch !== undefined) {
    if (!Number.isInteger(o.epoch) || o.epoch < 1) throw new InvalidArgumentError('epoch', 'an integer >= 1', o.epoch);
    const found = held.find((c) => c.info.position.epoch === o.epoch);
    if (!found) throw new InvalidArgumentError('epoch', `one of the epochs whose end ${runDir} holds a checkpoint of (${heldEpochs(held)}: its last two, and those checkpoint.keepEpochs / keepEvery kept)`, o.epoch);
    return found;
  }
  const p = runPaths(runDir);
  const rolling = [p.checkpoint, p.checkpointPrev].filter((f) => fs.existsSync(f));
  // The rolling two may hold a step in an epoch's middle (a stopped run); kept ones are the fallback when both were removed.
  const candidates = rolling.length > 0 ? rolling.map((file) => ({ file, info: readCheckpointInfo(file) })) : held;
  if (candidates.length === 0) throw new InvalidArgumentError('runDir', 'a run directory with a checkpoint (this run has saved none yet: train it first)', runDir);
  return candidates.reduce((a, b) => (b.info.position.step > a.info.position.step ? b : a));
}

/** The run's model with Sign-In as it trained, holding the checkpoint's weights, masks and BatchNorm statistics. */
export function modelFromCheckpoint(config: ExperimentConfig, checkpoint: string): Model {
  const model = createModel(config.model.name, modelOptionsFor(config));
  try {
    if (config.signin.enabled) applySignIn(model, signInOptionsFor(config));
    loadCheckpointModel(checkpoint, model);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
