/**
 * trainFromConfig: one validated experiment config → one trained run directory (architecture.md
 * decision 9). Resumes from the run's newest loadable checkpoint when there is one (the last two are
 * kept, and those of the epochs config.checkpoint names); writes a metrics.jsonl row then a
 * checkpoint every epoch, and final.json last (a run is finished only when it exists).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { checkDatasetFiles, createDataset, DataLoader, type Dataset, type Sampler } from '../data';
import { classFolders } from '../data/image-folder';
import { removeStaleTemps, writeJsonAtomic } from '../atomic';
import { logger, runLogger } from '../logger';
import { dataParallelFromEnv, rankPlacement, type DataParallelContext } from '../distributed/data-parallel';
import { distributedEnv } from '../distributed/env';
import { recordErrorFile } from '../distributed/error-file';
import type { Backend } from '../distributed/process-group';
import { convertSyncBatchNorm } from '../distributed/sync-batchnorm';
import { ampDeviceExpectation } from '../amp/mixed-precision';
import { describeValue, InvalidArgumentError, ToolkitError, type Issue } from '../errors';
import { quoteText } from '../quote';
import { createModel, resolveModelOptions, type Model } from '../models';
import { maskedLayers } from '../nn/masked';
import { optimizerFor } from './optimizer';
import { pruneModel, PruningInterruptedError, type PrunerName } from '../pruning';
import { ImpLevels, SparsityRecorder, sparsifyCallbacksFromConfig, sparsifyScheduleIssues } from '../sparsify';
import { applySignIn, SignInResetSchedule, SignTracker, type SignStats } from '../signin';
import { cuda, getRngState, manualSeed, setNumThreads, setRngState } from '../tensor/runtime';
import type { Callback, EpochMetrics, TrainContext } from '../train/callbacks';
import { gradScalerState, hasCheckpoint, keepsEpoch, loadLatestCheckpoint, readCheckpointInfo, saveCheckpoint } from '../train/checkpoint';
import { InterruptedError } from '../train/interrupt';
import { Trainer, type Batch, type BatchSource } from '../train/trainer';
import { acquireRunLock } from './lock';
import type { SignFlips } from './metrics';
import { runLabel } from './report';
import { keptCheckpointPath, runPaths } from './paths';
import { hessianCallbacks } from './hessian-callback';
import { pruneBatches, prunerNeedsData, trainSampleIssues } from './prune-data';
import { pruningStopOverRanks } from './pruning-stop';
import { loaderWorkersFor, modelOptionsFor, pruneOptionsFor, scheduleFor, signInOptionsFor, transformsFor } from './resolve';
import { appendMetrics, epochRanges, truncateMetrics, writeFinal } from './runs';
import { configError, datasetInfo, DEFAULTS, parsedConfigArg, type ExperimentConfig } from './schema';
import { int, keysOf, knownKeys, obj, str } from '../validate';
import { configWarnings, epochWarner } from './training-warnings';
import { deviceIssues } from './devices';
import { dependsOnStepsPerEpoch, stepIssues, trainSplitSize } from './steps';
import { applyTransfer, transferIssues, writeTransferRecord } from './transfer';

export interface TrainOptions {
  /**
   * The process group's backend when launched with several processes. Default: NCCL when the
   * run trains on CUDA and the addon has NCCL, Gloo otherwise (rankPlacement).
   */
  backend?: Backend;
  /**
   * Stops the run at the next step boundary once aborted (the CLI aborts it on SIGINT / SIGTERM):
   * the rolling checkpoint is written at that step and the call rejects with InterruptedError;
   * calling again resumes there. Aborted while pruning at initialization, it stops at the next
   * pruning round and rejects with PruningInterruptedError, nothing written: calling again prunes
   * again from the same seeded start. Data-parallel, every rank must be given one: the ranks agree
   * on the step, or the pruning round, they stop at (a collective at each). Default: none (the run only ends at its end or on an error).
   */
  signal?: AbortSignal;
}

export interface RunResult {
  epoch: number;
  testAcc: number;
  resumedFrom: number;
}

/**
 * The metrics.jsonl form of the tracker's statistics (fractions relative to init, per layer), and
 * the Sign-In layers' β: per layer, and over them weighted by their kept weights. A layer with no
 * kept weight has no β (the tracker's 0 there stands for nothing).
 */
