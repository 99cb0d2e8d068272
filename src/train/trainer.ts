/**
 * The training loop: epochs of SGD steps, each inside tidy(), per-epoch evaluation, callbacks
 * (LR schedule, Sign-In resets, sign statistics, metrics, checkpoints). Policy lives in callbacks;
 * this loop only orders them.
 *
 * Stopping early: the loop installs no signal handlers (a library must not take over a process's
 * signals). A caller passes an AbortSignal as `signal` (the CLI aborts it on SIGINT / SIGTERM);
 * once it fires, the step in flight finishes, the callbacks' onCheckpoint('interrupt') write the
 * checkpoint at that step, and fit rejects with InterruptedError. An epoch may then resume at any
 * of its steps (setPosition's `batch`): its batches before that step are not built, its training
 * loss and accuracy so far come from the checkpoint (epochState), its LR schedule goes on per step.
 */
import type { Logger } from 'pino';
import { MixedPrecision, type AmpMode, type ChannelsLastMode, type GradScaler } from '../amp';
import { EventLoopTurns } from '../event-loop';
import { logger as rootLogger } from '../logger';
import { crossEntropy, invalidTensorArg } from '../nn/functional';
import { InvalidArgumentError, ToolkitError } from '../errors';
import { moduleArg, type Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import { Tensor } from '../tensor/tensor';
import { bool, func, int, keysOf, knownKeys, list, num, obj, str } from '../validate';
import type { Callback, CheckpointReason, EpochMetrics, Optimizer, TrainContext } from './callbacks';
import { clipGradNorm } from './clip';
import { MetricAccumulator, topkCorrect } from './metrics';
import { InterruptedError, signalName, signalNumber } from './interrupt';
import { Progress } from './progress';

export interface Batch {
  x: Tensor;
  y: Tensor;
}

/**
 * What the trainer trains and evaluates on: a DataLoader, or any async iterable of batches. Each
 * batch's x and y are the trainer's once yielded (disposed after their step), so a source of one's
 * own yields new tensors (slices of the data it holds), never the tensors it keeps.
 */
export interface BatchSource extends AsyncIterable<Batch> {
  /** Batches per epoch. */
  readonly length: number;
  /** Reseeds shuffling and augmentation for an epoch (deterministic resume). */
  setEpoch?(epoch: number): void;
  /**
   * The next iteration starts at batch `batch` of the epoch set by setEpoch, without building the
   * batches before it (a mid-epoch resume). Without it the trainer draws and drops those batches.
   */
  startAt?(batch: number): void;
}

/**
 * A batch the source yielded again after the trainer disposed it (a source yielding the tensors it
 * keeps) would fail at its first op with a bare "Tensor is disposed"; this names the cause.
 */
function liveBatch(batch: Batch): Batch {
  for (const key of ['x', 'y'] as const) {
    const t: unknown = batch?.[key];
    if (!(t instanceof Tensor)) throw new InvalidArgumentError(`batch.${key}`, 'Tensor', t);
    if (t.isDisposed) {
      throw invalidTensorArg(`batch.${key}`, 'a Tensor not yet disposed (the trainer disposes each batch after using it: a batch source yields new tensors, such as slices of the data it holds)', t);
    }
  }
  return batch;
}

/**
 * What data-parallel training needs from the loop (src/distributed's DistributedDataParallel
 * implements it). Gradients are reduced during backward (or right after it), before loss
 * unscaling, the callbacks' onAfterBackward and clipping, so that every rank takes every decision
 * (skip an overflowed step, grow a mask by the gradient, clip) on the same global gradient.
 */
export interface DataParallelHooks {
  /** After the callbacks' onTrainStart: state they changed (an initial mask) comes from rank 0. */
  syncState(): void;
  /**
   * Right before the backward of `loss` whose gradients are to be reduced: arms whatever reduces
   * them during backward. With gradient accumulation, only the last micro-batch's (DDP's no_sync
   * for the others, whose gradients that reduction then includes).
   */
  prepareBackward(loss: Tensor): void;
  /** Right after backward: the gradients of `params` become their mean over the ranks. */
  syncGradients(params: readonly Tensor[]): void;
  /** After each epoch's training steps, before evaluation and the epoch-end callbacks (checkpoints). */
  syncBuffers(): void;
  /**
   * Element-wise sums of `values` over the ranks (float64): how the ranks agree to stop at the same
   * step (one element, every step while a `signal` is given) and merge a mid-epoch checkpoint's
   * training sums. A collective, called by every rank at the same point. Needed with `signal` and to
   * resume in an epoch's middle.
   */
  sumOverRanks?(values: readonly number[]): number[];
}

/**
 * A training objective: the mean loss over a (micro-)batch of the model's output against its
 * targets, as a scalar Tensor (PyTorch's `criterion(output, target)` with reduction 'mean': the
 * epoch's loss and gradient accumulation weight it by the batch's size). `input` is the batch the
 * output came from, for an objective that needs it (distillation's teacher).
 */
export type Criterion = (output: Tensor, target: Tensor, input: Tensor) => Tensor;

export interface TrainerOptions {
  model: Module;
  optimizer: Optimizer;
  train: BatchSource;
  test?: BatchSource;
  epochs: number;
  /** Learning rate as a function of fractional epoch (2.5 = halfway through the third epoch). */
  lr: (epoch: number) => number;
  /** Cross-entropy's label smoothing (default 0), for the default criterion only. */
  labelSmoothing?: number;
  /** The training objective (default: cross-entropy with labelSmoothing over class logits). */
  criterion?: Criterion;
  /** evaluate's loss (default: `criterion` when given, else cross-entropy without smoothing, as timm's validate_loss_fn). */
  evalCriterion?: Criterion;
  /**
   * Whether to count top-1/top-5 accuracy, the output read as class logits (batch, classes) and the
   * target as class indices. Default: true with the default criterion, false with a custom one;
   * when off, the metrics have no trainAcc, testAcc or testTop5.
   */
  accuracy?: boolean;
  gradClipNorm?: number;
  evalEvery?: number;
  device?: string;
  /** Autocast the forward: 'bf16', 'fp16' (with loss scaling; CUDA only) or false (default). */
  amp?: AmpMode;
  /** channels_last inputs: true, false or 'auto' (default: on the CPU when libtorch has oneDNN). */
  channelsLast?: ChannelsLastMode;
  callbacks?: Callback[];
  logger?: Logger;
  progress?: boolean;
  /** Names the run in the progress bar (method, sparsity, seed). */
  name?: string;
  /** Set when training data-parallel (one Trainer per rank). */
  dataParallel?: DataParallelHooks;
  /**
   * Stops training at the next step boundary once aborted (the CLI aborts it on SIGINT / SIGTERM):
   * the callbacks' onCheckpoint('interrupt') run, then fit rejects with InterruptedError. Default: none.
   */
  signal?: AbortSignal;
  /** Asks the callbacks for a checkpoint (onCheckpoint 'periodic') every this many steps inside an epoch; 0 (default): none. */
  checkpointEvery?: number;
  /**
   * Splits each batch into this many micro-batches, each forward and backward on its own, their
   * gradients accumulated before the one optimizer step (default 1: none). The step is the whole
   * batch's: each micro-batch's loss is weighted by its share of the batch, so without
   * training-mode BatchNorm (which normalizes each micro-batch by its own statistics) the weights
   * match the unsplit batch's to float32 rounding, in the activation memory of a micro-batch.
   */
  gradAccumSteps?: number;
  /**
   * Data-parallel, whether each rank's `test` (and evaluate's source) is its own share of the
   * evaluation set (DataParallelContext.evalSampler): evaluation then sums loss and hits over the
   * ranks, so each rank evaluates 1/worldSize of the set and every rank gets the whole set's
   * results. A collective: every rank evaluates. Needs `dataParallel.sumOverRanks`; ignored
   * without `dataParallel` (one process holds the whole set). Default false: each rank's results
   * are its own source's.
   */
  shardedEval?: boolean;
}

export interface EvalResult {
  loss: number;
  /** Absent when the trainer's accuracy is off. */
  top1?: number;
  top5?: number;
}

function batchSourceArg(name: string, v: unknown): void {
  const expected = 'batch source (an async iterable of { x, y } with a length)';
  const src = obj<BatchSource>(name, v, expected);
  // A Dataset (get, label) is what a PyTorch user passes first: say what to wrap it in.
  const ds = v as { get?: unknown; label?: unknown };
  if (typeof ds.get === 'function' && typeof ds.label === 'function' && typeof src[Symbol.asyncIterator] !== 'function') {
    throw new InvalidArgumentError(name, 'a batch source (a DataLoader over the Dataset: new DataLoader(dataset, { batchSize, shuffle }))', v);
  }
  if (typeof src[Symbol.asyncIterator] !== 'function') throw new InvalidArgumentError(name, expected, v);
  int(`${name}.length`, src.length, 0);
}

const TRAINER_OPTIONS = keysOf<TrainerOptions>({
  model: true, optimizer: true, train: true, test: true, epochs: true, lr: true, labelSmoothing: true, criterion: true,
  evalCriterion: true, accuracy: true, gradClipNorm: true, evalEvery: true, device: true, amp: true, channelsLast: true,
  callbacks: true, logger: true, progress: true, name: true, dataParallel: true, signal: true, checkpointEvery: true,
  gradAccumSteps: true, shardedEval: true,
});

function checkOptions(options: TrainerOptions): void {
  obj('options', options, 'trainer options ({ model, optimizer, train, epochs, lr, ... })');
  knownKeys('options', options, TRAINER_OPTIONS);
  moduleArg('model', options.model);
  const optimizer = obj<Optimizer>('optimizer', options.optimizer, 'optimizer (with step and zeroGrad)');
  func('optimizer.step', optimizer.step);
  func('optimizer.zeroGrad', optimizer.zeroGrad);
  batchSourceArg('train', options.train);
  if (options.test !== undefined) batchSourceArg('test', options.test);
  int('epochs', options.epochs, 1);
  func('lr', options.lr);
  num('labelSmoothing', options.labelSmoothing ?? 0, 0, 1);
  if (options.criterion !== undefined) {
    func('criterion', options.criterion);
    if ((options.labelSmoothing ?? 0) !== 0) {
      throw new InvalidArgumentError('labelSmoothing', '0 or unset with a criterion (it smooths the default cross-entropy only)', options.labelSmoothing);
    }
  }
  if (options.evalCriterion !== undefined) func('evalCriterion', options.evalCriterion);
  if (options.accuracy !== undefined) bool('accuracy', options.accuracy);
  if (options.gradClipNorm !== undefined) num('gradClipNorm', options.gradClipNorm, 0);
  int('evalEvery', options.evalEvery ?? 1, 1);
  str('device', options.device ?? 'cpu');
  list('callbacks', options.callbacks ?? [], 'array of callbacks (objects with a name)', (c) => typeof c === 'object' && c !== null && typeof (c as Callback).name === 'string');
  if (options.logger !== undefined) obj('logger', options.logger, 'pino logger');
  if (options.progress !== undefined) bool('progress', options.progress);
  if (options.name !== undefined) str('name', options.name);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new InvalidArgumentError('signal', 'an AbortSignal (AbortController.signal)', options.signal);
  if (options.signal !== undefined && options.dataParallel !== undefined && typeof options.dataParallel.sumOverRanks !== 'function') {
    throw new InvalidArgumentError('dataParallel.sumOverRanks', 'a function with signal (the ranks must agree on the step they stop at)', options.dataParallel.sumOverRanks);
  }
  int('checkpointEvery', options.checkpointEvery ?? 0, 0);
  int('gradAccumSteps', options.gradAccumSteps ?? 1, 1);
  if (options.shardedEval !== undefined) bool('shardedEval', options.shardedEval);
  if (options.shardedEval && options.dataParallel !== undefined && typeof options.dataParallel.sumOverRanks !== 'function') {
    throw new InvalidArgumentError('dataParallel.sumOverRanks', 'a function with shardedEval (the ranks sum their shares of the evaluation)', options.dataParallel.sumOverRanks);
  }
}

/** What a micro-batch leaves for the step's metrics: its (unweighted) loss, logits and labels. */
interface MicroStep {
  loss: Tensor;
  logits: Tensor;
  y: Tensor;
}

/** The criterion's loss, refused unless a scalar Tensor (a per-sample loss would be summed into nonsense). */
function lossOf(name: string, criterion: Criterion, output: Tensor, target: Tensor, input: Tensor): Tensor {
  const loss = criterion(output, target, input);
  const expected = "a function returning the batch's mean loss as a one-element Tensor";
  if (!(loss instanceof Tensor)) throw new InvalidArgumentError(name, expected, loss);
  if (loss.numel !== 1) throw invalidTensorArg(name, expected, loss);
  return loss;
}

/** Milliseconds as seconds to the millisecond, as epochSeconds. */
const seconds = (ms: number): number => Math.round(ms) / 1000;

/** Sums as JSON holds them: a diverged run's NaN or Infinity as its string (JSON has neither). */
const toJson = (v: number): number | string => (Number.isFinite(v) ? v : String(v));
const fromJson = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));

