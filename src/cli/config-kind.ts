/**
 * The two JSON files the commands take, told apart: a sweep file given to `train --config`, or an
 * experiment config given to `sweep --grid`, would otherwise be a list of every key the other
 * schema lacks (with "did you mean 'amp'?" for a sweep's name), not what to run instead.
 */
import { readTextBounded } from '../bounded-read';
import { ToolkitError } from '../errors';

function has(raw: object, ...keys: string[]): boolean {
  return keys.every((k) => Object.prototype.hasOwnProperty.call(raw, k));
}

/** `raw`, read from `file` for `train --config`, is a sweep file: `base` says so, as a sweep's grid is optional (base × seeds, e.g. examples/configs/sparsify/imagenet-resnet50-str-90.json). */
export function notASweepFile(file: string, raw: object): void {
  if (has(raw, 'base')) {
    const keys = has(raw, 'grid') ? 'base and grid' : 'base';
    throw new ToolkitError('ERR_CONFIG', `${file} is a sweep file (it has ${keys}), not an experiment config: run it with \`signin-torch sweep --grid ${file}\``);
  }
}

/** The file given to `sweep --grid` is an experiment config. One that does not read is left to the sweep's own error. */
export function notAnExperimentConfig(file: string): void {
  let raw: unknown;
  try {
    raw = JSON.parse(readTextBounded(file));
  } catch {
    return;
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && has(raw, 'dataset', 'model') && !has(raw, 'base')) {
    throw new ToolkitError('ERR_CONFIG', `${file} is an experiment config (it has dataset and model, no base), not a sweep file: train it with \`signin-torch train --config ${file}\``);
  }
}
