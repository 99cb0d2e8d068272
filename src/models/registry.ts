/**
 * The model registry (open_lth's models/registry.py): models by lowercase snake name, each with
 * its defaults and checked options. `createModel(name, options)` validates every option before
 * any tensor is made; `modelNames()` lists the registered names. Name families such as
 * `wrn_<depth>_<k>` and `cifar_resnet_<depth>` resolve to a base model with fixed options.
 */
import { InvalidArgumentError, UnknownNameError } from '../errors';
import type { LiteralName } from '../literal-name';
import { bool, func, int, isInt, num, obj, oneOf, str } from '../validate';
import type { Model, ModelConfig, ModelInputOptions } from './base';
import { cifarShortcut, CifarResNet, type CifarShortcut } from './cifar-resnet';
import { applyInitScheme, initScheme, type InitScheme } from './init';
import { LeNet5 } from './lenet';
import { Mlp } from './mlp';
import { RESNET_LAYERS, ResNet, type ResNetDepth } from './resnet';
import { VGG_PLANS, Vgg, type VggDepth } from './vgg';
import { VisionTransformer } from './vit';
import { WideResNet } from './wide-resnet';

/** Options of createModel for a name known only at run time: checked by the registry. */
export type ModelOptions = ModelInputOptions & Record<string, unknown>;

/** Options of the CIFAR ResNet family (cifar_resnet, cifar_resnet_<6n+2>). */
export interface CifarResNetModelOptions extends ModelInputOptions {
  /** 6n + 2 (default 20). */
  depth?: number;
  /** Filters of the first stage (default 16). */
  width?: number;
  /** 'projection' (option B, default; also 'B') or 'padding' (option A; also 'A'). */
  shortcut?: CifarShortcut | 'A' | 'B';
  zeroInitResidual?: boolean;
}

/** Options of the Wide ResNet family (wide_resnet, wrn_<6n+4>_<k>). */
export interface WideResNetModelOptions extends ModelInputOptions {
  /** 6n + 4 (default 28). */
  depth?: number;
  /** k (default 10). */
  widenFactor?: number;
  /** Dropout between the convs of a block, in [0, 1) (default 0). */
  dropRate?: number;
}

export interface TorchvisionResNetModelOptions extends ModelInputOptions {
  zeroInitResidual?: boolean;
}

/** Options of the vision transformers (vit, deit_tiny, deit_small); see models/vit.ts. */
export interface VitModelOptions extends ModelInputOptions {
  /** Side of the square patches; must divide inputSize. */
  patchSize?: number;
  embedDim?: number;
  depth?: number;
  /** Attention heads; must divide embedDim. */
  numHeads?: number;
  mlpRatio?: number;
  qkvBias?: boolean;
  dropRate?: number;
  attnDropRate?: number;
  /** Stochastic depth of the last block (DeiT-S trains with 0.1). */
  dropPathRate?: number;
  /** Mask (and so prune) the patch-embedding conv too; default true. */
  maskPatchEmbed?: boolean;
}

/** The built-in models and their options (what a name fixes is left out). */
export interface ModelOptionsByName {
  cifar_resnet: CifarResNetModelOptions;
  cifar_resnet_20: Omit<CifarResNetModelOptions, 'depth'>;
  cifar_resnet_32: Omit<CifarResNetModelOptions, 'depth'>;
  cifar_resnet_44: Omit<CifarResNetModelOptions, 'depth'>;
  cifar_resnet_56: Omit<CifarResNetModelOptions, 'depth'>;
  cifar_resnet_110: Omit<CifarResNetModelOptions, 'depth'>;
  resnet18: TorchvisionResNetModelOptions;
  resnet34: TorchvisionResNetModelOptions;
  resnet50: TorchvisionResNetModelOptions;
  cifar_resnet18: TorchvisionResNetModelOptions;
  cifar_resnet34: TorchvisionResNetModelOptions;
  cifar_resnet50: TorchvisionResNetModelOptions;
  vgg11_bn: ModelInputOptions;
  vgg13_bn: ModelInputOptions;
  vgg16_bn: ModelInputOptions;
  vgg19_bn: ModelInputOptions;
  wide_resnet: WideResNetModelOptions;
  wrn_16_8: Omit<WideResNetModelOptions, 'depth' | 'widenFactor'>;
  wrn_28_10: Omit<WideResNetModelOptions, 'depth' | 'widenFactor'>;
  wrn_40_4: Omit<WideResNetModelOptions, 'depth' | 'widenFactor'>;
  lenet5: ModelInputOptions & { batchNorm?: boolean };
  /** `hidden`: sizes of the hidden layers (default [300, 100], LeNet-300-100). */
  mlp: ModelInputOptions & { hidden?: number[] };
  vit: VitModelOptions;
  deit_tiny: Omit<VitModelOptions, 'patchSize' | 'embedDim' | 'depth' | 'numHeads'>;
  deit_small: Omit<VitModelOptions, 'patchSize' | 'embedDim' | 'depth' | 'numHeads'>;
}

