/**
 * The experiment config (architecture.md decision 9: experiments are data). One zod schema, strict
 * (unknown keys are rejected), with every default written once in DEFAULTS. parseConfig gathers
 * every problem and throws ONE IssuesError('ERR_CONFIG'); safeParseConfig returns the issues.
 *
 * Conventions: `sparsity` is the fraction of weights REMOVED (density = 1 - sparsity); accuracies
 * in metrics are fractions in [0, 1]; epochs are counted from 1 in metrics (epoch 1 = after the
 * first epoch).
 */
import { z } from 'zod';
import { datasetNames, registeredDatasetInfo, type KnownDatasetName } from '../data/registry';
import { describeValue, IssuesError, type Issue } from '../errors';
import { buildsByDefault, isModelName, modelFamilies, modelNames } from '../models/registry';
import { boundText, quoteText } from '../quote';
import { DISTRIBUTION_NAMES, type DistributionName } from '../pruning/distributions';
import { get as getPruner, registeredNames as prunerNames, type PrunerName } from '../pruning/registry';
import { int, MAX_LIST_LENGTH, MAX_NESTING, maxThreads, maxThreadsReason, num, obj, str } from '../validate';
import { impPlan, impPlanInput, type ImpPlanInput } from '../sparsify/imp-plan';
import { LEVEL_METHODS, METHOD_FIELDS, SPARSIFY_METHODS, type SparsifyMethod } from '../sparsify/methods';
import { TRANSFER_KINDS } from '../sparsify/transfer-kinds';
import { didYouMean, suggest } from '../suggest';

/**
 * The names a config may use come from the registries when a config is parsed, so a pruner,
 * dataset or model registered by the user (registerPruner, registerDataset, registerModel) can be
 * named in a config.
 */
export function pruningMethods(): string[] {
  return ['none', ...prunerNames()];
}

/** The registries' lists when this module loaded: the built-ins (the CLI's option choices). */
export const DATASET_NAMES: readonly string[] = datasetNames();
export const PRUNING_METHODS: readonly string[] = pruningMethods();
export const DISTRIBUTIONS: readonly string[] = DISTRIBUTION_NAMES;
export const PRUNING_SCOPES = ['global', 'layerwise'] as const;
export const RESET_UNITS = ['epochs', 'steps'] as const;
export const MOMENTUM_AT_RESET = ['keep', 'zero'] as const;
export const SCHEDULE_NAMES = ['cosine', 'step', 'constant'] as const;
export const SYNFLOW_DTYPES = ['float64', 'auto', 'float32'] as const;
export const PRUNING_MODES = ['eval', 'train'] as const;
export const OPTIMIZER_NAMES = ['sgd', 'adamw'] as const;

export type DatasetName = KnownDatasetName;
export type PruningMethod = 'none' | PrunerName;
export type Distribution = DistributionName;

export interface DatasetInfo {
  numClasses: number;
  inChannels: number;
  inputSize: number;
}

/** What a model needs to know about each built-in dataset (the trainer passes these to createModel). */
export const DATASET_INFO: Readonly<Record<DatasetName, DatasetInfo>> = {
  fashion_mnist: { numClasses: 10, inChannels: 1, inputSize: 28 },
  mnist: { numClasses: 10, inChannels: 1, inputSize: 28 },
  cifar10: { numClasses: 10, inChannels: 3, inputSize: 32 },
  cifar100: { numClasses: 100, inChannels: 3, inputSize: 32 },
  imagenet: { numClasses: 1000, inChannels: 3, inputSize: 224 },
};

/**
 * A dataset's DATASET_INFO, or a registered dataset's registration.info; undefined for a
 * registered dataset without one (config.model.options then say it).
 */
export function datasetInfo(name: string): DatasetInfo | undefined {
  // Own keys only: 'constructor' or '__proto__' must not find Object's.
  return Object.hasOwn(DATASET_INFO, str('name', name)) ? (DATASET_INFO as Readonly<Record<string, DatasetInfo>>)[name] : registeredDatasetInfo(name);
}

/**
 * Every default, in one place. The run-directory hash leaves out fields equal to these, so a new
 * field added here with a default keeps every existing run directory valid (open_lth's desc).
 * Changing an existing default changes the hash of runs that relied on it: don't.
 */
export const DEFAULTS = {
  dataset: { augment: true, dropLast: false },
  model: { options: {} as Record<string, unknown> },
  pruning: {
    method: 'none' as PruningMethod,
    sparsity: 0,
    distribution: 'erk' as Distribution,
    /** Hash baseline only: the parsed default is defaultScope(method) ('layerwise' for random). */
    scope: 'global' as (typeof PRUNING_SCOPES)[number],
    denseFirst: false,
    denseLast: false,
    synflowDtype: 'float64' as (typeof SYNFLOW_DTYPES)[number],
    dataSamples: 128,
    dataBalanced: false,
    /** Hash baselines only (absent: the pruner's own default): written out, these name the same run. */
    mode: 'eval' as (typeof PRUNING_MODES)[number],
    temperature: 200,
    dataBatches: 1,
  },
  signin: {
    enabled: false,
    beta: 1,
    resetPeriod: 1,
    resetUnit: 'epochs' as (typeof RESET_UNITS)[number],
    momentumAtReset: 'keep' as (typeof MOMENTUM_AT_RESET)[number],
  },
  optimizer: {
    lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 1e-4, excludeBnAndBias: false,
    name: 'sgd' as (typeof OPTIMIZER_NAMES)[number], betas: [0.9, 0.999] as number[], eps: 1e-8,
  },
  schedule: { name: 'cosine' as (typeof SCHEDULE_NAMES)[number], warmupEpochs: 0, milestones: [] as number[], gamma: 0.1, minLr: 0 },
  labelSmoothing: 0,
  batchSize: 128,
  gradAccumSteps: 1,
  seed: 0,
  device: 'auto',
  threads: 0,
  evalEvery: 1,
  amp: false as 'bf16' | 'fp16' | false,
  channelsLast: 'auto' as boolean | 'auto',
  syncBatchNorm: false,
  checkpoint: { keepEpochs: [] as number[], keepEvery: 0 },
} as const;

/**
 * Fields that say WHERE or HOW FAST a run executes, or which of its checkpoints stay on disk, not
 * WHAT it computes: they are left out of the run-directory hash, so a run started on one machine
 * resumes on another, and one resumed with more epochs to keep (`checkpoint`) stays the same run.
 * A transfer run names its source by the source's hash, which these fields therefore leave alone.
 */