export class Trainer {
  readonly ctx: TrainContext;
  private readonly opts: Required<Pick<TrainerOptions, 'labelSmoothing' | 'evalEvery' | 'device'>> & TrainerOptions;
  private readonly callbacks: Callback[];
  private readonly precision: MixedPrecision;
  /** Whether a step needs the parameter list (data parallelism, the float16 loss scaler, clipping). */
  private readonly paramsRead: boolean;
  /** The training sums over every rank of the epoch in progress, taken for the mid-epoch checkpoint being written. */
  private checkpointSums: number[] | undefined;
  /** The global sums (over every rank) that a resumed epoch starts from, from its checkpoint. */
  private resumedSums: number[] | undefined;
  /** Why the other ranks stopped this one, when its own signal had not fired (yet). */
  private othersReason: string | undefined;
  /** In a sharded evaluation, how many ranks were still evaluating at the last stop check. */
  private ranksEvaluating = 0;
  private readonly criterion: Criterion;
  private readonly evalCriterion: Criterion;
  /** Whether a fit() is running: a second would interleave its steps with the first's. */
  private fitting = false;
  private readonly accuracy: boolean;

  /** The float16 loss scaler (amp 'fp16'), whose state a checkpoint should carry (gradScalerState); undefined otherwise. */
  get gradScaler(): GradScaler | undefined {
    return this.precision.scaler;
  }

