/**
 * pruneModel: the shared pruning loop for any pruner (score → threshold → mask, repeated over an
 * exponential or linear schedule), as in Synaptic-Flow's prune_loop but keyed by parameter name.
 *
 * Targets: `sparsity` is the fraction of ALL masked conv/linear weights removed (layers kept dense
 * count as kept; Synaptic-Flow's dense classifier and RigL's unmasked first conv are outside
 * their targets instead, docs/pruning-fidelity.md). After the last round exactly
 * round((1 − sparsity) · N) weights are kept, so the achieved global sparsity equals the target
 * to within one weight, whatever the scope or distribution. Masks only shrink: weights already pruned stay pruned, and every round ranks only
 * the weights still kept.
 *
 * Scopes: 'global' ranks every prunable weight together (ties to the earlier layer, then the lower
 * index); 'layerwise' gives each layer the count of a density distribution (uniform, er, erk,
 * balanced, pyramidal; integer counts by largest remainders) and ranks within the layer.
 *
 * The model is scored in eval mode by default (BatchNorm uses its running statistics and is not
 * updated), as Synaptic-Flow does; `mode: 'train'` scores in training mode (as GraSP's authors
 * do). Every module's mode is restored afterwards, and in training mode every buffer but the masks
 * (BatchNorm's running statistics). Masks are written with each layer's setMask(): the
 * `weight_mask` buffers hold them and the weights outside become exactly zero.
 *
 * pruneModel is async: between rounds it gives Node's event loop a turn (setImmediate), so that
 * logs, progress, timers and signals are served during SynFlow's 100 rounds instead of after
 * them. One turn cost ~9 µs here against a SynFlow round's tens of milliseconds or more (CIFAR
 * ResNet-20), so it yields after every round. Iterative prunes log their progress (rounds done / total) at every tenth of
 * the rounds through the library logger, or hand it to `onRound` after every round.
 *
 * A `signal` (the CLI's SIGINT / SIGTERM) is read before the first round and after every round,
 * past that turn: an abort handler runs only in a turn, so a check without one would never see a
 * signal that came during a round. A round is synchronous native work and is not cut short (a
 * GraSP round on ImageNet runs to its end); pruneModel then rejects with PruningInterruptedError,
 * the masks of the finished rounds left in the model. After the last round too: a caller that
 * goes on to train would otherwise only notice the stop at its first step. Data-parallel ranks
 * that prune side by side pass `stopOverRanks`, a collective at each of those checks, so that they
 * all stop at the same one: a rank whose signal came after its last check would otherwise go on
 * alone to its next collective and fail there.
 */
import { InvalidArgumentError, ToolkitError, UnknownNameError } from '../errors';
import { nextTurn } from '../event-loop';
import { logger as rootLogger } from '../logger';
import { MASK_BUFFER, maskedLayers } from '../nn/masked';
import type { Module } from '../nn/module';
import { crossEntropy } from '../nn/functional';
import { noGrad } from '../tensor/autograd';
import { keep } from '../tensor/keep';
import { cat } from '../tensor/ops';
import { tidy } from '../tensor/engine';
import { Generator } from '../tensor/runtime';
import { Tensor } from '../tensor/tensor';
import { MAX_LIST_LENGTH, bool, int, keysOf, knownKeys, list, num, oneOf } from '../validate';
import type { LossFn, PruneBatch, PrunableWeight, Pruner, ScoreContext } from './base';
import { DISTRIBUTION_NAMES, layerDensities, type DistributionName } from './distributions';
import type { LiteralName } from '../literal-name';
import { get as getPruner, names as prunerNames, type PrunerName, type PrunerOptionsMap } from './registry';
import { SCHEDULES, scheduleDensities, type Schedule } from './schedule';
import { apportion, keptCount, topKMask } from './threshold';
import { PruningInterruptedError } from './interrupt';

export const SCOPES = ['global', 'layerwise'] as const;
export type Scope = (typeof SCOPES)[number];