/** Every name createModel accepts: the registered ones and the two name families. */
export type ModelName = keyof ModelOptionsByName | `cifar_resnet_${number}` | `wrn_${number}_${number}`;

/** The options type of a model name (loose for a name known only at run time). */
export type ModelOptionsFor<N extends string> = string extends N ? ModelOptions
  : N extends keyof ModelOptionsByName ? ModelOptionsByName[N]
    : N extends `cifar_resnet_${number}` ? Omit<CifarResNetModelOptions, 'depth'>
      : N extends `wrn_${number}_${number}` ? Omit<WideResNetModelOptions, 'depth' | 'widenFactor'>
        : ModelOptions;

/** Resolved options: every option present, defaults filled in. */
export type ResolvedModelOptions = ModelConfig['options'];

/** Checks one option value and returns it; `path` names it in the error ('options.depth'). */
export type OptionCheck = (path: string, value: unknown) => unknown;

export interface ModelOptionSpec {
  default: unknown;
  check: OptionCheck;
}

export interface ModelEntry {
  /** Lowercase snake name, e.g. 'cifar_resnet_20'. */
  name: string;
  description: string;
  /** Every option the model accepts, the input options (numClasses, inChannels, inputSize) included. */
  options: Record<string, ModelOptionSpec>;
  /** Options the name itself fixes (e.g. depth 20 for cifar_resnet_20); passing another value is an error. */
  fixed?: Record<string, unknown>;
  /** Checks relations between options after each one passed its own check. */
  validate?: (options: ResolvedModelOptions, name: string) => void;
  create(options: ResolvedModelOptions): Model;
}

/** A pattern of names (wrn_<depth>_<k>) that resolves to a registered model with fixed options. */
export interface ModelFamily {
  pattern: RegExp;
  /** How the family is listed in errors, e.g. 'wrn_<depth>_<k>'. */
  display: string;
  resolve(match: RegExpMatchArray): { base: string; fixed: Record<string, unknown> };
}

const entries = new Map<string, ModelEntry>();
const families: ModelFamily[] = [];
const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Adds a model name (replacing one is an error). Every part of the entry is checked here, so a
 * user's entry that lacks one is refused when registered, not when a run first builds it.
 */
export function registerModel(entry: ModelEntry): void {
  obj('entry', entry, 'model entry ({ name, description, options, create })');
  if (typeof entry.name !== 'string' || !NAME.test(entry.name)) {
    throw new InvalidArgumentError('entry.name', 'a lowercase snake_case name', entry.name);
  }
  if (entries.has(entry.name)) throw new InvalidArgumentError('entry.name', 'a name not already registered', entry.name);
  str('entry.description', entry.description);
  obj('entry.options', entry.options, 'object of option specs ({ default, check })');
  for (const [k, spec] of Object.entries(entry.options)) {
    obj(`entry.options.${k}`, spec, 'option spec ({ default, check })');
    func(`entry.options.${k}.check`, spec.check);
  }
  if (entry.fixed !== undefined) obj('entry.fixed', entry.fixed, 'object of option values');
  if (entry.validate !== undefined) func('entry.validate', entry.validate);
  func('entry.create', entry.create);
  entries.set(entry.name, entry);
}