export function signFlipsRow(s: SignStats): { signFlips: SignFlips; meanBeta?: number; betaPerLayer?: Record<string, number> } {
  obj('stats', s, 'SignStats (from SignTracker)');
  obj('stats.perLayer', s.perLayer, 'object of per-layer sign statistics');
  obj('stats.overall', s.overall, 'overall sign statistics');
  const perLayer: Record<string, number> = {};
  const betaPerLayer: Record<string, number> = {};
  let betaSum = 0;
  let betaN = 0;
  for (const [name, l] of Object.entries(s.perLayer)) {
    perLayer[name] = l.fromInit;
    if (l.meanBeta !== undefined && l.unmasked > 0) {
      betaPerLayer[name] = l.meanBeta;
      betaSum += l.meanBeta * l.unmasked;
      betaN += l.unmasked;
    }
  }
  const row: { signFlips: SignFlips; meanBeta?: number; betaPerLayer?: Record<string, number> } = {
    signFlips: { overall: s.overall.fromInit, fromInit: s.overall.fromInit, fromPrev: s.overall.fromPrev, perLayer },
  };
  if (betaN > 0) Object.assign(row, { meanBeta: betaSum / betaN, betaPerLayer });
  return row;
}

/** The device a config's `device` trains on: 'auto' is CUDA where libtorch finds it, else the CPU. */
export function resolveDevice(device: string): string {
  if (device !== 'auto') return device;
  return cuda.isAvailable() ? 'cuda' : 'cpu';
}

/**
 * The train loader takes this rank's shard in batches of batchSize / worldSize, so each step's
 * global batch is the one a single process would draw (same seeded permutation). The test loader
 * takes this rank's share of the set, each sample in one share only; the Trainer's shardedEval
 * sums the shares.
 */
function loaderFor(config: ExperimentConfig, ds: Dataset, train: boolean, dp: DataParallelContext): DataLoader {
  if (!train) return evalLoaderFor(config, ds, dp.evalSampler(ds.length));
  const { dropLast } = config.dataset;
  return new DataLoader(ds, {
    batchSize: dp.localBatch(config.batchSize),
    shuffle: true,
    sampler: dp.sampler(ds.length, { shuffle: true, seed: config.seed, dropLast }),
    dropLast,
    seed: config.seed,
    transforms: transformsFor(config, config.dataset.augment),
    // Decoding JPEGs needs worker threads; in-memory datasets are faster in-process.
    numWorkers: loaderWorkersFor(config),
    persistentWorkers: true,
  });
}

/**
 * How a run evaluates a split: in order, with the evaluation transforms, whole or (`sampler`) a
 * rank's share (signin-torch evaluate reads a checkpoint the same way).
 */
export function evalLoaderFor(config: ExperimentConfig, ds: Dataset, sampler?: Sampler): DataLoader {
  return new DataLoader(ds, {
    batchSize: Math.max(config.batchSize, 256),
    shuffle: false,
    sampler,
    seed: config.seed,
    transforms: transformsFor(config, false),
    numWorkers: loaderWorkersFor(config),
    persistentWorkers: true,
  });
}

/** The first `max` batches of each epoch of a loader (dataset.maxTrainBatches). */
export class FirstBatches implements BatchSource {
  private start = 0;

  constructor(private readonly loader: DataLoader, private readonly max: number) {}

  get length(): number {
    return Math.min(this.loader.length, this.max);
  }

  setEpoch(epoch: number): void {
    this.loader.setEpoch(epoch);
  }

  startAt(batch: number): void {
    this.loader.startAt(batch);
    this.start = batch;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    let n = this.start;
    this.start = 0;
    if (n >= this.max) return;
    for await (const b of this.loader) {
      yield b;
      if (++n >= this.max) break;
    }
  }
}

const DATASET_FIELDS = { numClasses: 'the classes', inChannels: 'the image channels', inputSize: 'the image size' } as const;

/**
 * Model options that contradict the dataset (a known one: a registered dataset has no
 * DATASET_INFO, and its config's model options are what say its shape). A wrong count of classes
 * fails on the first batch's targets, of channels on the first conv, and an image size wrong for
 * the model's layers (LeNet's and the MLP's first linear, the ViT's position embedding) on the
 * first forward, or it silently changes what SynFlow scores on.
 */