/** A batch as an object or an [input, target] pair. */
export type PruneBatchLike = PruneBatch | [Tensor, Tensor];

export interface PruneOptions<M extends string = PrunerName> {
  /** A registered pruner name ('random', 'magnitude', 'snip', 'grasp', 'synflow') or a Pruner. */
  method: LiteralName<M, PrunerName> | Pruner;
  /** Fraction of the masked weights to remove, in [0, 1). */
  sparsity: number;
  /** 'global' (default without a distribution) or 'layerwise' (default when a distribution is given). */
  scope?: Scope;
  /** Layer densities for scope 'layerwise' (default 'uniform'); an error with scope 'global'. */
  distribution?: DistributionName;
  /** Prune in this many rounds (default: the pruner's, 100 for SynFlow, else 1). */
  iterations?: number;
  /** Density schedule over the rounds (default 'exponential'). */
  schedule?: Schedule;
  /** Keep the first masked layer (the first conv) dense. Default false. */
  denseFirst?: boolean;
  /** Keep the classifier dense (the model's outputLayerName, else the last masked layer). Default false. */
  denseLast?: boolean;
  /** Throw instead of warning when a layer would lose every weight. Default false. */
  strict?: boolean;
  /** Batches for data-driven pruners (SNIP, GraSP): one batch, an array or an iterable (read once). */
  data?: PruneBatchLike | Iterable<PruneBatchLike>;
  /** Loss on the data (default: mean cross-entropy). */
  loss?: LossFn;
  /** One example's input shape without batch dimension, for SynFlow (default: the model's inputShape, else the data's). */
  inputShape?: number[];
  /**
   * Seed of a private generator for random scores (default: the global RNG). The generator is
   * seeded with a fixed offset from it (privateSeed), so `manualSeed(s)` for the init and
   * `seed: s` here draw unrelated streams.
   */
  seed?: number;
  generator?: Generator;
  /** Options of the pruner itself (GraSP: { temperature }, SynFlow: { dtype }). */
  prunerOptions?: M extends PrunerName ? PrunerOptionsMap[M] : Record<string, unknown>;
  /** Module mode while scoring (default 'eval', as Synaptic-Flow; 'train' is GraSP's authors' setting). */
  mode?: 'eval' | 'train';
  /** Called after every round, instead of the progress log at every tenth of the rounds (the CLI prints its own). */
  onRound?: (progress: PruneProgress) => void;
  /** Stops between rounds once aborted: pruneModel rejects with PruningInterruptedError (see the file comment). */
  signal?: AbortSignal;
  /**
   * With `signal`, when several processes prune side by side and must stop at the same round: called
   * at every check with this process's stop (its signal's reason; undefined while not aborted), it
   * returns the stop every process takes (undefined: go on). A collective: every process makes the
   * same calls.
   */
  stopOverRanks?: (reason: unknown) => unknown;
}

export interface PruneProgress {
  round: number;
  rounds: number;
  /** Weights kept after this round. */
  kept: number;
  /** Seconds since the first round started. */
  seconds: number;
}

export interface PrunedLayer {
  /** Parameter name (`conv1.weight`). */
  name: string;
  total: number;
  kept: number;
  density: number;
  /** Kept dense by denseFirst / denseLast. */
  dense: boolean;
  empty: boolean;
}

export interface PruneResult {
  method: string;
  scope: Scope;
  distribution?: DistributionName;
  /** Density after each round. */
  schedule: number[];
  total: number;
  kept: number;
  density: number;
  sparsity: number;
  layers: PrunedLayer[];
  /** Parameter names of layers left with no weight. */
  emptyLayers: string[];
}

/** Thrown under `strict` when pruning would leave a layer without any weight. */
export class EmptyLayerError extends ToolkitError {
  readonly layers: string[];

