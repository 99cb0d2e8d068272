/**
 * A config's `transfer` section (sign transfer, docs/sparsify.md): find the source run's
 * checkpoint at the chosen epoch, check that its masked layers are this model's, and write the
 * transferred start into the freshly initialized model (signTransfer). What was taken, from
 * where, is recorded in the run's transfer.json.
 */
import * as path from 'node:path';
import { IssuesError, type Issue } from '../errors';
import { MASK_BUFFER, maskedLayers } from '../nn/masked';
import type { Module } from '../nn/module';
import { signTransfer } from '../sparsify/sign-transfer';
import type { Tensor } from '../tensor/tensor';
import { readCheckpointModelState, type CheckpointInfo } from '../train/checkpoint';
import { writeJsonAtomic } from '../atomic';
import { configHash } from './hash';
import { runPaths } from './paths';
import { transferSparsity } from './run-sparsity';
import { epochCheckpoints, heldEpochs } from './run-checkpoints';
import { missingTransferSource, readFinal, readMetrics, readTransferSource } from './runs';
import { runSparsity, type ExperimentConfig } from './schema';

export type TransferSection = NonNullable<ExperimentConfig['transfer']>;

/** The provenance of a transferred start (transfer.json). */
export interface TransferRecord {
  /** The source run's directory, resolved. */
  from: string;
  kind: TransferSection['kind'];
  /** The configHash of the source run's config (its directory's hash when it used the default prefix). */
  sourceConfigHash: string;
  /**
   * The sparsity the source trained to (its config's, or for a transfer source its own record's):
   * this run's mask is the source's, and its config has no sparsity of its own.
   */
  sourceSparsity: number;
  /** The checkpoint file read, its position and the sha256 written with its tensors. */
  checkpoint: string;
  epoch: number;
  step: number;
  sha256: string | null;
  layers: number;
}

function sourceError(dir: string, issues: Issue[]): IssuesError {
  return new IssuesError('ERR_CONFIG', `Cannot transfer from the run ${dir}`, issues);
}

/** The source run's checkpoint at the section's epoch, with the source's config. */
export function findTransferSource(transfer: TransferSection, runsDir: string): { dir: string; config: ExperimentConfig; file: string; info: CheckpointInfo } {
  const { dir, config } = readTransferSource(transfer, runsDir);
  if (!config) throw missingTransferSource(transfer, dir, runsDir);
  const held = epochCheckpoints(dir);
  let epoch: number;
  if (transfer.epoch === 'final') {
    const final = readFinal(dir);
    if (!final) {
      throw sourceError(dir, [{ code: 'not_finished', path: 'transfer.epoch', message: `Expected a finished source run for 'final' (it has no final.json); its checkpoints hold epochs: ${heldEpochs(held)}. Name one of them as transfer.epoch` }]);
    }
    epoch = final.epoch;
  } else epoch = transfer.epoch;
  const found = held.find((c) => c.info.position.epoch === epoch);
  if (!found) {
    throw sourceError(dir, [{ code: 'missing_epoch', path: 'transfer.epoch', message: `Expected an epoch whose checkpoint the source holds (its last two, and those its checkpoint.keepEpochs / keepEvery kept): epochs ${heldEpochs(held)}, but received ${epoch}` }]);
  }
  return { dir, config, ...found };
}

/** Every masked layer of the model missing from the source or shaped otherwise there, and every source masked layer the model lacks. */
function layerIssues(model: Module, source: Map<string, Tensor>): Issue[] {
  const issues: Issue[] = [];
  const own = new Set<string>();
  for (const [name, l] of maskedLayers(model)) {
    const p = name ? `${name}.` : '';
    own.add(`${p}${MASK_BUFFER}`);
    const w = source.get(`${p}weight`);
    const m = source.get(`${p}${MASK_BUFFER}`);
    const want = l.weight.shape.join(', ');
    if (!w || !m) issues.push({ code: 'missing_layer', path: name, message: `The source has no masked layer '${name}' (shape [${want}] here)` });
    else if (w.shape.join(', ') !== want || m.shape.join(', ') !== want) {
      issues.push({ code: 'shape_mismatch', path: name, message: `Expected shape [${want}] (this model) but the source's '${name}' has [${w.shape.join(', ')}]` });
    }
  }
  for (const k of source.keys()) {
    if (k.endsWith(MASK_BUFFER) && !own.has(k)) {
      const name = k.slice(0, Math.max(0, k.length - MASK_BUFFER.length - 1));
      issues.push({ code: 'extra_layer', path: name, message: `The source has a masked layer '${name}' that this model lacks` });
    }
  }
  return issues;
}

/**
 * Why applyTransfer would refuse the section for `model`, as config issues (none when it would
 * apply): the source run or its epoch missing (findTransferSource's issues), or each masked layer
 * that does not match, under `transfer.from` since the source is what the config chose. Reads the
 * source checkpoint, so a corrupt one (ERR_SAFETENSORS) throws here too; writes nothing.
 */
export function transferIssues(model: Module, transfer: TransferSection, runsDir: string): Issue[] {
  let src: ReturnType<typeof findTransferSource>;
  try {
    src = findTransferSource(transfer, runsDir);
  } catch (e) {
    if (e instanceof IssuesError && e.code === 'ERR_CONFIG') return e.issues;
    throw e;
  }
  const state = readCheckpointModelState(src.file);
  try {
    return layerIssues(model, state).map((i) => ({ ...i, path: 'transfer.from' }));
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

/**
 * Writes the section's transferred start into `model` (freshly initialized, before Sign-In's
 * split and the optimizer): the source checkpoint's masks, and its signs and/or magnitudes per
 * `kind`. Refuses, writing nothing, a source whose masked layers are not the model's.
 */
export function applyTransfer(model: Module, transfer: TransferSection, runsDir: string): TransferRecord {
  const src = findTransferSource(transfer, runsDir);
  const state = readCheckpointModelState(src.file);
  try {
    const issues = layerIssues(model, state);
    if (issues.length > 0) throw new IssuesError('ERR_CONFIG', `The model's masked layers do not match those of the transfer source ${src.dir}`, issues);
    const layers = signTransfer(model, state, transfer.kind);
    return {
      from: src.dir, kind: transfer.kind, sourceConfigHash: configHash(src.config), sourceSparsity: transferSparsity(src.dir, src.config, readMetrics(src.dir)) ?? runSparsity(src.config),
      checkpoint: path.basename(src.file), epoch: src.info.position.epoch, step: src.info.position.step, sha256: src.info.sha256 ?? null, layers,
    };
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

export function writeTransferRecord(runDir: string, record: TransferRecord): void {
  writeJsonAtomic(runPaths(runDir).transfer, record);
}