function datasetIssues(config: ExperimentConfig): Issue[] {
  const { name, imageSize } = config.dataset;
  const info = datasetInfo(name);
  if (!info) return [];
  const want = { ...info, inputSize: imageSize ?? info.inputSize };
  return (Object.keys(DATASET_FIELDS) as (keyof typeof DATASET_FIELDS)[]).flatMap((k) => {
    const got = config.model.options[k];
    if (got === undefined || got === want[k]) return [];
    if (k === 'numClasses' && name === 'imagenet') return imageFolderClassIssues(config, got);
    const of = k !== 'inputSize' || name !== 'imagenet' ? `${DATASET_FIELDS[k]} of dataset '${name}'`
      : imageSize !== undefined ? 'dataset.imageSize' : `the crop size of dataset '${name}'; set dataset.imageSize to train at another size`;
    return [{ code: 'dataset_mismatch', path: `model.options.${k}`, message: `Expected ${want[k]} (${of}) or no value but received ${describeValue(got)}` }];
  });
}

/**
 * ImageNet is read as an ImageFolder, whose labels are its class folders: a subset (Imagenette,
 * ImageNet-100) has fewer than 1000, and a model with at least that many outputs trains on it.
 */
function imageFolderClassIssues(config: ExperimentConfig, got: unknown): Issue[] {
  const train = path.join(config.dataset.root ?? '', 'train');
  if (config.dataset.root === undefined || !fs.existsSync(train)) return []; // the dataset check names the missing folder
  const classes = classFolders(train).length;
  if (typeof got === 'number' && got >= classes) return [];
  return [{ code: 'dataset_mismatch', path: 'model.options.numClasses', message: `Expected at least ${classes} (the class folders of ${train}) or no value but received ${describeValue(got)}` }];
}

/** The processes of a run: all of them, and those on this machine. */
export interface RunProcesses {
  worldSize: number;
  localWorldSize: number;
}

/** The processes given, checked, or else those torchrun's variables describe (one without them). */
function runProcesses(given: RunProcesses | undefined): RunProcesses {
  if (given === undefined) {
    const env = distributedEnv();
    return { worldSize: env?.worldSize ?? 1, localWorldSize: env?.localWorldSize ?? 1 };
  }
  obj('processes', given, '{ worldSize, localWorldSize }');
  const worldSize = int('processes.worldSize', given.worldSize, 1);
  return { worldSize, localWorldSize: int('processes.localWorldSize', given.localWorldSize, 1, worldSize) };
}

/** What can be told from the config and this machine alone, before anything is built. */
function configIssues(config: ExperimentConfig, processes: RunProcesses): Issue[] {
  const issues = deviceIssues(config.device, cuda.deviceCount(), processes.localWorldSize);
  const amp = ampDeviceExpectation(config.amp, resolveDevice(config.device));
  if (amp) issues.push({ code: 'unsupported_amp', path: 'amp', message: `Expected ${amp} but received ${describeValue(config.amp)}` });
  issues.push(...datasetIssues(config));
  if (config.sparsify) issues.push(...sparsifyScheduleIssues(config.sparsify, config.epochs).map((i) => ({ code: 'custom', ...i })));
  const local = config.batchSize / processes.worldSize;
  if (Number.isInteger(local) && config.gradAccumSteps > local) {
    const per = processes.worldSize > 1 ? ` (batchSize ${config.batchSize} over ${processes.worldSize} processes)` : '';
    issues.push({ code: 'too_big', path: 'gradAccumSteps', message: `Expected at most the per-process batch ${local}${per}, one sample per micro-batch, but received ${config.gradAccumSteps}` });
  }
  return issues;
}

/** A model built for its layer names and shapes, without moving the global RNG that the run seeds itself. */
function modelForChecks(config: ExperimentConfig): Model {
  const rng = getRngState();
  try {
    return createModel(config.model.name, modelOptionsFor(config));
  } finally {
    setRngState(rng);
    rng.dispose();
  }
}

/**
 * Names in signin.layers, signin.layerBeta and sparsify.denseLayers that are not masked layers of
 * the model (applySignIn and ImpLevels would refuse them after the run directory exists), and
 * layerBeta names outside signin.layers (a β no layer would get).
 */