  constructor(layers: { name: string; total: number }[], sparsity: number) {
    const emptied = list<{ name: string; total: number }>('layers', layers, 'array of { name: string, total: number }',
      (l) => typeof l === 'object' && l !== null && typeof (l as { name: unknown }).name === 'string' && typeof (l as { total: unknown }).total === 'number');
    super('ERR_INVALID_ARG',
      `Pruning to sparsity ${num('sparsity', sparsity)} would remove every weight of ${emptied.map((l) => `${l.name} (${l.total} weights)`).join(', ')}; `
      + 'lower the sparsity, keep the layer dense (denseFirst / denseLast), use a layerwise distribution, or pass strict: false to only warn');
    this.layers = emptied.map((l) => l.name);
  }
}

const OPTION_KEYS = keysOf<PruneOptions>({
  method: true, sparsity: true, scope: true, distribution: true, iterations: true, schedule: true, denseFirst: true, denseLast: true,
  strict: true, data: true, loss: true, inputShape: true, seed: true, generator: true, prunerOptions: true, mode: true, onRound: true,
  signal: true, stopOverRanks: true,
});

/** The masked layers' weights, in model order. */
export function prunableWeights(model: Module): PrunableWeight[] {
  return maskedLayers(model).map(([layerName, layer]) => ({
    name: layerName ? `${layerName}.weight` : 'weight', layerName, layer, weight: layer.weight, mask: layer.mask,
  }));
}

function isBatchLike(v: unknown): v is PruneBatchLike {
  if (Array.isArray(v)) return v.length === 2 && v[0] instanceof Tensor && v[1] instanceof Tensor;
  return typeof v === 'object' && v !== null && (v as PruneBatch).input instanceof Tensor && (v as PruneBatch).target instanceof Tensor;
}

function toBatch(v: PruneBatchLike): PruneBatch {
  return Array.isArray(v) ? { input: v[0], target: v[1] } : v;
}

function readBatches(data: unknown): PruneBatch[] {
  if (data === undefined) return [];
  if (isBatchLike(data)) return [toBatch(data)];
  if (typeof data === 'object' && data !== null && typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const out: PruneBatch[] = [];
    for (const b of data as Iterable<unknown>) {
      if (!isBatchLike(b)) throw new InvalidArgumentError(`data[${out.length}]`, '{ input, target } or [input, target] Tensors', b);
      out.push(toBatch(b));
    }
    return out;
  }
  throw new InvalidArgumentError('data', '{ input, target }, [input, target] or an iterable of them', data);
}

/** The default loss is cross-entropy over class indices: other targets fail deep in libtorch, naming no batch. */
function checkClassTargets(batches: PruneBatch[], single: boolean): void {
  batches.forEach((b, i) => {
    if (b.target.dtype !== 'int64' || b.target.ndim !== 1 || b.target.shape[0] !== b.input.shape[0]) {
      throw new InvalidArgumentError(single ? 'data.target' : `data[${i}].target`, `int64 class indices of shape [${b.input.shape[0]}] for the default cross-entropy loss (or pass loss)`,
        b.target);
    }
  });
}

function resolveInputShape(model: Module, options: Pick<PruneOptions, 'inputShape'>, batches: PruneBatch[]): number[] | undefined {
  if (options.inputShape !== undefined) {
    const s = options.inputShape;
    if (!Array.isArray(s) || s.length === 0 || !s.every((d) => Number.isInteger(d) && d > 0)) {
      throw new InvalidArgumentError('inputShape', 'non-empty array of positive integers', s);
    }
    return s;
  }
  const own = (model as unknown as { inputShape?: readonly number[] }).inputShape;
  if (Array.isArray(own) && own.length) return [...own];
  if (batches.length) return batches[0].input.shape.slice(1);
  return undefined;
}

/**
 * The masked layers (module names, in model order as `layerNames`) kept dense by denseFirst (the
 * first) and denseLast (the model's outputLayerName when it is one of them, else the last).
 * Shared with IMP / LRR (src/sparsify).
 */