  constructor(options: TrainerOptions) {
    checkOptions(options);
    this.opts = { labelSmoothing: 0, evalEvery: 1, device: 'cpu', ...options };
    this.callbacks = options.callbacks ?? [];
    this.precision = new MixedPrecision({ device: this.opts.device, amp: options.amp, channelsLast: options.channelsLast });
    const smoothing = this.opts.labelSmoothing;
    this.criterion = options.criterion ?? ((logits, y) => crossEntropy(logits, y, { labelSmoothing: smoothing }));
    this.evalCriterion = options.evalCriterion ?? options.criterion ?? ((logits, y) => crossEntropy(logits, y));
    this.accuracy = options.accuracy ?? options.criterion === undefined;
    this.paramsRead = options.dataParallel !== undefined || this.precision.scaler !== undefined || options.gradClipNorm !== undefined;
    this.ctx = {
      model: options.model,
      optimizer: options.optimizer,
      logger: options.logger ?? rootLogger(),
      epoch: 0,
      step: 0,
      batch: 0,
      stepsPerEpoch: options.train.length,
    };
  }

  /**
   * Restores the position of a checkpointed run: epochs and steps completed, and the steps of the
   * next epoch already done when it was checkpointed in its middle (0 at an epoch's end).
   */
  setPosition(epoch: number, step: number, batch = 0): void {
    int('epoch', epoch, 0);
    int('step', step, 0);
    int('batch', batch, 0, this.ctx.stepsPerEpoch);
    this.ctx.epoch = epoch;
    this.ctx.step = step;
    this.ctx.batch = batch;
  }