export function registerModelFamily(family: ModelFamily): void {
  obj('family', family, 'model family ({ pattern, display, resolve })');
  if (!(family.pattern instanceof RegExp)) throw new InvalidArgumentError('family.pattern', 'RegExp', family.pattern);
  str('family.display', family.display);
  func('family.resolve', family.resolve);
  families.push(family);
}

/** Registered model names, in registration order (families excluded: see modelFamilies()). */
export function modelNames(): string[] {
  return [...entries.keys()];
}

/**
 * Whether createModel knows the name (registered, or a family's pattern matches it), its options
 * aside: a config's model.name is checked with it when the config is parsed.
 */
export function isModelName(name: string): boolean {
  return entries.has(str('name', name)) || families.some((f) => name.match(f.pattern) !== null);
}

/**
 * Whether createModel builds the name with its default options: a family member whose numbers fit
 * its family (cifar_resnet_26, not cifar_resnet_27), which a "did you mean" may then suggest.
 */
export function buildsByDefault(name: string): boolean {
  try {
    resolveModelOptions(name);
    return true;
  } catch {
    return false;
  }
}

/** The name patterns that createModel also accepts, e.g. 'wrn_<depth>_<k>'. */
export function modelFamilies(): string[] {
  return families.map((f) => f.display);
}

function lookup(name: string): ModelEntry {
  const entry = entries.get(name);
  if (entry) return entry;
  for (const family of families) {
    const match = name.match(family.pattern);
    if (!match) continue;
    const { base, fixed } = obj<ReturnType<ModelFamily['resolve']>>(`the resolution of '${name}' by the family ${family.display}`, family.resolve(match),
      '{ base, fixed } naming a registered model');
    const baseEntry = entries.get(base);
    if (!baseEntry) throw new UnknownNameError(`base model of the family ${family.display}`, base, modelNames());
    return { ...baseEntry, name, fixed: { ...baseEntry.fixed, ...fixed } };
  }
  throw new UnknownNameError('model', name, [...modelNames(), ...modelFamilies()], buildsByDefault);
}

/** The registry entry for a name (or a family member), or UnknownNameError listing the valid names. */
export function getModelEntry(name: string): ModelEntry {
  if (typeof name !== 'string') throw new InvalidArgumentError('name', 'a model name (string)', name);
  return lookup(name);
}

/** The `init` option every model accepts (init.ts): 'default' (the model's own) or 'kaiming_fan_in'. */
const INIT_OPTION: ModelOptionSpec = { default: 'default', check: initScheme };

/** An entry's options plus the options every model accepts. */
function optionSpecs(entry: ModelEntry): Record<string, ModelOptionSpec> {
  return { ...entry.options, init: INIT_OPTION };
}

/** The option names a model accepts, with their defaults. */
export function modelOptions(name: string): Record<string, unknown> {
  const entry = getModelEntry(name);
  return Object.fromEntries(Object.entries(optionSpecs(entry)).map(([k, o]) => [k, entry.fixed?.[k] ?? o.default]));
}

/** Validates and fills in a model's options without building it. */
export function resolveModelOptions(name: string, options: ModelOptions = {}): ResolvedModelOptions {
  const entry = getModelEntry(name);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError('options', 'an options object', options);
  }
  const specs = optionSpecs(entry);
  const known = Object.keys(specs);
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new InvalidArgumentError(`the option names of model ${name}`, `names among ${known.join(', ')}`, unknown.join(', '));
  }
  const resolved: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const given = (options as Record<string, unknown>)[key];
    const fixed = entry.fixed?.[key];
    if (fixed !== undefined) {
      if (given !== undefined && given !== fixed) {
        throw new InvalidArgumentError(`options.${key}`, `${String(fixed)} (fixed by the model name ${name}) or no value`, given);
      }
      resolved[key] = spec.check(`options.${key} (from the name ${name})`, fixed);
    } else {
      resolved[key] = given === undefined ? structuredClone(spec.default) : spec.check(`options.${key}`, given);
    }
  }
  entry.validate?.(resolved as ResolvedModelOptions, name);
  return resolved as ResolvedModelOptions;
}