function layerNameIssues(config: ExperimentConfig, model: Model): Issue[] {
  const names = maskedLayers(model).map(([n]) => n);
  const notMasked = (at: string, layer: string): Issue => ({
    code: 'unknown_layer', path: at, message: `Expected a masked layer of model ${config.model.name} (${names.join(', ')}) but received ${quoteText(layer)}`,
  });
  const unknown = (field: string, layers: readonly string[] = []): Issue[] => layers.flatMap((layer, i) => (names.includes(layer) ? [] : [notMasked(`${field}[${i}]`, layer)]));
  const { layers, layerBeta } = config.signin;
  const betaIssues: Issue[] = Object.keys(layerBeta ?? {}).flatMap((layer) => {
    const at = `signin.layerBeta[${JSON.stringify(layer)}]`;
    if (!names.includes(layer)) return [notMasked(at, layer)];
    if (layers && !layers.includes(layer)) return [{ code: 'not_signin_layer', path: at, message: `Expected one of the layers in signin.layers (${layers.join(', ')}): ${quoteText(layer)} is not reparameterized, so its β would never be used` }];
    return [];
  });
  return [...unknown('signin.layers', layers), ...betaIssues, ...unknown('sparsify.denseLayers', config.sparsify?.denseLayers)];
}

/**
 * Everything about a config that can fail before training: the model name and options and the
 * dataset's files (their own errors, as before), then, in one ERR_CONFIG naming each config field:
 * a CUDA device this machine lacks (one per process with a bare 'cuda'), fp16 on the CPU, model
 * options that contradict the dataset, a GMP or AC/DC schedule that does not fit the epochs, a
 * field bounded by the steps per epoch (IMP's rewind point, RiGL's deltaT, a batch dropLast drops
 * whole: steps.ts, from the train split's size counted without loading it, or a registered
 * dataset's registration.sizes), more training examples than that size for SNIP / GraSP
 * (pruning.dataSamples) or the Hessian (hessian.samples) to draw, Sign-In layers or IMP / LRR
 * layers kept dense (sparsify.denseLayers) the model lacks, a per-layer Sign-In β
 * (signin.layerBeta) for a layer the model lacks or Sign-In leaves alone, and a transfer source
 * missing its epoch or whose masked layers are not the model's.
 * The model is built (once, and the global RNG left as it was) only for those last two. The CLI
 * and sweeps call it before they create the run directory, so a run that cannot start leaves
 * nothing behind.
 *
 * @param runsDir the runs directory a relative transfer.from is resolved against; without it only
 *   an absolute one is checked.
 * @param processes the processes that will train it (`--nproc`): the CUDA devices they need on this
 *   machine, and the world size that divides the train split. Default: those torchrun's variables
 *   describe, one process without them.
 */
export function checkRunnable(config: ExperimentConfig, runsDir?: string, processes?: RunProcesses): void {
  config = parsedConfigArg('config', config);
  if (runsDir !== undefined) str('runsDir', runsDir);
  const procs = runProcesses(processes);
  resolveModelOptions(config.model.name, modelOptionsFor(config));
  checkDatasetFiles(config.dataset.name, { root: config.dataset.root });
  const issues = configIssues(config, procs);
  const steps = dependsOnStepsPerEpoch(config);
  const draws = prunerNeedsData(config.pruning.method) || config.hessian !== undefined;
  const trainSize = steps || draws ? trainSplitSize(config.dataset.name, config.dataset.root) : undefined;
  if (trainSize !== undefined) {
    if (steps) issues.push(...stepIssues(config, trainSize, procs.worldSize));
    issues.push(...trainSampleIssues(config, trainSize));
  }
  const t = config.transfer;
  const transferRoot = t && (path.isAbsolute(t.from) ? path.parse(t.from).root : runsDir);
  const checksLayers = config.signin.layers !== undefined || config.signin.layerBeta !== undefined || config.sparsify?.denseLayers !== undefined;
  if (checksLayers || transferRoot !== undefined) {
    const model = modelForChecks(config);
    try {
      if (checksLayers) issues.push(...layerNameIssues(config, model));
      if (t && transferRoot !== undefined) issues.push(...transferIssues(model, t, transferRoot));
    } finally {
      model.dispose();
    }
  }
  if (issues.length > 0) throw configError(issues);
}