  /**
   * The epoch in progress as a checkpointed callback ('trainer-epoch', for saveCheckpoint's and
   * loadCheckpoint's `callbacks`): its training loss and accuracy sums so far over every rank, so
   * that an epoch resumed in its middle reports what the uninterrupted epoch would have. They are
   * gathered when the trainer asks for a checkpoint (onCheckpoint); a checkpoint written at any
   * other time holds none, and its epoch's row would count only the steps after it.
   */
  epochState(): Callback {
    return {
      name: 'trainer-epoch',
      getState: () => ({ json: this.checkpointSums ? { sums: this.checkpointSums.map(toJson) } : null }),
      setState: (state) => {
        const sums = (state.json as { sums?: unknown } | null)?.sums;
        this.resumedSums = Array.isArray(sums) ? sums.map(fromJson) : undefined;
      },
    };
  }

  /** This epoch's sums to start from: the checkpoint's global ones, split evenly over the ranks (equal shards). */
  private startingSums(batch: number): MetricAccumulator {
    const resumed = this.resumedSums;
    this.resumedSums = undefined;
    if (batch === 0 || !resumed) return new MetricAccumulator();
    const ranks = this.opts.dataParallel?.sumOverRanks?.([1])[0] ?? 1;
    return MetricAccumulator.fromSums(resumed.map((v) => v / ranks));
  }

