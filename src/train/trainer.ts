/**
 * The training loop: epochs of SGD steps, each inside tidy(), per-epoch evaluation, callbacks
 * (LR schedule, Sign-In resets, sign statistics, metrics, checkpoints). Policy lives in callbacks;
 * this loop only orders them.
 */
import type { Logger } from 'pino';
import { MixedPrecision, type AmpMode, type ChannelsLastMode, type GradScaler } from '../amp';
import { EventLoopTurns } from '../event-loop';
import { logger as rootLogger } from '../logger';
import { crossEntropy } from '../nn/functional';
import { InvalidArgumentError } from '../errors';
import { moduleArg, type Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { bool, func, int, list, num, obj, str } from '../validate';
import type { Callback, EpochMetrics, Optimizer, TrainContext } from './callbacks';
import { clipGradNorm } from './clip';
import { MetricAccumulator, topkCorrect } from './metrics';
import { Progress } from './progress';

export interface Batch {
  x: Tensor;
  y: Tensor;
}

export interface BatchSource extends AsyncIterable<Batch> {
  /** Batches per epoch. */
  readonly length: number;
  /** Reseeds shuffling and augmentation for an epoch (deterministic resume). */
  setEpoch?(epoch: number): void;
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
  /** Right before backward (of `loss`): arms whatever reduces gradients during backward. */
  prepareBackward(loss: Tensor): void;
  /** Right after backward: the gradients of `params` become their mean over the ranks. */
  syncGradients(params: readonly Tensor[]): void;
  /** After each epoch's training steps, before evaluation and the epoch-end callbacks (checkpoints). */
  syncBuffers(): void;
}

export interface TrainerOptions {
  model: Module;
  optimizer: Optimizer;
  train: BatchSource;
  test?: BatchSource;
  epochs: number;
  /** Learning rate as a function of fractional epoch (2.5 = halfway through the third epoch). */
  lr: (epoch: number) => number;
  labelSmoothing?: number;
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
}

export interface EvalResult {
  loss: number;
  top1: number;
  top5: number;
}

function batchSourceArg(name: string, v: unknown): void {
  const expected = 'batch source (an async iterable of { x, y } with a length)';
  const src = obj<BatchSource>(name, v, expected);
  if (typeof src[Symbol.asyncIterator] !== 'function') throw new InvalidArgumentError(name, expected, v);
  int(`${name}.length`, src.length, 0);
}

function checkOptions(options: TrainerOptions): void {
  obj('options', options, 'trainer options ({ model, optimizer, train, epochs, lr, ... })');
  moduleArg('model', options.model);
  const optimizer = obj<Optimizer>('optimizer', options.optimizer, 'optimizer (with step and zeroGrad)');
  func('optimizer.step', optimizer.step);
  func('optimizer.zeroGrad', optimizer.zeroGrad);
  batchSourceArg('train', options.train);
  if (options.test !== undefined) batchSourceArg('test', options.test);
  int('epochs', options.epochs, 1);
  func('lr', options.lr);
  num('labelSmoothing', options.labelSmoothing ?? 0, 0, 1);
  if (options.gradClipNorm !== undefined) num('gradClipNorm', options.gradClipNorm, 0);
  int('evalEvery', options.evalEvery ?? 1, 1);
  str('device', options.device ?? 'cpu');
  list('callbacks', options.callbacks ?? [], 'array of callbacks (objects with a name)', (c) => typeof c === 'object' && c !== null && typeof (c as Callback).name === 'string');
  if (options.logger !== undefined) obj('logger', options.logger, 'pino logger');
  if (options.progress !== undefined) bool('progress', options.progress);
  if (options.name !== undefined) str('name', options.name);
}

export class Trainer {
  readonly ctx: TrainContext;
  private readonly opts: Required<Pick<TrainerOptions, 'labelSmoothing' | 'evalEvery' | 'device'>> & TrainerOptions;
  private readonly callbacks: Callback[];
  private readonly precision: MixedPrecision;
  /** Whether a step needs the parameter list (data parallelism, the float16 loss scaler, clipping). */
  private readonly paramsRead: boolean;

  /** The float16 loss scaler (amp 'fp16'), whose state a checkpoint should carry (gradScalerState); undefined otherwise. */
  get gradScaler(): GradScaler | undefined {
    return this.precision.scaler;
  }

  constructor(options: TrainerOptions) {
    checkOptions(options);
    this.opts = { labelSmoothing: 0, evalEvery: 1, device: 'cpu', ...options };
    this.callbacks = options.callbacks ?? [];
    this.precision = new MixedPrecision({ device: this.opts.device, amp: options.amp, channelsLast: options.channelsLast });
    this.paramsRead = options.dataParallel !== undefined || this.precision.scaler !== undefined || options.gradClipNorm !== undefined;
    this.ctx = {
      model: options.model,
      optimizer: options.optimizer,
      logger: options.logger ?? rootLogger(),
      epoch: 0,
      step: 0,
      stepsPerEpoch: options.train.length,
    };
  }

  /** Restores the position of a checkpointed run (epochs and steps completed). */
  setPosition(epoch: number, step: number): void {
    int('epoch', epoch, 0);
    int('step', step, 0);
    this.ctx.epoch = epoch;
    this.ctx.step = step;
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
      const logits = mp.forward(() => model.forward(x));
      const loss = mp.forward(() => crossEntropy(logits, y, { labelSmoothing: this.opts.labelSmoothing }));
      this.opts.dataParallel?.prepareBackward(loss);
      mp.backward(loss);
      // Walking the module tree costs ~0.2 ms a step of serial time (ResNet-20, measured in the
      // step), and only gradient reduction, loss scaling and clipping read the list.
      const params = this.paramsRead ? model.parameters() : [];
      this.opts.dataParallel?.syncGradients(params);
      mp.unscale(params);
      for (const cb of this.callbacks) cb.onAfterBackward?.(this.ctx);
      if (this.opts.gradClipNorm !== undefined) clipGradNorm(params, this.opts.gradClipNorm);
      mp.step(optimizer, params);
      acc.add(loss.item(), topkCorrect(logits, y, [1, 5]), y.shape[0]);
    });
    optimizer.zeroGrad();
  }

  /** Loss and top-1/top-5 accuracy over a batch source, in eval mode without gradients. */
  async evaluate(source: BatchSource): Promise<EvalResult> {
    batchSourceArg('source', source);
    const { model } = this.ctx;
    const wasTraining = model.training;
    model.eval();
    const acc = new MetricAccumulator();
    const turns = new EventLoopTurns();
    try {
      for await (const batch of source) {
        noGrad(() => tidy(() => {
          const x = this.precision.input(this.toDevice(batch.x));
          const y = this.toDevice(batch.y);
          const logits = this.precision.forward(() => model.forward(x));
          const loss = this.precision.forward(() => crossEntropy(logits, y));
          acc.add(loss.item(), topkCorrect(logits, y, [1, 5]), y.shape[0]);
        }));
        batch.x.dispose();
        batch.y.dispose();
        await turns.maybeYield();
      }
    } finally {
      model.train(wasTraining);
    }
    return acc.result();
  }

  /** Trains from the current position to `epochs`; returns the last epoch's metrics. */
  async fit(): Promise<EpochMetrics | undefined> {
    const { ctx, opts } = this;
    let last: EpochMetrics | undefined;
    const turns = new EventLoopTurns();
    for (const cb of this.callbacks) await cb.onTrainStart?.(ctx);
    opts.dataParallel?.syncState();
    for (let epoch = ctx.epoch; epoch < opts.epochs; epoch++) {
      const started = Date.now();
      opts.train.setEpoch?.(epoch);
      ctx.model.train();
      const acc = new MetricAccumulator();
      const bar = new Progress({ name: opts.name, epoch: epoch + 1, epochs: opts.epochs, steps: opts.train.length, enabled: opts.progress });
      let i = 0;
      for await (const batch of opts.train) {
        ctx.optimizer.lr = opts.lr(epoch + i / opts.train.length);
        try {
          this.trainStep(batch, acc);
        } finally {
          batch.x.dispose();
          batch.y.dispose();
        }
        i++;
        ctx.step++;
        for (const cb of this.callbacks) cb.onStepEnd?.(ctx);
        bar.update(i, acc.result().loss);
        await turns.maybeYield();
      }
      bar.stop();
      opts.dataParallel?.syncBuffers();
      const train = acc.result();
      const metrics: EpochMetrics = {
        epoch: epoch + 1, step: ctx.step, lr: ctx.optimizer.lr, trainLoss: train.loss, trainAcc: train.top1, epochSeconds: 0,
      };
      if (opts.test && ((epoch + 1) % opts.evalEvery === 0 || epoch + 1 === opts.epochs)) {
        const test = await this.evaluate(opts.test);
        Object.assign(metrics, { testLoss: test.loss, testAcc: test.top1, testTop5: test.top5 });
      }
      metrics.epochSeconds = (Date.now() - started) / 1000;
      ctx.epoch = epoch + 1;
      for (const cb of this.callbacks) await cb.onEpochEnd?.(ctx, metrics);
      ctx.logger.info({ ...metrics, ...bar.summary(), signFlips: undefined }, 'epoch done');
      last = metrics;
    }
    for (const cb of this.callbacks) await cb.onTrainEnd?.(ctx, last);
    return last;
  }
}