export function denseLayerNames(model: Module, layerNames: readonly string[], first: boolean, last: boolean): Set<string> {
  const out = new Set<string>();
  if (layerNames.length === 0) return out;
  if (first) out.add(layerNames[0]);
  if (last) {
    const outName = (model as unknown as { outputLayerName?: string }).outputLayerName;
    out.add(typeof outName === 'string' && layerNames.includes(outName) ? outName : layerNames[layerNames.length - 1]);
  }
  return out;
}

function maskCount(mask: Tensor): number {
  return tidy(() => mask.ne(0).sum().item());
}

function checkScores(scores: unknown, prunable: PrunableWeight[], all: PrunableWeight[], method: string): Map<string, Tensor> {
  if (!(scores instanceof Map)) throw new InvalidArgumentError(`${method} scores`, 'Map from parameter name to Tensor', scores);
  const known = new Set(all.map((w) => w.name));
  for (const k of scores.keys()) {
    if (!known.has(k)) throw new InvalidArgumentError(`${method} scores`, `keys among the masked weights (${[...known].join(', ')})`, k);
  }
  for (const w of prunable) {
    const s = scores.get(w.name);
    if (!(s instanceof Tensor)) throw new InvalidArgumentError(`${method} scores['${w.name}']`, 'Tensor', s);
    if (s.shape.join(',') !== w.weight.shape.join(',')) {
      throw new InvalidArgumentError(`${method} scores['${w.name}']`, `a Tensor of shape [${w.weight.shape.join(', ')}]`, `shape [${s.shape.join(', ')}]`);
    }
    // topKMask ranks NaN last, so NaN scores (NaN data, a diverged loss) would keep the first
    // weights of each layer in index order: a mask that looks fine and means nothing.
    if (tidy(() => s.ne(s).any().item())) {
      throw new InvalidArgumentError(`${method} scores['${w.name}']`, 'scores without NaN (check the pruning data, the loss and the weights for NaN or infinities)', 'NaN scores');
    }
  }
  return scores as Map<string, Tensor>;
}

/**
 * Runs fn with every prunable weight requiring grad: a score is a gradient whether or not the
 * weight trains, and autograd refuses a frozen one. Frozen weights are frozen again afterwards,
 * looked up through their layers (SynFlow's Module.to replaces the tensors).
 */
function withGradOn<T>(weights: PrunableWeight[], fn: () => T): T {
  const frozen = weights.filter((w) => !w.weight.requiresGrad).map((w) => w.layer);
  for (const l of frozen) l.weight.requiresGrad_(true);
  try {
    return fn();
  } finally {
    for (const l of frozen) l.weight.requiresGrad_(false);
  }
}

/**
 * Runs fn with the model in `mode`, then restores every module's mode. A forward pass in training
 * mode updates BatchNorm's running statistics and counters, so in that mode the buffers (masks
 * aside) are restored too: scoring must not change the model it prunes (GraSP's authors score a
 * deep copy, alecwangcq/GraSP pruner/GraSP.py). They are restored by name, because SynFlow's
 * Module.to replaces the tensors.
 */
function withMode<T>(model: Module, mode: 'eval' | 'train', fn: () => T): T {
  const saved = [...model.namedModules()].map(([, m]) => [m, m.training] as const);
  const buffers = mode === 'train'
    ? noGrad(() => [...model.namedBuffers()].filter(([n]) => !n.endsWith(MASK_BUFFER)).map(([n, b]) => [n, keep(b.clone())] as const))
    : [];
  model.train(mode === 'train');
  try {
    return fn();
  } finally {
    for (const [m, t] of saved) m.training = t;
    if (buffers.length) {
      const live = new Map(model.namedBuffers());
      noGrad(() => {
        for (const [n, copy] of buffers) {
          live.get(n)!.copy_(copy);
          copy.dispose();
        }
      });
    }
  }
}