export const HASH_EXCLUDED_PATHS: readonly string[] = ['dataset.root', 'dataset.workers', 'device', 'threads', 'channelsLast', 'checkpoint'];

const D = DEFAULTS;

/** The config fields that name a registry entry, which a user's module may have registered (docs/extending.md). */
export const REGISTRY_NAME_PATHS: readonly string[] = ['dataset.name', 'model.name', 'pruning.method'];

/**
 * A name that must be in a registry's list, read at parse time; `known` is for a registry that
 * also takes names its list gives as patterns (the models' families). The type guard gives the
 * declared names' type (a name registered at run time is a string the type does not know).
 */
function registryName<T extends string>(list: () => readonly string[], known: (name: string) => boolean = (name) => list().includes(name)) {
  return z.string().check((ctx) => {
    if (!known(ctx.value)) ctx.issues.push({ code: 'invalid_value', values: [...list()], input: ctx.value });
  }).refine((v): v is T => true);
}

/** The model names createModel takes, families as their patterns ('wrn_<6n+4>_<k>'), as its UnknownNameError lists them. */
const modelNamesAndFamilies = (): string[] => [...modelNames(), ...modelFamilies()];

const nonNegInt = () => z.number().int().min(0);
const threadCount = () => nonNegInt().refine((n) => n <= maxThreads(), { message: `Expected at most ${maxThreads()} (${maxThreadsReason()})` });

const AugmentSchema = z.strictObject({
  crop: z.strictObject({ padding: nonNegInt().describe('Zero border added on every side before the crop.') }).optional().describe('Random crop of the image size after padding. Default: no crop.'),
  flip: z.boolean().default(false).describe('Horizontal flip with probability 1/2. Default false.'),
});

const DatasetSchema = z.strictObject({
  name: registryName<DatasetName>(datasetNames).describe('Dataset (required): a registered name (registerDataset).'),
  root: z.string().min(1).optional().describe('Folder holding the dataset files; default: the data module\'s default. Not hashed.'),
  augment: z.union([z.boolean(), AugmentSchema]).default(D.dataset.augment).describe("Training augmentation. true: the dataset's standard one (crop + flip for CIFAR, random-resized crop + flip for ImageNet, none for MNIST-like); false: none; or `{ crop: { padding }, flip }`: a random crop of the image's size after zero padding, then a horizontal flip with probability 1/2 (not for imagenet). Drawn per (seed, epoch, sample), so runs with one seed see the same crops. Default true."),
  imageSize: z.number().int().min(8).optional().describe("imagenet only: side of the training random-resized crop and of the evaluation center crop (evaluation first resizes the shorter side to round(imageSize * 256 / 224)); also the model's inputSize. Default: 224."),
  workers: threadCount().optional().describe('Data-loader worker threads (decoding and augmentation). Default: 2 for imagenet (JPEG decoding), 0 otherwise. Not hashed.'),
  dropLast: z.boolean().default(D.dataset.dropLast).describe('Drop the last incomplete training batch of each epoch (PyTorch DataLoader drop_last); the test set is never dropped. Default false.'),
  maxTrainBatches: z.number().int().min(1).optional().describe('Train on at most this many batches per epoch (the first ones of each epoch\'s shuffled order); the LR schedule counts these steps. For smoke tests. Default: every batch.'),
});

const ModelSchema = z.strictObject({
  name: registryName<string>(modelNamesAndFamilies, isModelName).describe('Model (required): a registered name (registerModel) such as cifar_resnet_20, resnet18, resnet50, or a family member such as wrn_16_8.'),
  options: z.record(z.string(), z.unknown()).default(() => ({})).describe("Extra model options (numClasses/inChannels come from the dataset). Default {}. `init`: 'default' (the model's own: torchvision's Kaiming-normal fan_out convs, PyTorch's default classifier) or 'kaiming_fan_in' (Kaiming-normal fan_in on every conv and linear, zero biases: Synaptic-Flow's and open_lth's init, which the PaI literature the paper compares with uses; the paper does not state its own)."),
});

const PruningSchema = z.strictObject({
  method: registryName<PruningMethod>(pruningMethods).default(D.pruning.method).describe("Pruning at initialization: 'none' or a registered pruner (registerPruner). Default 'none' (dense)."),
  sparsity: z.number().min(0).lt(1).default(D.pruning.sparsity).describe('Fraction of prunable weights REMOVED, in [0, 1). Default 0.'),
  distribution: registryName<Distribution>(() => DISTRIBUTION_NAMES).optional().describe("Layer densities; only with scope 'layerwise' (e.g. Random-ERK). Default 'erk' there, absent with scope 'global'."),
  scope: z.enum(PRUNING_SCOPES).optional().describe("'global' (one threshold over all layers) or 'layerwise' (per-layer counts from distribution). Default: 'layerwise' for random, else 'global'."),
  denseFirst: z.boolean().default(D.pruning.denseFirst).describe('Keep the first conv layer dense. Default false.'),
  denseLast: z.boolean().default(D.pruning.denseLast).describe('Keep the classifier dense. Default false.'),
  iterations: z.number().int().min(1).optional().describe("Prune-score rounds on an exponential schedule. Default: the pruner's (100 for SynFlow, else 1)."),
  synflowDtype: z.enum(SYNFLOW_DTYPES).default(D.pruning.synflowDtype).describe("SynFlow only: the dtype scores are computed in. 'float64' (default: the derivation assumes exact flow, and deep ResNets overflow float32; costs a float64 pass and two model conversions per round), 'auto' (the model's dtype, float64 when a round overflows), 'float32' (a round that overflows is an error)."),
  dataSamples: z.number().int().min(1).default(D.pruning.dataSamples).describe('SNIP and GraSP only: training examples scored on (un-augmented, one batch, the first ones of the seeded shuffled order). Default 128. Synaptic-Flow uses about 100; GraSP\'s authors 10 per class (dataSamples = 10 × classes with dataBalanced).'),
  dataBalanced: z.boolean().default(D.pruning.dataBalanced).describe('SNIP and GraSP only: take dataSamples / classes examples of every class (the first classes get one more when it does not divide) instead of the first dataSamples of the shuffled order. Default false.'),
  dataBatches: z.number().int().min(1).optional().describe(`SNIP and GraSP only: score the dataSamples examples as this many equal batches, in order (class by class with dataBalanced, as GraSP's authors' GraSP_fetch_data concatenates them), gradients summed over the batches; in mode 'train' each batch's BatchNorm statistics are its own. A divisor of dataSamples. Default ${D.pruning.dataBatches}. GraSP's authors: 2 (the two halves).`),
  mode: z.enum(PRUNING_MODES).optional().describe(`SNIP and GraSP only: the mode the model is scored in. 'eval' (default: BatchNorm on its running statistics, as Synaptic-Flow and snip-public) or 'train' (batch statistics, as GraSP's authors' code); BatchNorm's running statistics are restored afterwards either way.`),
  temperature: z.number().gt(0).optional().describe(`GraSP only: the logits are divided by this before the loss. Default ${D.pruning.temperature}, the authors' value. GraSP's authors' setting: mode 'train', dataBatches 2, temperature 200 (docs/pruning-fidelity.md).`),
}).transform((p) => {
  const scope = p.scope ?? defaultScope(p.method);
  return { ...p, scope, distribution: scope === 'layerwise' ? (p.distribution ?? D.pruning.distribution) : p.distribution };
});

