/**
 * The model base class (open_lth's models/base.py): a Module that knows its registry name, the
 * input it expects, which of its layers pruning may touch and which layer is the classifier.
 */
import { Module } from '../nn/module';
import { maskedLayers, type MaskedLayer } from '../nn/masked';

/** Options every model accepts (defaults depend on the model: see each registry entry). */
export interface ModelInputOptions {
  /** Outputs of the classifier. */
  numClasses?: number;
  /** Channels of the input images (3 for RGB, 1 for grey). */
  inChannels?: number;
  /** Height = width of the input images; used by models whose layer sizes depend on it. */
  inputSize?: number;
  /** Weight init: 'default' (the model's own) or 'kaiming_fan_in' (the PaI literature's; see init.ts). */
  init?: 'default' | 'kaiming_fan_in';
}

/** What createModel resolved a model from: its registry name and every option, defaults filled in. */
export interface ModelConfig {
  name: string;
  options: Required<ModelInputOptions> & Record<string, unknown>;
}

export abstract class Model extends Module {
  /** Set by createModel; undefined when a model class is constructed directly. */
  config: ModelConfig | undefined;

  /** The dotted name of the classifier layer (open_lth's output_layer_names). */
  abstract readonly outputLayerName: string;

  /** Input shape of one example, without the batch dimension: [C, H, W]. */
  abstract readonly inputShape: readonly number[];

  /**
   * The masked conv/linear layers by dotted module name, in registration order: the layers that
   * pruning and Sign-In act on. Their weights are `${name}.weight`, their masks `${name}.weight_mask`.
   */
  maskedLayers(): [string, MaskedLayer][] {
    return maskedLayers(this);
  }

  /** The weight parameter names of maskedLayers() (open_lth's prunable_layer_names). */
  prunableParameterNames(): string[] {
    return this.maskedLayers().map(([name]) => `${name}.weight`);
  }
}