/**
 * Builds a registered model with fresh (masked, dense) weights from the global RNG.
 *
 * @param name a registered name such as 'cifar_resnet_20', 'resnet50', 'lenet5' (modelNames(),
 *   modelFamilies()); a literal name and its options are type-checked (ModelOptionsByName).
 * @param options the input options (numClasses, inChannels, inputSize) and the model's own.
 * @throws UnknownNameError (ERR_UNKNOWN_NAME) for an unknown name, listing the valid ones;
 *   InvalidArgumentError (ERR_INVALID_ARG) for an unknown or bad option, naming it.
 * @example
 * const model = createModel('cifar_resnet_20', { numClasses: 100 });
 */
export function createModel<N extends string>(name: LiteralName<N, ModelName>, options: ModelOptionsFor<N> = {} as ModelOptionsFor<N>): Model {
  const resolved = resolveModelOptions(name, options as ModelOptions);
  const model = getModelEntry(name).create(resolved);
  applyInitScheme(model, resolved.init as InitScheme);
  model.config = { name, options: resolved };
  return model;
}

// ---- option checks --------------------------------------------------------------------------

const positiveInt: OptionCheck = (path, v) => int(path, v, 1);
const boolean: OptionCheck = (path, v) => bool(path, v);

function inputOptions(defaults: { numClasses: number; inChannels: number; inputSize: number }, minInputSize: number): Record<string, ModelOptionSpec> {
  return {
    numClasses: { default: defaults.numClasses, check: positiveInt },
    inChannels: { default: defaults.inChannels, check: positiveInt },
    inputSize: {
      default: defaults.inputSize,
      check: (path, v) => {
        if (!isInt(v) || v < minInputSize) throw new InvalidArgumentError(path, `integer >= ${minInputSize}`, v);
        return v;
      },
    },
  };
}

const CIFAR = { numClasses: 10, inChannels: 3, inputSize: 32 };
const IMAGENET = { numClasses: 1000, inChannels: 3, inputSize: 224 };
const MNIST = { numClasses: 10, inChannels: 1, inputSize: 28 };

function depthCheck(kind: string, offset: number): OptionCheck {
  return (path, v) => {
    if (!isInt(v) || v < 6 + offset || (v - offset) % 6 !== 0) {
      throw new InvalidArgumentError(path, `an integer 6n + ${offset} with n >= 1 (the ${kind} depth)`, v);
    }
    return v;
  };
}

// ---- the zoo --------------------------------------------------------------------------------

const CIFAR_RESNET_DEPTHS = [20, 32, 44, 56, 110] as const;

const cifarResNetOptions = (): Record<string, ModelOptionSpec> => ({
  ...inputOptions(CIFAR, 8),
  depth: { default: 20, check: depthCheck('CIFAR ResNet', 2) },
  width: { default: 16, check: positiveInt },
  shortcut: { default: 'projection', check: (path, v) => cifarShortcut(oneOf(path, v, ['projection', 'padding', 'B', 'A'] as const)) },
  zeroInitResidual: { default: false, check: boolean },
});

const createCifarResNet = (o: ResolvedModelOptions): Model => new CifarResNet({
  depth: o.depth as number, numClasses: o.numClasses, inChannels: o.inChannels, inputSize: o.inputSize,
  width: o.width as number, shortcut: o.shortcut as CifarShortcut, zeroInitResidual: o.zeroInitResidual as boolean,
});

