/**
 * A run's weights for PyTorch (`signin-torch export`): the state dict a PyTorch module of the
 * same architecture loads (pytorchStateDict: Sign-In's θ = mask ⊙ m ⊙ w in `weight`, exactly zero
 * where pruned, masks dropped), from the run's newest checkpoint or the one after an epoch, as a
 * safetensors file written atomically, floating tensors optionally in float16 or bfloat16.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors';
import { pytorchStateDict } from '../models';
import { saveSafetensors } from '../nn/safetensors';
import type { DType } from '../tensor/tensor';
import type { Position } from '../train/checkpoint';
import { keysOf, options, str } from '../validate';
import { runPaths } from './paths';
import { modelOptionsFor } from './resolve';
import { modelFromCheckpoint, runCheckpoint, statArg, type CheckpointChoice } from './run-checkpoints';
import { readConfig } from './runs';

export const EXPORT_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export type ExportDType = (typeof EXPORT_DTYPES)[number];

export interface ExportOptions extends CheckpointChoice {
  /** The safetensors file to write (replaced atomically when it exists). */
  out: string;
  /** The dtype of the floating tensors (weights, biases, BatchNorm statistics). Default float32, as trained. */
  dtype?: ExportDType;
}

const EXPORT_OPTIONS = keysOf<ExportOptions>({ epoch: true, checkpoint: true, out: true, dtype: true });

export interface ExportResult {
  out: string;
  checkpoint: string;
  position: Position;
  model: string;
  /** The model's options as the run built it (numClasses, inChannels, ...). */
  modelOptions: Record<string, unknown>;
  tensors: number;
  bytes: number;
}

/** Writes a run's checkpoint as a PyTorch state dict (see the file comment); what was written. */
export function exportRun(runDir: string, opts: ExportOptions): ExportResult {
  str('runDir', runDir);
  const o = options<ExportOptions>('options', opts, EXPORT_OPTIONS);
  const out = str('out', o.out);
  const dtype = o.dtype ?? 'float32';
  if (!EXPORT_DTYPES.includes(dtype)) throw new InvalidArgumentError('dtype', `one of ${EXPORT_DTYPES.join(', ')}`, dtype);
  if (!fs.existsSync(runPaths(runDir).config)) throw new InvalidArgumentError('runDir', 'a run directory (a folder holding config.json)', runDir);
  if (statArg('out', out)?.isDirectory()) throw new InvalidArgumentError('out', 'a file path (this is a folder)', out);
  const config = readConfig(runDir);
  const { file: checkpoint, info: { position } } = runCheckpoint(runDir, o);
  if (path.resolve(out) === path.resolve(checkpoint)) throw new InvalidArgumentError('out', 'a file other than the checkpoint it is exported from', out);
  const model = modelFromCheckpoint(config, checkpoint);
  try {
    const state = pytorchStateDict(model);
    const dtypes = new Map<string, DType>();
    if (dtype !== 'float32') for (const [k, t] of state) if (t.dtype === 'float32') dtypes.set(k, dtype);
    // safetensors.torch.save_file's metadata, and where the weights came from.
    const metadata = { format: 'pt', model: config.model.name, epoch: String(position.epoch), step: String(position.step) };
    saveSafetensors(out, state, metadata, { dtypes });
    return { out, checkpoint, position, model: config.model.name, modelOptions: modelOptionsFor(config), tensors: state.size, bytes: fs.statSync(out).size };
  } finally {
    model.dispose();
  }
}