/** The arguments of trainFromConfig, checked before a process group is joined or a lock taken. */
function checkTrainArgs(config: ExperimentConfig, runDir: unknown): void {
  const issues = configIssues(config, runProcesses(undefined));
  if (issues.length > 0) throw configError(issues);
  let isDir = false;
  try {
    isDir = fs.statSync(str('runDir', runDir)).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new InvalidArgumentError('runDir', 'an existing run directory (createRunDir(runsDir, config).dir)', runDir);
}

/**
 * 'random (erk) 95% + Sign-In seed 0', 'RiGL + Sign-In 90% seed 0': how the progress bar and the
 * run's log lines name a run.
 */
function runName(config: ExperimentConfig): string {
  if (config.sparsify || config.transfer) return `${runLabel(config)} seed ${config.seed}`;
  const p = config.pruning;
  const method = p.method === 'none' ? 'dense' : `${p.method}${p.distribution && p.scope === 'layerwise' ? ` (${p.distribution})` : ''} ${Number((p.sparsity * 100).toFixed(2))}%`;
  return `${method}${config.signin.enabled ? ' + Sign-In' : ''} seed ${config.seed}`;
}

/**
 * The step of the newest checkpoint of `files` whose header reads (-1 when none does: the load
 * then reports the damage, and every rank with the same files agrees on -1).
 */
function headerStep(files: readonly string[]): number {
  for (const f of files) {
    if (!fs.existsSync(f)) continue;
    try {
      return readCheckpointInfo(f).position.step;
    } catch {
      // a damaged header: the next file, as the load will
    }
  }
  return -1;
}

/**
 * Each rank reads the checkpoint from its own disk: with nodes that do not share the runs directory
 * a resumed rank 0 would train beside ranks starting afresh, averaging gradients of different
 * steps without an error (measured: it ran to the end).
 */
function sameStartOnEveryRank(dp: DataParallelContext, step: number, runDir: string): void {
  if (dp.worldSize === 1) return;
  const steps = dp.gatherNumbers([step]).map(([s]) => s);
  if (steps.every((s) => s === steps[0])) return;
  const where = steps.map((s, r) => `rank ${r} at step ${s}`).join(', ');
  throw new ToolkitError('ERR_DISTRIBUTED', `The ranks would start from different checkpoints of ${runDir} (${where}): every node must see the same run directory (a --runs-dir on storage all nodes share, or a copy of the run directory on each node)`);
}

/**
 * Trains one validated experiment config in a run directory: builds the dataset, model, mask
 * (pruning at initialization), Sign-In and optimizer the config names, then trains and evaluates,
 * writing metrics.jsonl and a checkpoint every epoch, log.jsonl as it goes and final.json last.
 * A run directory with a checkpoint resumes from it (same result as an uninterrupted run). The
 * run directory's lock is held throughout: a second trainer of the same run gets ERR_RUN_LOCKED,
 * and a lock left by a killed trainer is taken over. Launched with torchrun's variables
 * (`train --nproc N`) it trains data-parallel, rank 0 alone writing the run (docs/distributed.md).
 *
 * @param config the output of parseConfig (experiments/schema).
 * @param runDir the run's folder, usually createRunDir(runsDir, config).dir.
 * @param options the process group's backend under `--nproc` (default: NCCL on CUDA where built, else Gloo).
 * @returns the last epoch, its test accuracy and the epoch it resumed from (0 for a new run).
 * @example
 * const config = parseConfig(JSON.parse(fs.readFileSync('cfg.json', 'utf8')));
 * await trainFromConfig(config, createRunDir('runs', config).dir);
 */
export async function trainFromConfig(config: ExperimentConfig, runDir: string, options: TrainOptions = {}): Promise<RunResult> {
  // A config as a file holds it (few defaults named) is valid: the run reads the parsed one.
  config = parsedConfigArg('config', config);
  checkTrainArgs(config, runDir);
  obj('options', options, 'train options ({ backend?, signal? })');
  knownKeys('options', options, keysOf<TrainOptions>({ backend: true, signal: true }));
  const placement = rankPlacement(resolveDevice(config.device));
  const dp = dataParallelFromEnv({ backend: options.backend ?? placement.backend });
  const device = placement.device;
  try {
    if (!dp.isMain) return await trainLogged(config, runDir, logger().child({ run: runDir, label: runName(config), rank: dp.rank }), dp, device, options.signal);
    const lock = acquireRunLock(runDir);
    let logging: ReturnType<typeof runLogger>;
    try {
      logging = runLogger(runPaths(runDir).runLog, { run: runDir, label: runName(config) });
    } catch (e) {
      // A log file that cannot be opened ends the run before it starts; a lock kept by a live
      // process (an in-process sweep) would make every later attempt wait for it.
      lock.release();
      throw e;
    }
    const { log, close } = logging;
    fs.rmSync(runPaths(runDir).interrupted, { force: true });
    fs.rmSync(runPaths(runDir).failed, { force: true });
    try {
      return await trainLogged(config, runDir, log, dp, device, options.signal);
    } catch (e) {
      // The caller tells the user (the CLI's one line); the run's log keeps where it stopped.
      const where = e instanceof InterruptedError ? { ...e.position, checkpoint: e.checkpoint, reason: String(e.reason) }
        : e instanceof PruningInterruptedError ? { epoch: 0, step: 0, reason: String(e.reason), pruning: { round: e.round, rounds: e.rounds } }
          : undefined;
      if (where) {
        log.info(where, 'interrupted');
        writeJsonAtomic(runPaths(runDir).interrupted, where);
      } else {
        recordFailure(runDir, e);
        // A coded error is the user's data, config or machine: the caller's one line says it, a
        // stack would bury it. Anything else is a bug, whose stack is what finds it.
        if (e instanceof ToolkitError) log.debug({ err: e }, 'run failed');
        else log.error({ err: e }, 'run failed');
      }
      throw e;
    } finally {
      close();
      lock.release();
    }
  } catch (e) {
    // Before the process group closes: the peers fail on that, and a launcher takes the earliest
    // error for the root cause (src/distributed/error-file.ts).
    if (!(e instanceof InterruptedError || e instanceof PruningInterruptedError)) recordErrorFile(e);
    throw e;
  } finally {
    dp.finish();
  }
}

/**
 * failed.json: why the run stopped, for `list runs` (a run failing before its first epoch has no
 * other trace of it). Not writing it must not hide the failure being reported.
 */
function recordFailure(runDir: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  try {
    writeJsonAtomic(runPaths(runDir).failed, e instanceof ToolkitError ? { code: e.code, message } : { message });
  } catch {
    // the run's error is thrown on
  }
}

async function trainLogged(config: ExperimentConfig, runDir: string, log: Logger, dp: DataParallelContext, device: string, signal: AbortSignal | undefined): Promise<RunResult> {
  if (config.threads > 0) setNumThreads(config.threads);
  manualSeed(config.seed);

  const root = config.dataset.root;
  const trainSet = createDataset(config.dataset.name, { root, train: true });
  // The pre-run check's rule on the split as loaded (a registered dataset without registration.sizes is counted only here), before pruning.
  const stepProblems = stepIssues(config, trainSet.length, dp.worldSize);
  if (stepProblems.length > 0) throw configError(stepProblems);
  const train = loaderFor(config, trainSet, true, dp);
  const stepsPerEpoch = Math.min(train.length, config.dataset.maxTrainBatches ?? Infinity);
  for (const w of configWarnings(config, stepsPerEpoch)) log.warn(w);
  const test = loaderFor(config, createDataset(config.dataset.name, { root, train: false }), false, dp);
  const model = createModel(config.model.name, modelOptionsFor(config));
  if (device !== 'cpu') model.to(device);

  const paths = runPaths(runDir);
  if (dp.isMain) for (const file of removeStaleTemps(runDir)) log.warn({ file }, 'removed a temporary file left by a killed write');
  const resuming = hasCheckpoint(paths.checkpoint, paths.checkpointPrev);
  // Before pruning: a rank that prunes (no checkpoint on its disk) takes part in pruning's stop
  // agreement, one that resumes does not, and their collectives would pair up wrongly.
  sameStartOnEveryRank(dp, resuming ? headerStep([paths.checkpoint, paths.checkpointPrev]) : 0, runDir);
  const prune = pruneOptionsFor(config);
  if (prune && !resuming) {
    try {
      const data = prunerNeedsData(prune.method) ? await pruneBatches(config) : undefined;
      try {
        const result = await pruneModel<PrunerName>(model, { ...prune, data, signal, stopOverRanks: pruningStopOverRanks(dp) });
        log.info({ density: result.density ?? undefined }, 'pruned at initialization');
      } finally {
        data?.flat().forEach((t) => t.dispose());
      }
    } catch (e) {
      // A stop (or a failure) here ends the run before the trainer owns the model and loaders.
      model.dispose();
      await Promise.all([train.close(), test.close()]);
      throw e;
    }
  }
  // On the fresh init, before Sign-In splits θ; a resumed run's checkpoint already holds the
  // transferred start as trained, and the source need not exist any more.
  if (config.transfer && !resuming) {
    const record = applyTransfer(model, config.transfer, path.dirname(path.resolve(runDir)));
    if (dp.isMain) writeTransferRecord(runDir, record);
    log.info({ transfer: record }, 'transferred the start from another run');
  }
  if (config.signin.enabled) applySignIn(model, signInOptionsFor(config));

  // After pruning and Sign-In, whose training-mode forwards (SNIP, GraSP) stay per rank.
  if (config.syncBatchNorm && convertSyncBatchNorm(model) === 0) log.warn('syncBatchNorm: the model has no BatchNorm layers');
  const optimizer = optimizerFor(config, model);
  // Rank 0's parameters and buffers (masks, Sign-In factors) reach every rank here, so pruning
  // and Sign-In above must have run; a resumed run then loads the same checkpoint on every rank.
  const dataParallel = dp.wrap(model);

  const tracker = new SignTracker(model);
  const callbacks: Callback[] = [];
  const s = config.signin;
  if (s.enabled && s.resetPeriod > 0) {
    callbacks.push(new SignInResetSchedule(model, {
      period: s.resetPeriod, unit: s.resetUnit, stopAfterEpoch: s.stopResetAfterEpoch, epochs: config.epochs, momentum: s.momentumAtReset, optimizer,
    }));
  }
  const sparsify = sparsifyCallbacksFromConfig(config, stepsPerEpoch);
  const levels = sparsify.filter((cb): cb is ImpLevels => cb instanceof ImpLevels);
  callbacks.push(...sparsify.filter((cb) => !(cb instanceof ImpLevels)));
  // A transfer run's config names no sparsity (its mask is the source's): its rows record it.
  if (config.transfer) callbacks.push(new SparsityRecorder());
  const checkpointed: Callback[] = [...callbacks, ...levels, tracker];
  // Each rank's training loss, accuracy and wait for input are its own; the row records them over
  // the ranks (a collective: it runs on every rank; with one process, nothing).
  callbacks.push({ name: 'train-metrics-over-ranks', onEpochEnd: (_ctx: TrainContext, metrics: EpochMetrics) => dp.epochMetricsOverRanks(metrics) });
  callbacks.push(...hessianCallbacks(config).map((cb) => dp.mainOnly(cb)));
  const epochWarning = epochWarner(modelOptionsFor(config).numClasses ?? 0);
  // The rolling checkpoint holds the run at this step (the one resumed from, or the last written).
  let saved: { step: number; batch: number; file: string } | undefined;
  const partsAt = (ctx: TrainContext) => ({
    model, optimizer, callbacks: checkpointed, position: { epoch: ctx.epoch, step: ctx.step, ...(ctx.batch ? { batch: ctx.batch } : {}) },
  });
  const saveRolling = (ctx: TrainContext): string => {
    saveCheckpoint(paths.checkpoint, partsAt(ctx), { previous: paths.checkpointPrev });
    saved = { step: ctx.step, batch: ctx.batch, file: paths.checkpoint };
    return paths.checkpoint;
  };
  callbacks.push(dp.mainOnly({
    name: 'metrics',
    // trainAcc is set: the run's Trainer has the default criterion, which counts accuracy.
    onEpochEnd(ctx: TrainContext, metrics: EpochMetrics & { trainAcc: number }) {
      Object.assign(metrics, signFlipsRow(tracker.update()));
      appendMetrics(runDir, metrics);
      const warning = epochWarning(metrics);
      if (warning) log.warn(warning);
      // The kept copy before the rolling one: killed between the two, the run resumes from the
      // epoch before, trains this epoch again (bit-identically) and rewrites the same copy; the
      // other order would resume past an epoch whose copy was never written.
      if (keepsEpoch(config.checkpoint ?? DEFAULTS.checkpoint, ctx.epoch)) saveCheckpoint(keptCheckpointPath(runDir, ctx.epoch), partsAt(ctx));
      saveRolling(ctx);
    },
    // In an epoch's middle no row is appended: the epoch's row comes at its end, from the
    // trainer's sums, which the checkpoint carries (trainer.epochState()).
    onCheckpoint(ctx: TrainContext) {
      if (saved && saved.step === ctx.step && saved.batch === ctx.batch) return saved.file;
      // Stopped before the first step of a new run: nothing to keep, the rerun starts afresh.
      if (!saved && ctx.step === 0) return undefined;
      return saveRolling(ctx);
    },
  }));
  // IMP / LRR prune and rewind after a level's last row and checkpoint, so both hold the level as
  // trained; a run resumed from that checkpoint prunes at its start (ImpLevels.onTrainStart).
  callbacks.push(...levels);

  const trainer = new Trainer({
    model, optimizer, train: config.dataset.maxTrainBatches !== undefined ? new FirstBatches(train, config.dataset.maxTrainBatches) : train,
    test, device, epochs: config.epochs, lr: scheduleFor(config),
    labelSmoothing: config.labelSmoothing, gradClipNorm: config.gradClip, evalEvery: config.evalEvery, callbacks, logger: log, name: runName(config),
    amp: config.amp, channelsLast: config.channelsLast, dataParallel, signal, checkpointEvery: config.checkpoint?.everySteps ?? 0,
    gradAccumSteps: config.gradAccumSteps, shardedEval: dp.worldSize > 1,
  });
  if (trainer.gradScaler) checkpointed.push(gradScalerState(trainer.gradScaler));
  checkpointed.push(trainer.epochState());
  let resumedFrom = 0;
  if (resuming) {
    const onSkip = (file: string, e: unknown) => log.warn({ file, error: (e as Error).message }, 'checkpoint damaged: falling back to the previous one');
    const { position, file } = loadLatestCheckpoint([paths.checkpoint, paths.checkpointPrev], { model, optimizer, callbacks: checkpointed }, onSkip);
    trainer.setPosition(position.epoch, position.step, position.batch ?? 0);
    saved = { step: position.step, batch: position.batch ?? 0, file };
    resumedFrom = position.epoch;
    log.info({ ...position, file }, 'resumed from checkpoint');
  }
  sameStartOnEveryRank(dp, saved?.step ?? 0, runDir);
  // The row of an epoch is appended before its checkpoint is written: rows past the checkpoint
  // the run starts from (all of them on a fresh start) belong to epochs that will run again.
  // Rows missing before it are warned of, not refused: the checkpoint holds the training, only
  // retraining from scratch (deleting the run directory) could write them again, and the final
  // accuracy the reports use does not depend on them.
  const missing = dp.isMain ? truncateMetrics(runDir, resumedFrom) : [];
  if (missing.length > 0) {
    log.warn({ missing }, `${paths.metrics} has no row for epoch(s) ${epochRanges(missing)} of the ${resumedFrom} before the checkpoint ` +
      'the run resumes from: the file was cut or removed, those rows are lost (the run goes on; its curves will have a gap there)');
  }
  try {
    const last = await trainer.fit();
    let final: { testAcc?: number; testTop5?: number; testLoss?: number };
    if (last) final = last;
    else {
      const r = await trainer.evaluate(test);
      final = { testAcc: r.top1, testTop5: r.top5, testLoss: r.loss };
    }
    if (dp.isMain) {
      writeFinal(runDir, {
      epoch: trainer.ctx.epoch, step: trainer.ctx.step, testAcc: final.testAcc ?? 0, testTop5: final.testTop5,
        testLoss: final.testLoss, finishedAt: new Date().toISOString(),
        ...(last?.signFlips ? { signFlips: last.signFlips as SignFlips } : {}),
      });
    }
    return { epoch: trainer.ctx.epoch, testAcc: final.testAcc ?? 0, resumedFrom };
  } finally {
    for (const cb of levels) cb.dispose();
    tracker.dispose();
    optimizer.dispose();
    model.dispose();
    await Promise.all([train.close(), test.close()]);
  }
}