/** The scope a pruning method gets when the config names none. */
export function defaultScope(method: string): (typeof PRUNING_SCOPES)[number] {
  return method === 'random' ? 'layerwise' : 'global';
}

const SignInSchema = z.strictObject({
  enabled: z.boolean().default(D.signin.enabled).describe('Reparameterize masked conv/linear weights as θ = M ⊙ m ⊙ w. Default false.'),
  beta: z.number().gt(0).default(D.signin.beta).describe('Inner scaling β = m² − w² set at init and at each reset. Default 1.'),
  resetPeriod: nonNegInt().default(D.signin.resetPeriod).describe('Reset every this many resetUnits; 0 = never reset (ablation). Default 1.'),
  resetUnit: z.enum(RESET_UNITS).default(D.signin.resetUnit).describe("Unit of resetPeriod. Default 'epochs'."),
  stopResetAfterEpoch: nonNegInt().optional().describe('No resets after this epoch (e.g. before the final LR decay). Default: reset until the end.'),
  momentumAtReset: z.enum(MOMENTUM_AT_RESET).default(D.signin.momentumAtReset).describe("Momentum buffers of m and w at a reset. Default 'keep'."),
  layers: z.array(z.string().min(1)).min(1).optional().describe('Dotted module names to reparameterize. Default: every masked conv/linear layer.'),
  layerBeta: z.record(z.string().min(1), z.number().gt(0)).refine((r) => Object.keys(r).length > 0, 'Expected at least one layer').optional()
    .describe("β per layer (dotted module name → β > 0), overriding beta for those layers at init and at every reset, e.g. { \"fc\": 4 } (the paper's theory prefers a larger β in layers near the output). Each must be a layer Sign-In reparameterizes. Default: beta for every layer."),
});

// Dense-to-sparse and dynamic sparse training (src/sparsify, docs/sparsify.md). Optional with no
// default, so that configs without it keep their hashes.
const SparsifySchema = z.strictObject({
  method: z.enum(SPARSIFY_METHODS).describe("'gmp', 'rigl', 'set', 'acdc', 'str', 'imp' or 'lrr' (required in the section); needs pruning.method 'none'."),
  sparsity: z.number().min(0).lt(1).describe('Final fraction of masked conv/linear weights REMOVED, in [0, 1) (required in the section), counted over the layers the method prunes (rigl, set, imp, lrr: layers kept dense are outside it). STR: nominal only (its sparsity follows from sInit and weight decay).'),
  scope: z.enum(PRUNING_SCOPES).optional().describe("gmp, acdc, imp, lrr: magnitude threshold 'global' (one over all pruned layers) or 'layerwise' (imp, lrr: each pruned layer loses pruneFraction of its own kept weights). Default 'global' (acdc: as the reference's UnstructuredMagnitudePruner; imp, lrr: OpenLTH's sparse_global)."),
  startEpoch: z.number().min(0).optional().describe('gmp: first pruning epoch. Default 0.'),
  endEpoch: z.number().min(0).optional().describe('gmp: epoch at which the final sparsity is reached. Default 0.75 × epochs.'),
  frequency: z.number().int().min(1).optional().describe('gmp: steps between prunes. Default 100.'),
  initialSparsity: z.number().min(0).lt(1).optional().describe('gmp: sparsity at startEpoch. Default 0.'),
  distribution: z.enum(['erk', 'er', 'uniform']).optional().describe("rigl, set: layer densities of the initial random mask. Default 'erk'."),
  deltaT: z.number().int().min(1).optional().describe('rigl, set: steps between mask updates. Default 100.'),
  dropFraction: z.number().min(0).max(1).optional().describe('rigl, set: initial drop fraction α (cosine-decayed). Default 0.3.'),
  stopFraction: z.number().min(0).max(1).optional().describe('rigl, set: no mask updates after this fraction of the steps. Default 0.75.'),
  denseFirst: z.boolean().optional().describe("rigl, set, imp, lrr: keep the first masked layer dense, outside the sparsity budget (rigl, set: google-research/rigl's default; imp, lrr: outside sparsity and pruneFraction). Default false."),
  denseLast: z.boolean().optional().describe("imp, lrr: keep the classifier (the model's output layer, else the last masked layer) dense, outside sparsity and pruneFraction. Default false."),
  denseLayers: z.array(z.string().min(1)).min(1).optional().describe("imp, lrr: masked layers (module names, e.g. 'fc') kept dense, outside sparsity and pruneFraction (OpenLTH's pruning_layers_to_ignore); a name that is not a masked layer of the model is refused before the run directory exists. Default: none."),
  warmupEpochs: nonNegInt().optional().describe('acdc: dense warm-up epochs. Default 10.'),
  phaseEpochs: z.number().int().min(1).optional().describe('acdc: length of each sparse and dense phase. Default 5.'),
  finetuneEpochs: nonNegInt().optional().describe('acdc: final sparse fine-tuning epochs. Default 10.'),
  resetMomentumAfterDecompress: z.boolean().optional().describe("acdc: zero the momentum of every parameter when a dense phase starts (the reference's --reset_momentum_after_recycling). Default true."),
  sInit: z.number().optional().describe('str: initial threshold parameter s (threshold σ(s)); trained with the optimizer\'s momentum and weight decay. Default -3200.'),
  levels: z.number().int().min(2).optional().describe('imp, lrr: training levels, the dense level 0 included (levels − 1 prunes; the last level trains at sparsity). Default: 1 + round(log(1 − sparsity) / log(0.8)), the levels of 20% prunes.'),
  pruneFraction: z.number().gt(0).lt(1).optional().describe('imp, lrr: fraction of the kept weights of the pruned layers removed (by |θ|, scope global or layerwise) at each level start. Default: 1 − (1 − sparsity)^(1/(levels − 1)), so the last level is at sparsity (0.2 per level in OpenLTH).'),
  epochsPerLevel: z.number().int().min(1).optional().describe('imp, lrr: epochs of each level, the LR schedule restarting each level (epochs = levels × epochsPerLevel). Default: epochs / levels.'),
  rewindIteration: nonNegInt().optional().describe('imp: the iteration of level 0 whose weights every level rewinds to (0: the original lottery ticket). Default 0.'),
  rewindEpoch: z.number().min(0).optional().describe('imp: the rewind point in epochs of level 0 (rounded to an iteration); instead of rewindIteration.'),
});