/**
 * Prunes a model's masked layers at initialization to a global sparsity (see the file comment):
 * score → threshold → mask, over `iterations` rounds, yielding to the event loop between rounds.
 * Weights outside the mask become exactly 0.
 *
 * @param model a model with masked conv/linear layers (every createModel model).
 * @param options `method` (a pruner name, type-checked when literal, or a Pruner), `sparsity`
 *   (fraction removed, in [0, 1)), `scope` and `distribution` (e.g. 'layerwise' + 'erk'), and
 *   `data` for SNIP and GraSP.
 * @returns a Promise of the kept counts and density per layer.
 * @throws (rejects with) InvalidArgumentError for bad options, UnknownNameError for an unknown
 *   method or distribution, EmptyLayerError under `strict` when a layer would be emptied (else a
 *   warning), PruningInterruptedError (ERR_INTERRUPTED) once `signal` is aborted.
 * @example
 * await pruneModel(model, { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'erk' });
 */
export async function pruneModel<M extends string = PrunerName>(model: Module, options: PruneOptions<M>): Promise<PruneResult> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'options object', options);
  knownKeys('options', options, OPTION_KEYS);
  const pruner = typeof options.method === 'string'
    ? getPruner(options.method, (options.prunerOptions ?? {}) as Record<string, unknown>)
    : options.method;
  if (!pruner || typeof pruner.score !== 'function') {
    throw new InvalidArgumentError('method', `a pruner name (${prunerNames().join(', ')}) or a Pruner`, options.method);
  }
  if (typeof options.method !== 'string' && options.prunerOptions !== undefined) {
    throw new InvalidArgumentError('prunerOptions', 'undefined when method is a Pruner object', options.prunerOptions);
  }
  const sparsity = options.sparsity;
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity < 1)) throw new InvalidArgumentError('sparsity', 'number in [0, 1)', sparsity);
  if (options.distribution !== undefined && !(DISTRIBUTION_NAMES as readonly string[]).includes(options.distribution)) {
    throw new UnknownNameError('distribution', options.distribution, DISTRIBUTION_NAMES);
  }
  const scope = oneOf('scope', options.scope ?? (options.distribution ? 'layerwise' : 'global'), SCOPES);
  if (scope === 'global' && options.distribution !== undefined) {
    throw new InvalidArgumentError('distribution', "undefined with scope 'global' (distributions apply to scope 'layerwise')", options.distribution);
  }
  const distribution: DistributionName | undefined = scope === 'layerwise' ? options.distribution ?? 'uniform' : undefined;
  // Bounded: the schedule holds one density per round, and 2^30 of them exhausted V8's heap (an abort).
  const rounds = int('iterations', options.iterations ?? pruner.defaultIterations, 1, MAX_LIST_LENGTH);
  const schedule = oneOf('schedule', options.schedule ?? 'exponential', SCHEDULES);
  const strict = bool('strict', options.strict ?? false);
  const denseFirst = bool('denseFirst', options.denseFirst ?? false);
  const denseLast = bool('denseLast', options.denseLast ?? false);
  const mode = oneOf('mode', options.mode ?? 'eval', ['eval', 'train'] as const);
  if (options.loss !== undefined && typeof options.loss !== 'function') throw new InvalidArgumentError('loss', 'function', options.loss);
  const onRound = options.onRound;
  if (onRound !== undefined && typeof onRound !== 'function') throw new InvalidArgumentError('onRound', 'function', onRound);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError('signal', 'AbortSignal', signal);
  const stopOverRanks = options.stopOverRanks;
  if (stopOverRanks !== undefined && typeof stopOverRanks !== 'function') throw new InvalidArgumentError('stopOverRanks', 'function', stopOverRanks);
  let generator = options.generator;
  if (generator !== undefined && !(generator instanceof Generator)) throw new InvalidArgumentError('generator', 'Generator', generator);
  if (options.seed !== undefined) {
    if (generator) throw new InvalidArgumentError('seed', 'undefined when a generator is given', options.seed);
    generator = new Generator(privateSeed(int('seed', options.seed, 0)));
  }
  const batches = readBatches(options.data);
  if (pruner.needsData && batches.length === 0) {
    throw new InvalidArgumentError('data', `at least one batch (${pruner.name} scores weights on data)`, options.data);
  }
  if (options.loss === undefined) checkClassTargets(batches, isBatchLike(options.data));
  const inputShape = resolveInputShape(model, options, batches);
  const log = rootLogger().child({ module: 'pruning', method: pruner.name });

  let weights = prunableWeights(model);
  if (weights.length === 0) throw new InvalidArgumentError('model', 'a model with masked layers (MaskedConv2d / MaskedLinear)', model);
  const denseModules = denseLayerNames(model, weights.map((w) => w.layerName), denseFirst, denseLast);
  const denseNames = new Set(weights.filter((w) => denseModules.has(w.layerName)).map((w) => w.name));
  const sizes = weights.map((w) => w.weight.numel);
  const total = sizes.reduce((a, b) => a + b, 0);
  const targetKept = keptCount(1 - sparsity, total);
  const fixedKept = () => weights.reduce((s, w) => s + (denseNames.has(w.name) ? maskCount(w.mask) : 0), 0);
  const fixed = fixedKept();
  if (fixed > targetKept) {
    throw new InvalidArgumentError('sparsity', `number <= ${1 - fixed / total} (the layers kept dense hold ${fixed} of ${total} weights)`, sparsity);
  }
  const currentKept = weights.reduce((s, w) => s + maskCount(w.mask), 0);
  if (currentKept < targetKept) {
    throw new InvalidArgumentError('sparsity', `number >= ${1 - currentKept / total} (the current masks keep only ${currentKept} of ${total} weights and pruning never regrows)`, sparsity);
  }
  // Rounds start from the current density: a mask already at 50% pruned to 90% takes the remaining path.
  const startDensity = currentKept / total;
  const densities = scheduleDensities(1 - sparsity, rounds, schedule, startDensity);
  const loss: LossFn = options.loss ?? ((out, target) => crossEntropy(out, target));
  const warned = new Set<string>();
  const started = Date.now();
  let logged = 0;
  const stopIfAborted = (done: number): void => {
    if (!signal) return;
    const own = signal.aborted ? signal.reason : undefined;
    const reason = stopOverRanks ? stopOverRanks(own) : own;
    if (reason !== undefined) throw new PruningInterruptedError(reason, done, rounds, pruner.name);
  };

  stopIfAborted(0);
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      await nextTurn();
      stopIfAborted(r);
    }
    const kept = r === rounds - 1 ? targetKept : Math.min(currentKept, Math.max(targetKept, keptCount(densities[r], total)));
    const emptied = tidy(() => {
      const ctx: ScoreContext = {
        weights, batches, loss, inputShape, generator, round: r + 1, rounds, logger: log,
      };
      const raw = withMode(model, mode, () => withGradOn(weights, () => pruner.score(model, ctx)));
      weights = prunableWeights(model); // a pruner may have replaced tensors (SynFlow in float64)
      const prunable = weights.filter((w) => !denseNames.has(w.name));
      if (prunable.length === 0) return [];
      const scores = checkScores(raw, prunable, weights, pruner.name);
      const budget = kept - fixedKept();
      const masks = scope === 'global'
        ? globalMasks(prunable, scores, budget)
        : layerwiseMasks(weights, prunable, denseNames, scores, budget, kept / total, distribution!);
      const counts = prunable.map((w) => tidy(() => masks.get(w.name)!.sum().item()));
      const empty = prunable.filter((_, i) => counts[i] === 0).map((w) => ({ name: w.name, total: w.weight.numel }));
      if (empty.length && strict) throw new EmptyLayerError(empty, sparsity);
      for (const w of prunable) w.layer.setMask(masks.get(w.name)!);
      return empty.map((e) => e.name);
    });
    // Warn once per layer, in the round that empties it.
    const fresh = emptied.filter((n) => !warned.has(n));
    if (fresh.length) {
      for (const n of fresh) warned.add(n);
      log.warn({ round: r + 1, layers: fresh },
        `pruning left ${fresh.length} layer(s) without any weight: ${fresh.join(', ')} (layer collapse)`);
    }
    onRound?.({ round: r + 1, rounds, kept, seconds: (Date.now() - started) / 1000 });
    const tenth = Math.floor((10 * (r + 1)) / rounds);
    if (!onRound && rounds > 1 && tenth > logged) {
      logged = tenth;
      log.info({ round: r + 1, rounds, kept, seconds: (Date.now() - started) / 1000 }, `pruning: ${r + 1}/${rounds} rounds`);
    }
  }
  if (signal) {
    await nextTurn();
    stopIfAborted(rounds);
  }

  const layers: PrunedLayer[] = weights.map((w) => {
    const k = maskCount(w.mask);
    const n = w.weight.numel;
    return { name: w.name, total: n, kept: k, density: k / n, dense: denseNames.has(w.name), empty: k === 0 };
  });
  const keptAll = layers.reduce((s, l) => s + l.kept, 0);
  return {
    method: pruner.name,
    scope,
    distribution,
    schedule: densities,
    total,
    kept: keptAll,
    density: keptAll / total,
    sparsity: 1 - keptAll / total,
    layers,
    emptyLayers: layers.filter((l) => l.empty).map((l) => l.name),
  };
}