  /**
   * Whether to stop here: this process's signal, or any rank's when data-parallel (a collective each
   * call, which also carries the signal's number: a rank stopped by the others before its own copy
   * of the signal arrived stops with their reason, and exits with their code).
   * `evaluating` (a sharded evaluation): true while this rank is in its share, false once through
   * it; the same collective counts the ranks still in theirs, so ranks whose shares have different
   * numbers of batches keep checking together until the last one is through (ranksEvaluating).
   */
  private stopRequested(evaluating?: boolean): boolean {
    this.ranksEvaluating = 0;
    const signal = this.opts.signal;
    if (!signal) return false;
    const dp = this.opts.dataParallel;
    if (!dp?.sumOverRanks) return signal.aborted;
    const mine = signal.aborted ? [1, signalNumber(signal.reason)] : [0, 0];
    const [stops, signals, evaluatingRanks] = dp.sumOverRanks(evaluating === undefined ? mine : [...mine, evaluating ? 1 : 0]);
    this.ranksEvaluating = evaluatingRanks ?? 0;
    if (stops > 0 && !signal.aborted) this.othersReason = signalName(signals / stops);
    return stops > 0;
  }

  /**
   * Lets the callbacks checkpoint the run where it stands, the epoch's training sums so far over
   * every rank in their state (a collective: every rank gets here at the same step).
   */
  private async checkpoint(reason: CheckpointReason, acc: MetricAccumulator | undefined): Promise<string | undefined> {
    const local = acc?.sums();
    const dp = this.opts.dataParallel;
    this.checkpointSums = local && this.ctx.batch > 0 ? (dp?.sumOverRanks ? dp.sumOverRanks(local) : local) : undefined;
    let file: string | undefined;
    try {
      for (const cb of this.callbacks) {
        const written = await cb.onCheckpoint?.(this.ctx, reason);
        if (typeof written === 'string') file = written;
      }
    } finally {
      this.checkpointSums = undefined;
    }
    return file;
  }

  /** Checkpoints the run where it stands, then rejects fit with where that is. */
  private async interrupt(acc: MetricAccumulator | undefined): Promise<never> {
    const file = await this.checkpoint('interrupt', acc);
    const { ctx } = this;
    const reason = this.opts.signal?.aborted ? this.opts.signal.reason : this.othersReason;
    throw new InterruptedError(reason, { epoch: ctx.epoch, step: ctx.step, batch: ctx.batch }, ctx.stepsPerEpoch, file);
  }

  private toDevice(t: Tensor): Tensor {
    return this.opts.device === 'cpu' ? t : t.to({ device: this.opts.device });
  }

  private trainStep(batch: Batch, acc: MetricAccumulator): void {
    const { model, optimizer } = this.ctx;
    tidy(() => {
      const mp = this.precision;
      const x = mp.input(this.toDevice(batch.x));
      const y = this.toDevice(batch.y);
      const n = y.shape[0];
      const parts = Math.min(this.opts.gradAccumSteps ?? 1, n);
      const outs: MicroStep[] = [];
      for (let i = 0, lo = 0; i < parts; i++) {
        // Sizes differ by at most one sample when `parts` does not divide the batch.
        const len = Math.floor((n * (i + 1)) / parts) - lo;
        const [xi, yi] = parts === 1 ? [x, y] : [x.narrow(0, lo, len), y.narrow(0, lo, len)];
        outs.push(tidy(() => this.microStep(xi, yi, len / n, i === parts - 1)));
        lo += len;
      }
      // Walking the module tree costs ~0.2 ms a step of serial time (ResNet-20, measured in the
      // step), and only gradient reduction, loss scaling and clipping read the list.
      const params = this.paramsRead ? model.parameters() : [];
      this.opts.dataParallel?.syncGradients(params);
      this.ctx.gradsFinite = !mp.unscale(params);
      for (const cb of this.callbacks) cb.onAfterBackward?.(this.ctx);
      if (this.opts.gradClipNorm !== undefined) clipGradNorm(params, this.opts.gradClipNorm);
      mp.step(optimizer, params);
      // Read after the step: reading a value waits for the device, which then idles while the step is queued.
      for (const o of outs) acc.add(o.loss.item(), this.correct(o.logits, o.y), o.y.shape[0]);
    });
    optimizer.zeroGrad();
  }