// Sign transfer (docs/sparsify.md): optional with no default, so configs without it keep their
// hashes. Its identity in the hash is the source run's (sourceHash), not the path that reaches it.
const TransferSchema = z.strictObject({
  from: z.string().min(1).describe("The source run's directory (required in the section): absolute, or relative to the runs directory of this run (a sibling run is 'train_<hash>'). Not hashed once sourceHash is filled in."),
  epoch: z.union([z.number().int().min(1), z.literal('final')]).default('final').describe("The source checkpoint's epoch: 'final' (the finished run's last epoch; needs its final.json) or an epoch whose checkpoint the source holds (its last two, and those it kept: the source's checkpoint.keepEpochs / keepEvery). Default 'final'."),
  kind: z.enum(TRANSFER_KINDS).describe("What is copied onto this run's fresh init, always with the source's mask: 'signs' (source signs, fresh magnitudes), 'magnitudes' (source magnitudes, fresh signs), 'both' (the source's weights) or 'mask' (the fresh init unchanged: the random-init control). Required in the section."),
  sourceHash: z.string().regex(/^[0-9a-f]{32}$/, 'the 32 hex digits of a config hash').optional().describe("The source run's config hash, filled in when the config is resolved against its runs directory (train, sweep, createRunDir read it from the source's config.json): the transfer's identity in this run's hash, in place of `from`, so that moving the runs directory or spelling the path otherwise keeps the run directory. Given, it must match the source's. Default: filled in."),
});

// Which checkpoints a run keeps besides the rolling two. Not hashed (HASH_EXCLUDED_PATHS): it
// changes what is kept, not what is trained, so a run can be resumed with epochs added to keep.
const CheckpointSchema = z.strictObject({
  keepEpochs: z.array(z.number().int().min(1)).default(() => [])
    .refine((e) => e.every((v, i) => i === 0 || v > e[i - 1]), 'Expected strictly increasing epochs')
    .describe('Epochs whose checkpoint is kept for good as checkpoint.epoch-<E>.safetensors (e.g. for transfer.epoch). Default []. Not hashed.'),
  keepEvery: nonNegInt().default(D.checkpoint.keepEvery).describe('Also keep the checkpoint of every epoch divisible by this (Lightning\'s every_n_epochs); 0 = none. Default 0. Not hashed.'),
  // Optional without a default: a config without it parses (and writes config.json) as before.
  everySteps: z.number().int().min(1).optional().describe("Also write the rolling checkpoint every this many optimizer steps inside an epoch (Lightning's every_n_train_steps), for epochs that take hours: a run resumes at that step. Default: absent, at epochs' ends only. Not hashed."),
});

const OptimizerSchema = z.strictObject({
  lr: z.number().gt(0).default(D.optimizer.lr).describe('Peak learning rate. Default 0.1.'),
  momentum: z.number().min(0).lt(1).default(D.optimizer.momentum).describe('SGD momentum. Default 0.9.'),
  nesterov: z.boolean().default(D.optimizer.nesterov).describe('Nesterov momentum. Default false.'),
  weightDecay: z.number().min(0).default(D.optimizer.weightDecay).describe('L2 weight decay. Default 1e-4.'),
  excludeBnAndBias: z.boolean().default(D.optimizer.excludeBnAndBias).describe("No weight decay on BatchNorm parameters and biases (with 'adamw' also none on LayerNorms, pos_embed and cls_token). Default false."),
  name: z.enum(OPTIMIZER_NAMES).default(D.optimizer.name).describe("'sgd' (momentum, nesterov, L2 weightDecay) or 'adamw' (betas, eps, decoupled weightDecay; momentum and nesterov unused). Default 'sgd'."),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default(() => [...D.optimizer.betas] as [number, number]).describe('AdamW only: (beta1, beta2). Default [0.9, 0.999].'),
  eps: z.number().min(0).default(D.optimizer.eps).describe('AdamW only: denominator epsilon. Default 1e-8.'),
});

const ScheduleSchema = z.strictObject({
  name: z.enum(SCHEDULE_NAMES).default(D.schedule.name).describe("LR schedule. Default 'cosine' (to minLr at the last epoch)."),
  warmupEpochs: z.number().min(0).default(D.schedule.warmupEpochs).describe('Linear warm-up from 0 to lr over this many epochs. Default 0.'),
  milestones: z.array(z.number().int().min(1)).default(() => [])
    .refine((m) => m.every((v, i) => i === 0 || v > m[i - 1]), 'Expected strictly increasing epochs')
    .describe("Epochs at which the 'step' schedule multiplies the LR by gamma. Default []."),
  gamma: z.number().gt(0).max(1).default(D.schedule.gamma).describe("Decay factor of the 'step' schedule. Default 0.1."),
  minLr: z.number().min(0).default(D.schedule.minLr).describe("Final LR of the 'cosine' schedule. Default 0."),
});

const HessianSchema = z.strictObject({
  samples: z.number().int().min(1).default(512).describe('Training examples (un-augmented, the seeded ones SNIP/GraSP score on). Default 512.'),
  batchSize: z.number().int().min(1).default(128).describe('Examples per Hessian-vector product batch. Default 128.'),
  maxIterations: z.number().int().min(1).default(20).describe('Most power iterations. Default 20.'),
  tol: z.number().min(0).default(1e-3).describe('Stop when successive estimates differ by less than this, relatively. Default 1e-3.'),
});