registerModel({
  name: 'cifar_resnet',
  description: 'CIFAR ResNet (He et al. 2016) of depth 6n+2, 16/32/64 filters, 1x1 conv + BN projection shortcuts',
  options: cifarResNetOptions(),
  create: createCifarResNet,
});
for (const depth of CIFAR_RESNET_DEPTHS) {
  registerModel({
    name: `cifar_resnet_${depth}`,
    description: `CIFAR ResNet-${depth} (He et al. 2016), projection shortcuts`,
    options: cifarResNetOptions(),
    fixed: { depth },
    create: createCifarResNet,
  });
}
registerModelFamily({
  pattern: /^cifar_resnet_(\d+)$/,
  display: 'cifar_resnet_<6n+2>',
  resolve: (m) => ({ base: 'cifar_resnet', fixed: { depth: Number(m[1]) } }),
});

for (const depth of [18, 34, 50] as const) {
  const { block, layers } = RESNET_LAYERS[depth as ResNetDepth];
  registerModel({
    name: `resnet${depth}`,
    description: `torchvision ResNet-${depth} (ImageNet: 7x7 stride-2 stem, max-pool, 4 stages)`,
    options: { ...inputOptions(IMAGENET, 32), zeroInitResidual: { default: false, check: boolean } },
    create: (o) => new ResNet({
      block, layers, numClasses: o.numClasses, inChannels: o.inChannels, inputSize: o.inputSize,
      stem: 'imagenet', zeroInitResidual: o.zeroInitResidual as boolean,
    }),
  });
}
for (const depth of [18, 34, 50] as const) {
  const { block, layers } = RESNET_LAYERS[depth as ResNetDepth];
  registerModel({
    name: `cifar_resnet${depth}`,
    description: `ResNet-${depth} with torchvision's blocks and names for 32x32 inputs (3x3 stride-1 stem, no max-pool)`,
    options: { ...inputOptions(CIFAR, 8), zeroInitResidual: { default: false, check: boolean } },
    create: (o) => new ResNet({
      block, layers, numClasses: o.numClasses, inChannels: o.inChannels, inputSize: o.inputSize,
      stem: 'cifar', zeroInitResidual: o.zeroInitResidual as boolean,
    }),
  });
}

for (const depth of Object.keys(VGG_PLANS).map(Number) as VggDepth[]) {
  registerModel({
    name: `vgg${depth}_bn`,
    description: `VGG-${depth} with BatchNorm for 32x32 inputs: torchvision's features, global average pool, one linear classifier`,
    options: inputOptions(CIFAR, 32),
    create: (o) => new Vgg({ depth, numClasses: o.numClasses, inChannels: o.inChannels, inputSize: o.inputSize }),
  });
}

const wideResNetOptions = (): Record<string, ModelOptionSpec> => ({
  ...inputOptions(CIFAR, 8),
  depth: { default: 28, check: depthCheck('wide ResNet', 4) },
  widenFactor: { default: 10, check: positiveInt },
  dropRate: { default: 0, check: (path, v) => num(path, v, 0, 0.999) },
});
const createWideResNet = (o: ResolvedModelOptions): Model => new WideResNet({
  depth: o.depth as number, widenFactor: o.widenFactor as number, dropRate: o.dropRate as number,
  numClasses: o.numClasses, inChannels: o.inChannels, inputSize: o.inputSize,
});
registerModel({
  name: 'wide_resnet',
  description: 'Wide ResNet WRN-depth-widenFactor (Zagoruyko & Komodakis 2016), pre-activation blocks',
  options: wideResNetOptions(),
  create: createWideResNet,
});
for (const [depth, k] of [[16, 8], [28, 10], [40, 4]] as const) {
  registerModel({
    name: `wrn_${depth}_${k}`,
    description: `Wide ResNet WRN-${depth}-${k}`,
    options: wideResNetOptions(),
    fixed: { depth, widenFactor: k },
    create: createWideResNet,
  });
}
registerModelFamily({
  pattern: /^wrn_(\d+)_(\d+)$/,
  display: 'wrn_<6n+4>_<k>',
  resolve: (m) => ({ base: 'wide_resnet', fixed: { depth: Number(m[1]), widenFactor: Number(m[2]) } }),
});