  /**
   * Forward and backward of one micro-batch, its loss weighted by its `share` of the batch. Only
   * the last one's backward is reduced across ranks (DDP's no_sync for the others): the gradients
   * accumulated locally before it are summed into that one reduction.
   */
  private microStep(x: Tensor, y: Tensor, share: number, last: boolean): MicroStep {
    const mp = this.precision;
    const logits = mp.forward(() => this.ctx.model.forward(x));
    const loss = mp.forward(() => lossOf('criterion', this.criterion, logits, y, x));
    // Said before backward, whose own message ("element 0 of tensors does not require grad") names no criterion.
    if (this.opts.criterion && !loss.requiresGrad) {
      throw invalidTensorArg('criterion', "a function returning a loss that requires grad (computed from the model's output)", 'a Tensor that does not require grad');
    }
    if (last) this.opts.dataParallel?.prepareBackward(loss);
    mp.backward(share === 1 ? loss : loss.mul(share));
    return { loss, logits, y };
  }

  /** Top-1 and top-5 hits of a batch's logits, when counted ([0, 0] otherwise: the results leave them out). */
  private correct(logits: Tensor, y: Tensor): number[] {
    return this.accuracy ? topkCorrect(logits, y, [1, 5]) : [0, 0];
  }

  /** The evalCriterion's loss and (when counted) top-1/top-5 accuracy over a batch source, in eval mode without gradients. */
  async evaluate(source: BatchSource): Promise<EvalResult> {
    batchSourceArg('source', source);
    return (await this.evaluateUnless(source, false))!;
  }

  /** Whether evaluation sums the ranks' shares (shardedEval, data-parallel). */
  private get sharded(): boolean {
    return this.opts.shardedEval === true && this.opts.dataParallel !== undefined;
  }

  /**
   * evaluate, given up (undefined) when `watchStop` and a stop is requested after a batch. Sharded,
   * the ranks' sums are added up once every rank is through its share.
   */
  private async evaluateUnless(source: BatchSource, watchStop: boolean): Promise<EvalResult | undefined> {
    const { model } = this.ctx;
    const sharded = this.sharded;
    const wasTraining = model.training;
    model.eval();
    const acc = new MetricAccumulator();
    const turns = new EventLoopTurns();
    try {
      for await (const yielded of source) {
        const batch = liveBatch(yielded);
        noGrad(() => tidy(() => {
          const x = this.precision.input(this.toDevice(batch.x));
          const y = this.toDevice(batch.y);
          const logits = this.precision.forward(() => model.forward(x));
          const loss = this.precision.forward(() => lossOf('evalCriterion', this.evalCriterion, logits, y, x));
          acc.add(loss.item(), this.correct(logits, y), y.shape[0]);
        }));
        batch.x.dispose();
        batch.y.dispose();
        if (watchStop && this.stopRequested(sharded ? true : undefined)) return undefined;
        await turns.maybeYield();
      }
      // Through its share, a rank checks along with those still evaluating: every rank makes the same number of checks.
      if (watchStop && sharded) {
        this.ranksEvaluating = 1;
        while (this.ranksEvaluating > 0) if (this.stopRequested(false)) return undefined;
      }
    } finally {
      model.train(wasTraining);
    }
    return this.results(sharded ? MetricAccumulator.fromSums(this.opts.dataParallel!.sumOverRanks!(acc.sums())) : acc);
  }

  private results(acc: MetricAccumulator): EvalResult {
    const r = acc.result();
    return this.accuracy ? r : { loss: r.loss };
  }

  /**
   * Trains from the current position to `epochs`; returns the last epoch's metrics. Rejects with
   * InterruptedError when `signal` stops it (after the callbacks' onCheckpoint 'interrupt'), and
   * with ERR_INVALID_ARG while another fit() of this Trainer runs (the two would interleave their
   * steps).
   */
  async fit(): Promise<EpochMetrics | undefined> {
    if (this.fitting) {
      throw new ToolkitError('ERR_INVALID_ARG', "Trainer.fit() was called while this Trainer's fit() is running: await the first fit() before the next");
    }
    this.fitting = true;
    try {
      return await this.fitFromPosition();
    } finally {
      this.fitting = false;
    }
  }