export const ExperimentConfig = z.strictObject({
  dataset: DatasetSchema,
  model: ModelSchema,
  pruning: PruningSchema.prefault({}),
  signin: SignInSchema.prefault({}),
  sparsify: SparsifySchema.optional().describe('Dense-to-sparse / dynamic sparse training (docs/sparsify.md). Default: none.'),
  transfer: TransferSchema.optional().describe("Start from another run's mask and signs or magnitudes (sign transfer, docs/sparsify.md); the mask then stays fixed. Needs pruning.method 'none' and no sparsify section. Default: none."),
  optimizer: OptimizerSchema.prefault({}),
  schedule: ScheduleSchema.prefault({}),
  labelSmoothing: z.number().min(0).lt(1).default(D.labelSmoothing).describe('Label smoothing of the training loss. Default 0.'),
  gradClip: z.number().gt(0).optional().describe('Max global gradient norm. Default: no clipping.'),
  epochs: z.number().int().min(1).describe('Training epochs (required).'),
  batchSize: z.number().int().min(1).default(D.batchSize).describe('Training batch size. Default 128.'),
  gradAccumSteps: z.number().int().min(1).default(D.gradAccumSteps).describe("Micro-batches per step: each batch (each rank's share of it) is split into this many, their gradients accumulated before the one optimizer step, so a batch that does not fit in memory trains in the memory of one micro-batch. The step stays the whole batch's (lr, schedules and Sign-In resets count steps); training-mode BatchNorm normalizes each micro-batch by its own statistics, as in PyTorch. At most the per-rank batch. Default 1."),
  seed: nonNegInt().default(D.seed).describe('Seed of init, mask, shuffling and augmentation. Default 0.'),
  device: z.string().regex(/^(auto|cpu|cuda(:\d+)?)$/, "'auto', 'cpu', 'cuda' or 'cuda:N'").default(D.device).describe("'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:N'. Default 'auto'. Not hashed."),
  threads: threadCount().default(D.threads).describe("CPU threads for libtorch; 0 = libtorch's default. Not hashed."),
  evalEvery: z.number().int().min(1).default(D.evalEvery).describe('Evaluate on the test set every this many epochs (and after the last). Default 1.'),
  hessian: HessianSchema.optional().describe('Compute the top Hessian eigenvalue of the training loss at the final weights (power iteration on Hessian-vector products, in θ coordinates on the kept weights), stored in the last metrics row as topHessianEigenvalue. Default: not computed.'),
  amp: z.union([z.literal('bf16'), z.literal('fp16'), z.literal(false)]).default(D.amp).describe("Autocast the forward: 'bf16', 'fp16' (loss-scaled; CUDA only) or false. Default false."),
  channelsLast: z.union([z.boolean(), z.literal('auto')]).default(D.channelsLast).describe("channels_last (NHWC) inputs: true, false or 'auto' (on the CPU when libtorch has oneDNN, whose NHWC convolutions are faster there; off on CUDA). Default 'auto'. Not hashed."),
  syncBatchNorm: z.boolean().default(D.syncBatchNorm).describe('Data-parallel runs (--nproc N): BatchNorm layers normalize training batches with the statistics of the whole global batch (SyncBatchNorm; one all-reduce per layer each way), so N ranks train as one process with the global batch does. One process: no effect. Default false (per-rank statistics, as PyTorch DDP).'),
  checkpoint: CheckpointSchema.prefault({}).describe('Checkpoints kept besides the rolling last two (docs/checkpoints.md). Default: none. Not hashed.'),
});

/** A validated config with every default filled in. */
export type ExperimentConfig = z.output<typeof ExperimentConfig>;

/** The sparsity a run trains to: sparsify.sparsity with a sparsify section, else pruning.sparsity. */
export function runSparsity(config: { pruning: { sparsity: number }; sparsify?: { sparsity: number } }): number {
  const c = obj<typeof config>('config', config, 'experiment config object');
  if (c.sparsify !== undefined) return num('config.sparsify.sparsity', obj<{ sparsity: number }>('config.sparsify', c.sparsify, 'sparsify section object').sparsity, 0, 1);
  return num('config.pruning.sparsity', obj<{ sparsity: number }>('config.pruning', c.pruning, 'pruning section object').sparsity, 0, 1);
}
/** What a config file may contain: required fields plus any subset of the defaulted ones. */
export type ExperimentConfigInput = z.input<typeof ExperimentConfig>;
export type PruningHparams = ExperimentConfig['pruning'];
export type SignInHparams = ExperimentConfig['signin'];
export type OptimizerHparams = ExperimentConfig['optimizer'];
export type ScheduleHparams = ExperimentConfig['schedule'];

// ---------------------------------------------------------------------------------------------
// Issues

/** `a.b[2].c` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${boundText(String(p))}` : boundText(String(p));
  }
  return out;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? quoteText(v) : String(v))).join(', ');
}

/** The object schema found at a path (through defaults/optionals), to list valid keys. */
function shapeKeysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let s: any = root;
  const unwrap = (x: any): any => {
    while (x?._zod?.def?.innerType || x?._zod?.def?.in) x = x._zod.def.innerType ?? x._zod.def.in;
    return x;
  };
  s = unwrap(s);
  for (const p of path) {
    const shape = s?._zod?.def?.shape;
    if (!shape || typeof p !== 'string' || !(p in shape)) return undefined;
    s = unwrap(shape[p]);
  }
  const shape = s?._zod?.def?.shape;
  return shape ? Object.keys(shape) : undefined;
}

function bound(kind: 'min' | 'max', value: unknown, inclusive: boolean | undefined): string {
  if (kind === 'min') return inclusive ? `>= ${String(value)}` : `> ${String(value)}`;
  return inclusive ? `<= ${String(value)}` : `< ${String(value)}`;
}

/**
 * What a union takes, from the issue each option raised at the value itself: "boolean or 'auto'",
 * or "one of 'bf16', 'fp16', false" when every option is a literal. Undefined when an option failed
 * otherwise (a refinement, a field inside it), which the caller then leaves to zod's message.
 */
function unionExpected(errors: readonly (readonly z.core.$ZodIssue[])[]): string | undefined {
  const literals: unknown[] = [];
  const kinds: string[] = [];
  for (const option of errors) {
    const own = option.find((i) => i.path.length === 0);
    if (own?.code === 'invalid_value') literals.push(...(own.values as unknown[]));
    else if (own?.code === 'invalid_type') kinds.push(own.expected === 'int' ? 'integer' : own.expected);
    else return undefined;
  }
  if (kinds.length === 0) return `one of ${quoteList(literals)}`;
  return [...kinds, ...literals.map((v) => quoteList([v]))].join(' or ');
}

/**
 * One zod issue of a value parsed by `root` → our issues (an unrecognized_keys issue becomes one
 * issue per key, with the closest valid key as a hint). Sweep files use it too.
 */