registerModel({
  name: 'lenet5',
  description: 'LeNet-5 with ReLU and max-pooling for 28x28 grey images',
  options: { ...inputOptions(MNIST, 12), batchNorm: { default: false, check: boolean } },
  create: (o) => new LeNet5({ numClasses: o.numClasses, inChannels: o.inChannels, inputSize: o.inputSize, batchNorm: o.batchNorm as boolean }),
});

registerModel({
  name: 'mlp',
  description: 'Fully connected classifier over flattened images, LeNet-300-100 by default',
  options: {
    ...inputOptions(MNIST, 1),
    hidden: {
      default: [300, 100],
      check: (path, v) => {
        if (!Array.isArray(v) || !v.every((x) => isInt(x) && x >= 1)) throw new InvalidArgumentError(path, 'an array of positive integers', v);
        return [...v];
      },
    },
  },
  create: (o) => new Mlp({ numClasses: o.numClasses, inChannels: o.inChannels, inputSize: o.inputSize, hidden: o.hidden as number[] }),
});

const unitInterval: OptionCheck = (path, v) => num(path, v, 0, 0.999);

const vitOptions = (defaults: { numClasses: number; inChannels: number; inputSize: number }, arch: Record<string, number>): Record<string, ModelOptionSpec> => ({
  ...inputOptions(defaults, 1),
  patchSize: { default: arch.patchSize, check: positiveInt },
  embedDim: { default: arch.embedDim, check: positiveInt },
  depth: { default: arch.depth, check: positiveInt },
  numHeads: { default: arch.numHeads, check: positiveInt },
  mlpRatio: { default: arch.mlpRatio, check: (path, v) => num(path, v, 1 / 64, 64) },
  qkvBias: { default: true, check: boolean },
  dropRate: { default: 0, check: unitInterval },
  attnDropRate: { default: 0, check: unitInterval },
  dropPathRate: { default: 0, check: unitInterval },
  maskPatchEmbed: { default: true, check: boolean },
});

function validateVit(o: ResolvedModelOptions, name: string): void {
  const patch = o.patchSize as number;
  if (o.inputSize % patch !== 0) {
    throw new InvalidArgumentError(`options.patchSize of model ${name}`, `a divisor of inputSize (${o.inputSize})`, patch);
  }
  if ((o.embedDim as number) % (o.numHeads as number) !== 0) {
    throw new InvalidArgumentError(`options.numHeads of model ${name}`, `a divisor of embedDim (${String(o.embedDim)})`, o.numHeads);
  }
}

const createVit = (o: ResolvedModelOptions): Model => new VisionTransformer({
  imgSize: o.inputSize, inChannels: o.inChannels, numClasses: o.numClasses,
  patchSize: o.patchSize as number, embedDim: o.embedDim as number, depth: o.depth as number, numHeads: o.numHeads as number,
  mlpRatio: o.mlpRatio as number, qkvBias: o.qkvBias as boolean, dropRate: o.dropRate as number,
  attnDropRate: o.attnDropRate as number, dropPathRate: o.dropPathRate as number, maskPatchEmbed: o.maskPatchEmbed as boolean,
});

registerModel({
  name: 'vit',
  description: 'Vision transformer with timm names; default a small ViT for 28x28 inputs (patch 4, dim 64, 6 blocks, 4 heads, MLP ratio 2)',
  options: vitOptions(MNIST, { patchSize: 4, embedDim: 64, depth: 6, numHeads: 4, mlpRatio: 2 }),
  validate: validateVit,
  create: createVit,
});
for (const [size, embedDim, numHeads] of [['tiny', 192, 3], ['small', 384, 6]] as const) {
  const arch = { patchSize: 16, embedDim, depth: 12, numHeads, mlpRatio: 4 };
  registerModel({
    name: `deit_${size}`,
    description: `DeiT-${size === 'tiny' ? 'Ti' : 'S'} (Touvron et al. 2021; timm deit_${size}_patch16_224): 224x224, patch 16, dim ${embedDim}, 12 blocks, ${numHeads} heads`,
    options: vitOptions(IMAGENET, arch),
    fixed: { patchSize: 16, embedDim, depth: 12, numHeads },
    validate: validateVit,
    create: createVit,
  });
}
