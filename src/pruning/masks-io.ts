/**
 * Masks alone, in and out: a safetensors file (or a Map) of 0/1 tensors keyed by PARAMETER NAME
 * (`layer1.0.conv1.weight`), never by order, so masks move between models with the same names
 * (and to PyTorch, where `torch.load`-free code can read them with safetensors). Saved as BOOL.
 */
import { IssuesError, type Issue } from '../errors';
import { maskedLayers, type MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import { loadSafetensorsWithMetadata, saveSafetensors } from '../nn/safetensors';
import { tidy } from '../tensor/engine';
import { Tensor } from '../tensor/tensor';
import { bool, keysOf, obj, options as optionsOf } from '../validate';

export const MASKS_FORMAT = 'signin-torch/masks';

function layersByParam(model: Module): Map<string, MaskedLayer> {
  return new Map(maskedLayers(model).map(([n, l]) => [n ? `${n}.weight` : 'weight', l]));
}

/** Copies of every masked layer's mask (bool), keyed by the weight's parameter name. */
export function getMasks(model: Module): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, layer] of layersByParam(model)) out.set(name, tidy(() => layer.mask.ne(0)));
  return out;
}

export interface SetMasksOptions {
  /** Missing or unexpected names are errors (default true); otherwise they are returned. */
  strict?: boolean;
}

export interface SetMasksResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Writes masks into the layers by parameter name (setMask: weights outside become zero). Every
 * problem (missing / unexpected name under strict, wrong shape, values other than 0 and 1) is
 * gathered into one ERR_STATE_DICT error before any layer changes.
 */
export function setMasks(model: Module, masks: Map<string, Tensor> | Record<string, Tensor>, options: SetMasksOptions = {}): SetMasksResult {
  const layers = layersByParam(model);
  const o = optionsOf<SetMasksOptions>('options', options, keysOf<SetMasksOptions>({ strict: true }));
  const strict = bool('options.strict', o.strict ?? true);
  const src = masks instanceof Map ? masks : new Map(Object.entries(obj<Record<string, Tensor>>('masks', masks, 'Map or record of mask Tensors by parameter name')));
  const issues: Issue[] = [];
  const missingKeys = [...layers.keys()].filter((k) => !src.has(k));
  const unexpectedKeys = [...src.keys()].filter((k) => !layers.has(k));
  if (strict) {
    for (const k of missingKeys) issues.push({ code: 'missing_key', path: k, message: 'missing mask' });
    for (const k of unexpectedKeys) issues.push({ code: 'unexpected_key', path: k, message: 'no masked layer has this weight' });
  }
  for (const [k, layer] of layers) {
    const m = src.get(k);
    if (m === undefined) continue;
    if (!(m instanceof Tensor)) {
      issues.push({ code: 'invalid_type', path: k, message: 'expected a Tensor' });
    } else if (m.shape.join(',') !== layer.weight.shape.join(',')) {
      issues.push({ code: 'size_mismatch', path: k, message: `mask of shape [${m.shape.join(', ')}], the weight has shape [${layer.weight.shape.join(', ')}]` });
    } else if (m.dtype !== 'bool' && !tidy(() => m.eq(0).logicalOr(m.eq(1)).all().item())) {
      issues.push({ code: 'invalid_value', path: k, message: 'mask holds values other than 0 and 1' });
    }
  }
  if (issues.length) throw new IssuesError('ERR_STATE_DICT', `Error(s) in loading masks for ${model.constructor.name}`, issues);
  for (const [k, layer] of layers) {
    const m = src.get(k);
    if (m) tidy(() => { layer.setMask(m.device === layer.weight.device ? m : m.to({ device: layer.weight.device })); });
  }
  return { missingKeys, unexpectedKeys };
}

/** Saves the model's masks (bool, keyed by parameter name) to a safetensors file, each converted as it is written. */
export function saveMasks(model: Module, file: string): void {
  const masks = new Map([...layersByParam(model)].map(([name, layer]) => [name, layer.mask]));
  saveSafetensors(file, masks, { format: MASKS_FORMAT }, { dtypes: new Map([...masks.keys()].map((k) => [k, 'bool'])) });
}

/** Loads masks saved by saveMasks (or any safetensors of 0/1 tensors keyed by parameter name). */
export function loadMasks(model: Module, file: string, options: SetMasksOptions = {}): SetMasksResult {
  const { tensors } = loadSafetensorsWithMetadata(file);
  try {
    return setMasks(model, tensors, options);
  } catch (e) {
    throw e instanceof IssuesError ? e.from(file) : e;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