export function toIssues(iss: z.core.$ZodIssue, root: z.ZodType = ExperimentConfig): Issue[] {
  const input = (iss as { input?: unknown }).input;
  const got = describeValue(input);
  switch (iss.code) {
    case 'invalid_type': {
      if (input === undefined) return [{ code: 'required', path: formatPath(iss.path), message: `Required: expected ${iss.expected}` }];
      const expected = iss.expected === 'int' ? 'integer' : iss.expected;
      return [{ code: iss.code, path: formatPath(iss.path), message: `Expected ${expected} but received ${got}` }];
    }
    case 'invalid_value': {
      const values = iss.values as unknown[];
      const hints = typeof input === 'string' ? suggest(input, values.filter((v): v is string => typeof v === 'string'), buildsByDefault) : [];
      return [{
        code: iss.code,
        path: formatPath(iss.path),
        message: `Expected one of ${quoteList(values)} but received ${got}${didYouMean(hints)}`,
      }];
    }
    case 'too_small':
    case 'too_big': {
      const kind = iss.code === 'too_small' ? 'min' : 'max';
      const limit = iss.code === 'too_small' ? iss.minimum : iss.maximum;
      const what = iss.origin === 'array' ? `an array with length ${bound(kind, limit, true)}`
        : iss.origin === 'string' ? `a string with length ${bound(kind, limit, true)}`
          : `a number ${bound(kind, limit, iss.inclusive)}`;
      return [{ code: iss.code, path: formatPath(iss.path), message: `Expected ${what} but received ${got}` }];
    }
    case 'unrecognized_keys': {
      const valid = shapeKeysAt(root, iss.path) ?? [];
      return iss.keys.map((k) => {
        // A field given outside its section ({ lr } for { optimizer: { lr } }) is named by its
        // section, before any near spelling of a key here ('sparsity' is near 'sparsify').
        const homes = valid.filter((v) => shapeKeysAt(root, [...iss.path, v])?.includes(k)).map((v) => `${v}.${k}`);
        const hints = homes.length > 0 ? homes : suggest(k, valid);
        return {
          code: iss.code,
          path: formatPath([...iss.path, k]),
          message: `Unknown key${didYouMean(hints)}; valid keys: ${valid.join(', ')}`,
        };
      });
    }
    case 'invalid_format':
      return [{ code: iss.code, path: formatPath(iss.path), message: `Expected ${iss.message} but received ${got}` }];
    case 'invalid_union': {
      // zod says only "Invalid input"; each option's own issue says what that option takes.
      const expected = unionExpected(iss.errors);
      return [{ code: iss.code, path: formatPath(iss.path), message: expected ? `Expected ${expected} but received ${got}` : iss.message }];
    }
    default:
      return [{ code: iss.code, path: formatPath(iss.path), message: iss.message }];
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a dotted path from raw input, or the default when absent. */
function rawAt(raw: unknown, path: string): unknown {
  let v: unknown = raw;
  for (const k of path.split('.')) {
    if (!isObj(v)) { v = undefined; break; }
    v = v[k];
  }
  return v === undefined ? getDotted(DEFAULTS, path) : v;
}

/**
 * IMP / LRR: the level plan's issues (imp-plan.ts), and the epochs of one level, which the
 * schedule spans (undefined for other methods or when the section's fields are not valid yet).
 */
function levelEpochsOf(raw: unknown, epochs: number, issues: Issue[]): number | undefined {
  const s = getDotted(raw, 'sparsify');
  if (!isObj(s) || typeof s.method !== 'string' || !LEVEL_METHODS.includes(s.method as SparsifyMethod)) return undefined;
  if (!Number.isInteger(epochs) || epochs < 1 || typeof s.sparsity !== 'number' || s.sparsity < 0 || s.sparsity >= 1) return undefined;
  const field = (k: string, ok: (v: number) => boolean) => (s[k] === undefined || (typeof s[k] === 'number' && ok(s[k] as number)));
  const intAtLeast = (m: number) => (v: number) => Number.isInteger(v) && v >= m;
  if (!field('levels', intAtLeast(2)) || !field('pruneFraction', (v) => v > 0 && v < 1) || !field('epochsPerLevel', intAtLeast(1))
    || !field('rewindIteration', intAtLeast(0)) || !field('rewindEpoch', (v) => v >= 0)) return undefined;
  if (s.method === 'lrr') {
    for (const k of ['rewindIteration', 'rewindEpoch']) {
      if (s[k] !== undefined) issues.push({ code: 'custom', path: `sparsify.${k}`, message: "Expected no rewind point for 'lrr' (it keeps the trained weights); use method 'imp' to rewind" });
    }
  }
  if (s.rewindIteration !== undefined && s.rewindEpoch !== undefined) {
    issues.push({ code: 'custom', path: 'sparsify.rewindEpoch', message: 'Expected rewindIteration or rewindEpoch, not both' });
  }
  const { plan, issues: planIssues } = impPlan(impPlanInput(s as unknown as ImpPlanInput), epochs);
  issues.push(...planIssues.map((i) => ({ code: 'custom', ...i })));
  return plan?.epochsPerLevel;
}

/**
 * Checks that involve more than one field. They read the raw input defensively (each check runs
 * only when its own fields have valid types), so they are reported together with field errors.
 */
/** Whether a pruning method scores on data ('none' does not; a registered pruner says itself); undefined for a name not registered. */
function scoresOnData(method: string): boolean | undefined {
  if (method === 'none') return false;
  return prunerNames().includes(method) ? getPruner(method).needsData : undefined;
}

/**
 * The pruning fields that only some pruners read: set for another pruner they would be silently
 * ignored, and the run directory named by a setting that changed nothing.
 */
function prunerFieldIssues(raw: unknown): Issue[] {
  const method = rawAt(raw, 'pruning.method');
  if (typeof method !== 'string') return [];
  const issues: Issue[] = [];
  const isSet = (k: string) => getDotted(raw, `pruning.${k}`) !== undefined;
  if (isSet('temperature') && method !== 'grasp') {
    issues.push({ code: 'custom', path: 'pruning.temperature', message: `Only pruning.method 'grasp' takes a temperature (the method here is ${quoteText(method)}); remove pruning.temperature` });
  }
  const dataOnly = ['mode', 'dataBatches'].filter(isSet);
  if (dataOnly.length > 0 && scoresOnData(method) === false) {
    const dataPruners = prunerNames().filter((n) => getPruner(n).needsData);
    for (const k of dataOnly) {
      issues.push({
        code: 'custom',
        path: `pruning.${k}`,
        message: `Only the pruners that score on training data (${quoteList(dataPruners)}) take pruning.${k} (the method here is ${quoteText(method)}, which scores no batch); remove pruning.${k}`,
      });
    }
  }
  const batches = getDotted(raw, 'pruning.dataBatches');
  const samples = rawAt(raw, 'pruning.dataSamples');
  if (typeof batches === 'number' && Number.isInteger(batches) && batches >= 1 && typeof samples === 'number' && Number.isInteger(samples) && samples % batches !== 0) {
    issues.push({ code: 'custom', path: 'pruning.dataBatches', message: `Expected a divisor of pruning.dataSamples (${samples}) but received ${describeValue(batches)}` });
  }
  return issues;
}

/** The sparsify fields that only some methods read (METHOD_FIELDS), set for another method. */
function sparsifyFieldIssues(raw: unknown): Issue[] {
  const method = getDotted(raw, 'sparsify.method');
  if (typeof method !== 'string' || !SPARSIFY_METHODS.includes(method as SparsifyMethod)) return [];
  return Object.entries(METHOD_FIELDS)
    .filter(([k, methods]) => getDotted(raw, `sparsify.${k}`) !== undefined && !methods.includes(method as SparsifyMethod))
    .map(([k, methods]) => ({
      code: 'custom',
      path: `sparsify.${k}`,
      message: `Only sparsify.method ${quoteList(methods)} take${methods.length === 1 ? 's' : ''} sparsify.${k} (the method here is ${quoteText(method)}); remove sparsify.${k}`,
    }));
}

function crossFieldIssues(raw: unknown): Issue[] {
  const issues: Issue[] = [];
  const method = rawAt(raw, 'pruning.method');
  const sparsity = rawAt(raw, 'pruning.sparsity');
  issues.push(...prunerFieldIssues(raw));
  issues.push(...sparsifyFieldIssues(raw));
  if (method === 'none' && typeof sparsity === 'number' && sparsity > 0) {
    issues.push({
      code: 'custom',
      path: 'pruning.sparsity',
      message: `Expected 0 when pruning.method is 'none' but received ${describeValue(sparsity)}; set pruning.method to one of ${quoteList(prunerNames())}`,
    });
  }
  if (getDotted(raw, 'sparsify.method') === 'str') {
    // RAIVNLab/STR steps w and s with torch.optim.SGD, nesterov off (main.py get_optimizer); Str has no other rule.
    const why = "STR steps its raw weights and thresholds with torch.optim.SGD's plain momentum, as RAIVNLab/STR";
    const name = rawAt(raw, 'optimizer.name');
    if (name !== 'sgd') issues.push({ code: 'custom', path: 'optimizer.name', message: `Expected 'sgd' with sparsify.method 'str' (${why}) but received ${describeValue(name)}` });
    if (rawAt(raw, 'optimizer.nesterov') === true) issues.push({ code: 'custom', path: 'optimizer.nesterov', message: `Expected false with sparsify.method 'str' (${why}) but received ${describeValue(true)}` });
  }
  const distribution = getDotted(raw, 'pruning.distribution');
  const scope = getDotted(raw, 'pruning.scope') ?? (typeof method === 'string' && pruningMethods().includes(method) ? defaultScope(method) : undefined);
  if (distribution !== undefined && method !== 'none' && scope === 'global') {
    issues.push({
      code: 'custom',
      path: 'pruning.distribution',
      message: `Layer densities apply only with pruning.scope 'layerwise' (the scope here is 'global'); set pruning.scope to 'layerwise' or remove pruning.distribution`,
    });
  }
  if (isObj(getDotted(raw, 'transfer'))) {
    // The source's mask is the mask: a pruner or a sparsify method would replace it or move it.
    if (getDotted(raw, 'sparsify') !== undefined) {
      issues.push({ code: 'custom', path: 'sparsify', message: "Expected no sparsify section with transfer (the transferred mask stays fixed; a sparsify method would change it); remove one of the two" });
    }
    if (typeof method === 'string' && method !== 'none') {
      issues.push({ code: 'custom', path: 'pruning.method', message: `Expected 'none' with transfer (the mask comes from the source run) but received ${quoteText(method)}` });
    }
  }
  const datasetName = getDotted(raw, 'dataset.name');
  const imageSize = getDotted(raw, 'dataset.imageSize');
  if (imageSize !== undefined && typeof datasetName === 'string' && datasetName !== 'imagenet' && datasetNames().includes(datasetName)) {
    issues.push({ code: 'custom', path: 'dataset.imageSize', message: `Only dataset 'imagenet' takes an image size (dataset '${datasetName}' has fixed-size images); remove dataset.imageSize` });
  }
  const augment = getDotted(raw, 'dataset.augment');
  if (isObj(augment) && datasetName === 'imagenet') {
    issues.push({ code: 'custom', path: 'dataset.augment', message: "Expected true or false for dataset 'imagenet' (its images vary in size; imageSize sets its crops) but received an object" });
  }
  const schedule = rawAt(raw, 'schedule.name');
  const milestones = rawAt(raw, 'schedule.milestones');
  if (schedule === 'step' && Array.isArray(milestones) && milestones.length === 0) {
    issues.push({ code: 'custom', path: 'schedule.milestones', message: "Expected at least one epoch when schedule.name is 'step'" });
  }
  const epochs = rawAt(raw, 'epochs');
  const keep = getDotted(raw, 'checkpoint.keepEpochs');
  if (Array.isArray(keep) && typeof epochs === 'number') {
    const late = keep.filter((e) => typeof e === 'number' && e > epochs);
    if (late.length > 0) issues.push({ code: 'custom', path: 'checkpoint.keepEpochs', message: `Expected epochs <= epochs (${epochs}) but received ${late.join(', ')}` });
  }
  const warmup = rawAt(raw, 'schedule.warmupEpochs');
  const levelEpochs = typeof epochs === 'number' ? levelEpochsOf(raw, epochs, issues) : undefined;
  const scheduleEpochs = levelEpochs ?? epochs;
  if (typeof scheduleEpochs === 'number' && Number.isInteger(scheduleEpochs) && scheduleEpochs >= 1 && typeof warmup === 'number' && warmup >= scheduleEpochs) {
    const of = levelEpochs !== undefined ? 'sparsify.epochsPerLevel' : 'epochs';
    issues.push({ code: 'custom', path: 'schedule.warmupEpochs', message: `Expected a number < ${of} (${scheduleEpochs}) but received ${describeValue(warmup)}` });
  }
  return issues;
}

/**
 * Whether a dotted path of the schema is a section of fixed fields (signin, pruning) rather than
 * one value (signin.layerBeta and model.options, records; dataset.augment, a union; an array).
 */
export function isConfigSection(path: string): boolean {
  return shapeKeysAt(ExperimentConfig, str('path', path).split('.')) !== undefined;
}

export type SafeParseResult = { success: true; data: ExperimentConfig } | { success: false; issues: Issue[] };

/** Validates a config; never throws. Issues carry dotted paths and name the allowed values. */
export function safeParseConfig(input: unknown): SafeParseResult {
  const unsafe = unsafeKeyIssues(input);
  if (unsafe.length) return { success: false, issues: unsafe };
  const res = ExperimentConfig.safeParse(input, { reportInput: true });
  const issues = res.success ? [] : res.error.issues.flatMap((i) => toIssues(i));
  if (isObj(input)) issues.push(...crossFieldIssues(input));
  if (issues.length > 0 || !res.success) return { success: false, issues };
  return { success: true, data: res.data };
}

/** Validates a config and fills in defaults; throws one IssuesError('ERR_CONFIG') listing every issue. */
export function parseConfig(input: unknown, source?: string): ExperimentConfig {
  if (source !== undefined) str('source', source);
  const res = safeParseConfig(input);
  if (!res.success) throw configError(res.issues, source);
  return res.data;
}

/**
 * A config argument of an entry point, returned as given (defaults are not filled in, so its hash
 * is unchanged): ERR_INVALID_ARG when it is not an object, ERR_CONFIG listing its issues otherwise.
 */
export function configArg(name: string, v: unknown): ExperimentConfig {
  parsedConfigArg(name, v);
  return v as ExperimentConfig;
}

/**
 * configArg for entry points that read the config's fields: the parsed config, its defaults filled
 * in (a config as a file holds it names few of them).
 */
export function parsedConfigArg(name: string, v: unknown): ExperimentConfig {
  obj(name, v, 'experiment config (see parseConfig)');
  const res = safeParseConfig(v);
  if (!res.success) throw configError(res.issues, `given as ${name}`);
  return res.data;
}

/** Whether a config issue is a name the registries lack: most often one a module of the user's registers. */
export function isUnregisteredName(i: Issue): boolean {
  return i.code === 'invalid_value' && REGISTRY_NAME_PATHS.includes(i.path);
}

const REGISTER_FUNCTIONS: Readonly<Record<string, string>> = { 'dataset.name': 'registerDataset', 'model.name': 'registerModel', 'pruning.method': 'registerPruner' };

/**
 * ERR_CONFIG listing the issues. A name the registries lack ends it with the fix for code that
 * parses the config (runSweep, trainFromConfig, parseConfig, ...): register the name in this
 * process first (docs/extending.md). The CLI prints the title and issues with its --import hint
 * instead (src/cli/imports.ts).
 */
export function configError(issues: Issue[], source?: string): IssuesError {
  const n = issues.length;
  const error = new IssuesError('ERR_CONFIG', `Invalid experiment config${source ? ` ${source}` : ''} (${n} issue${n === 1 ? '' : 's'})`, issues);
  const register = [...new Set(issues.filter(isUnregisteredName).map((i) => REGISTER_FUNCTIONS[i.path]))];
  if (register.length > 0) {
    error.message += `\nA name of your own must be registered in this process before the config is parsed: call ${register.join(' / ')} there, or import the module of yours that does, first; from the CLI, pass that module with --import (docs/extending.md)`;
  }
  return error;
}

// ---------------------------------------------------------------------------------------------
// Dotted paths (shared by sweeps, the CLI's --set and the report)

export function getDotted(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) {
    if (!isObj(v)) return undefined;
    v = v[k];
  }
  return v;
}

/** Sets a dotted path on a plain object, creating intermediate objects; returns obj. */
/** Keys that reach Object.prototype (or a constructor) when assigned through a path. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Every key of a parsed JSON value that is in UNSAFE_KEYS, as dotted paths; a value nested deeper than MAX_NESTING is one issue. */
export function unsafeKeyIssues(value: unknown, prefix = '', depth = 0): Issue[] {
  str('prefix', prefix);
  int('depth', depth, 0);
  if ((Array.isArray(value) || isObj(value)) && depth >= MAX_NESTING) {
    return [{ code: 'too_deep', path: prefix, message: `Expected arrays and objects nested at most ${MAX_NESTING} levels deep, but this value goes deeper` }];
  }
  if (Array.isArray(value) && value.length > MAX_LIST_LENGTH) {
    return [{ code: 'too_long', path: prefix, message: `Expected an array of at most ${MAX_LIST_LENGTH} elements but received ${describeValue(value)}` }];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => unsafeKeyIssues(v, `${prefix}${prefix ? '.' : ''}${i}`, depth + 1));
  if (!isObj(value)) return [];
  return Object.keys(value).flatMap((k) => {
    const p = prefix ? `${prefix}.${boundText(k)}` : boundText(k);
    return UNSAFE_KEYS.has(k) ? [{ code: 'unsafe_key', path: p, message: `${quoteText(k)} is not allowed as a key` }] : unsafeKeyIssues(value[k], p, depth + 1);
  });
}

export function setDotted<T extends Record<string, unknown>>(obj: T, path: string, value: unknown): T {
  const keys = path.split('.');
  if (keys.some((k) => k.length === 0)) throw configError([{ code: 'invalid_path', path, message: 'Expected a dotted path of non-empty keys' }]);
  const unsafe = keys.find((k) => UNSAFE_KEYS.has(k));
  if (unsafe) throw configError([{ code: 'unsafe_key', path, message: `${quoteText(unsafe)} is not allowed as a key` }]);
  const valueIssues = unsafeKeyIssues(value, path);
  if (valueIssues.length) throw configError(valueIssues);
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
  return obj;
}

/** `value` (a config or part of it) without the field at a dotted path, the rest shared, not copied. */
export function withoutDotted(value: unknown, path: string): unknown {
  const drop = (v: unknown, keys: readonly string[]): unknown => {
    if (!isObj(v) || !Object.hasOwn(v, keys[0])) return v;
    const out = { ...v };
    if (keys.length === 1) delete out[keys[0]];
    else out[keys[0]] = drop(v[keys[0]], keys.slice(1));
    return out;
  };
  return drop(value, str('path', path).split('.'));
}

/** Leaves of a plain object as dotted paths (arrays and records count as leaves only when empty). */
export function flattenDotted(obj: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObj(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (isObj(v) && Object.keys(v).length > 0) Object.assign(out, flattenDotted(v, p));
    else if (v !== undefined) out[p] = v;
  }
  return out;
}