/** Global ranking: the `budget` best eligible scores over all prunable layers. */
function globalMasks(prunable: PrunableWeight[], scores: Map<string, Tensor>, budget: number): Map<string, Tensor> {
  const dtype = prunable.some((w) => scores.get(w.name)!.dtype === 'float64') ? 'float64' : 'float32';
  const flat = cat(prunable.map((w) => scores.get(w.name)!.to(dtype).reshape([-1])));
  const eligible = cat(prunable.map((w) => w.mask.reshape([-1])));
  const selected = topKMask(flat, budget, eligible);
  const out = new Map<string, Tensor>();
  let offset = 0;
  for (const w of prunable) {
    const n = w.weight.numel;
    out.set(w.name, selected.narrow(0, offset, n).reshape(w.weight.shape));
    offset += n;
  }
  return out;
}

/** Layerwise: counts from the distribution at the round's density, ranked within each layer. */
function layerwiseMasks(all: PrunableWeight[], prunable: PrunableWeight[], denseNames: Set<string>, scores: Map<string, Tensor>,
  budget: number, roundDensity: number, distribution: DistributionName): Map<string, Tensor> {
  const densities = layerDensities(distribution, all.map((w) => ({ name: w.name, shape: w.weight.shape })), roundDensity,
    { dense: denseNames });
  const quotas = prunable.map((w) => densities[all.indexOf(w)] * w.weight.numel);
  const qsum = quotas.reduce((a, b) => a + b, 0);
  const scaled = qsum > 0 ? quotas.map((q) => (q * budget) / qsum) : quotas;
  const caps = prunable.map((w) => maskCount(w.mask));
  const counts = apportion(scaled, caps, budget);
  const out = new Map<string, Tensor>();
  prunable.forEach((w, i) => {
    out.set(w.name, topKMask(scores.get(w.name)!.reshape([-1]), counts[i], w.mask.reshape([-1])).reshape(w.weight.shape));
  });
  return out;
}

/**
 * Not the seed itself: a model initialized after manualSeed(seed) draws from a generator of that
 * seed, and a pruner generator of the same seed would replay the init's uniform stream, so the
 * random scores of the first masked layer would equal its init's uniform draws and a "random" mask
 * would keep exactly the most positive weights of a uniformly initialized first layer (LeNet-5's
 * conv1, an MLP's fc1; test/native/experiments/pruning-seed.test.ts). Any fixed offset gives an
 * unrelated stream.
 */
function privateSeed(seed: number): number {
  return seed <= Number.MAX_SAFE_INTEGER - PRIVATE_SEED_OFFSET ? seed + PRIVATE_SEED_OFFSET : seed - PRIVATE_SEED_OFFSET;
}
const PRIVATE_SEED_OFFSET = 0x9e3779b9;
