/**
 * The masked layers IMP / LRR prune and those they keep dense (OpenLTH's
 * `pruning_layers_to_ignore`): denseFirst and denseLast as pruning at initialization names them
 * (src/pruning/prune.ts's denseLayerNames), plus any masked layers named in `denseLayers`. Layers
 * kept dense are outside the prune and outside the pruned fraction.
 */
import { InvalidArgumentError } from '../errors';
import { maskedLayers, type MaskedLayer } from '../nn/masked';
import type { Module } from '../nn/module';
import { denseLayerNames } from '../pruning/prune';
import { bool, keysOf, list, options } from '../validate';

export interface DenseLayerOptions {
  /** Keep the first masked layer dense. Default false. */
  denseFirst?: boolean;
  /** Keep the classifier dense (the model's outputLayerName, else the last masked layer). Default false. */
  denseLast?: boolean;
  /** Masked layers (module names, as maskedLayers gives them) kept dense. Default none. */
  denseLayers?: readonly string[];
}

/** How many layer names an error lists. */
const LISTED = 6;

const DENSE_OPTIONS = keysOf<DenseLayerOptions>({ denseFirst: true, denseLast: true, denseLayers: true });

/**
 * The options' types, without a model (for constructors that meet the model later). Their keys
 * are the caller's to check: ImpLevels and impNextLevel pass their own, wider options.
 */
export function checkDenseOptions(opts: DenseLayerOptions | undefined): Required<DenseLayerOptions> {
  const o = options<DenseLayerOptions>('options', opts);
  return {
    denseFirst: bool('denseFirst', o.denseFirst ?? false),
    denseLast: bool('denseLast', o.denseLast ?? false),
    denseLayers: list<string>('denseLayers', o.denseLayers ?? [], 'array of masked layer names', (x) => typeof x === 'string'),
  };
}

/**
 * The model's masked layers split into those pruned and those kept dense (model order). A name in
 * denseLayers that is not a masked layer, or options that leave nothing to prune, are refused.
 */
export function impLayers(model: Module, opts?: DenseLayerOptions): { pruned: [string, MaskedLayer][]; dense: Set<string> } {
  options<DenseLayerOptions>('options', opts, DENSE_OPTIONS);
  const o = checkDenseOptions(opts);
  const layers = maskedLayers(model);
  if (layers.length === 0) throw new InvalidArgumentError('model', 'a model with masked layers (MaskedConv2d / MaskedLinear)', model);
  const names = layers.map(([n]) => n);
  const dense = denseLayerNames(model, names, o.denseFirst, o.denseLast);
  o.denseLayers.forEach((name, i) => {
    if (!names.includes(name)) {
      const shown = names.slice(0, LISTED).map((n) => `'${n}'`).join(', ');
      const more = names.length > LISTED ? `, … (${names.length} in all)` : '';
      throw new InvalidArgumentError(`denseLayers[${i}]`, `the name of a masked layer of the model (${shown}${more})`, name);
    }
    dense.add(name);
  });
  const pruned = layers.filter(([n]) => !dense.has(n));
  if (pruned.length === 0) {
    const which = Object.entries(o).filter(([, v]) => v === true || (Array.isArray(v) && v.length > 0)).map(([k]) => k).join(', ');
    throw new InvalidArgumentError(which || 'model', `a masked layer left to prune (all ${layers.length} of the model's are kept dense)`, [...dense]);
  }
  return { pruned, dense };
}