  private async fitFromPosition(): Promise<EpochMetrics | undefined> {
    const { ctx, opts } = this;
    const every = opts.checkpointEvery ?? 0;
    const steps = opts.train.length;
    let last: EpochMetrics | undefined;
    const turns = new EventLoopTurns();
    for (const cb of this.callbacks) await cb.onTrainStart?.(ctx);
    opts.dataParallel?.syncState();
    for (let epoch = ctx.epoch; epoch < opts.epochs; epoch++) {
      const first = ctx.batch;
      const acc = this.startingSums(first);
      if (this.stopRequested()) await this.interrupt(acc);
      const started = Date.now();
      opts.train.setEpoch?.(epoch);
      if (first > 0 && first < steps) opts.train.startAt?.(first);
      ctx.model.train();
      const bar = new Progress({ name: opts.name, epoch: epoch + 1, epochs: opts.epochs, steps, enabled: opts.progress });
      let i = first;
      // A source that cannot start in an epoch's middle gives its first batches again: dropped unused.
      let drop = opts.train.startAt ? 0 : first;
      // The time between one step's end and the next batch's arrival: how long training waited for
      // its input (pytorch/examples' "Data" time), the dropped batches' included.
      let dataMs = 0;
      let waitFrom = performance.now();
      if (i < steps) {
        for await (const yielded of opts.train) {
          const batch = liveBatch(yielded);
          dataMs += performance.now() - waitFrom;
          if (drop > 0) {
            drop--;
            batch.x.dispose();
            batch.y.dispose();
            waitFrom = performance.now();
            continue;
          }
          ctx.optimizer.lr = opts.lr(epoch + i / steps);
          try {
            this.trainStep(batch, acc);
          } finally {
            batch.x.dispose();
            batch.y.dispose();
          }
          i++;
          ctx.step++;
          ctx.batch = i;
          for (const cb of this.callbacks) cb.onStepEnd?.(ctx);
          bar.update(i, acc.result().loss);
          // After the last step the epoch-end callbacks checkpoint: a stop then waits for the
          // evaluation (which it may cut short) and a periodic checkpoint is not needed.
          if (i < steps && this.stopRequested()) {
            bar.stop();
            await this.interrupt(acc);
          }
          if (i < steps && every > 0 && ctx.step % every === 0) await this.checkpoint('periodic', acc);
          await turns.maybeYield();
          waitFrom = performance.now();
        }
      }
      bar.stop();
      ctx.batch = steps;
      // The last step's LR, also when no step ran here (resumed after the steps, before evaluation).
      if (steps > 0) ctx.optimizer.lr = opts.lr(epoch + (steps - 1) / steps);
      opts.dataParallel?.syncBuffers();
      const train = this.results(acc);
      const metrics: EpochMetrics = {
        epoch: epoch + 1, step: ctx.step, lr: ctx.optimizer.lr, trainLoss: train.loss, ...(train.top1 === undefined ? {} : { trainAcc: train.top1 }), epochSeconds: 0,
        dataSeconds: seconds(dataMs),
      };
      if (opts.test && ((epoch + 1) % opts.evalEvery === 0 || epoch + 1 === opts.epochs)) {
        const evalFrom = performance.now();
        const test = await this.evaluateUnless(opts.test, true);
        if (!test) await this.interrupt(acc);
        metrics.evalSeconds = seconds(performance.now() - evalFrom);
        metrics.testLoss = test!.loss;
        if (test!.top1 !== undefined) Object.assign(metrics, { testAcc: test!.top1, testTop5: test!.top5 });
      }
      metrics.epochSeconds = (Date.now() - started) / 1000;
      ctx.epoch = epoch + 1;
      ctx.batch = 0;
      for (const cb of this.callbacks) await cb.onEpochEnd?.(ctx, metrics);
      ctx.logger.info({ ...metrics, ...bar.summary(), signFlips: undefined }, 'epoch done');
      last = metrics;
    }
    for (const cb of this.callbacks) await cb.onTrainEnd?.(ctx, last);
    return last;
  }
}
