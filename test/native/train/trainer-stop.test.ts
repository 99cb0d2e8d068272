/**
 * Trainer's `signal` in a loop of one's own: aborted during a step, the step finishes, the
 * callbacks' onCheckpoint('interrupt') run at that step, fit rejects with InterruptedError (not a
 * return that would look like the end) and onTrainEnd is not called; the Trainer adds no signal
 * handlers to the process. A second Trainer resumed at that position (setPosition's batch and the
 * epochState of the first) ends with the weights and the epoch metrics of a Trainer never stopped,
 * exactly, whether its batch source can start in the middle (startAt) or not (batches dropped).
 */
import * as pino from 'pino';
import { Generator, SGD, manualSeed, type Tensor } from '../../../src';
import type { Callback, CallbackState, EpochMetrics } from '../../../src/train/callbacks';
import { InterruptedError } from '../../../src/train/interrupt';
import { Trainer, type BatchSource } from '../../../src/train/trainer';
import { createToyModel, toyBatch } from '../../helpers/toy-model';

const silent = pino.default({ level: 'silent' });
const EPOCHS = 2;

/** An epoch's metrics without its timings, which no two runs share. */
type Untimed = Omit<EpochMetrics, 'epochSeconds' | 'dataSeconds' | 'evalSeconds'>;
const untimed = ({ epochSeconds: _e, dataSeconds: _d, evalSeconds: _v, ...rest }: EpochMetrics): Untimed => rest;

/** Five batches per epoch, the same every epoch; `startAt` only when asked for. */
function source(data: { x: Tensor; y: Tensor }[], withStartAt: boolean): BatchSource & { built: number } {
  let start = 0;
  const src: BatchSource & { built: number } = {
    length: data.length,
    built: 0,
    async *[Symbol.asyncIterator]() {
      const from = start;
      start = 0;
      for (const b of data.slice(from)) {
        src.built++;
        yield { x: b.x.clone(), y: b.y.clone() };
      }
    },
  };
  if (withStartAt) src.startAt = (batch: number) => { start = batch; };
  return src;
}

function setup(seed = 0) {
  manualSeed(seed);
  const model = createToyModel({ inChannels: 1, width: 4 });
  const gen = new Generator(11);
  const data = Array.from({ length: 5 }, () => toyBatch(8, { generator: gen, imageSize: 12 }));
  const optimizer = SGD.forModel(model, { lr: 0.05, momentum: 0.9 });
  return { model, data, optimizer };
}

const lr = (e: number) => 0.05 * (1 - e / EPOCHS);

function weights(model: ReturnType<typeof createToyModel>): number[][] {
  return model.parameters().map((p) => [...p.toArray()]);
}

describe('Trainer signal', () => {
  let reference: { weights: number[][]; rows: Untimed[] };
  beforeAll(async () => {
    const { model, data, optimizer } = setup();
    const rows: Untimed[] = [];
    await new Trainer({ model, optimizer, train: source(data, true), epochs: EPOCHS, lr, progress: false, logger: silent, callbacks: [{ name: 'rows', onEpochEnd: (_c, m) => void rows.push(untimed(m)) }] }).fit();
    reference = { weights: weights(model), rows };
  });

  it.each([true, false])('stops at the step it is aborted in and resumes there to the same end (startAt: %s)', async (withStartAt) => {
    const before = ['SIGINT', 'SIGTERM'].map((s) => process.listenerCount(s));
    const stop = new AbortController();
    const first = setup();
    const state = new Map<string, CallbackState>();
    const calls: string[] = [];
    const rows: Untimed[] = [];
    const abortAt: Callback = { name: 'abort', onStepEnd: (ctx) => { if (ctx.step === 7) stop.abort(); } };
    const trainer = new Trainer({ model: first.model, optimizer: first.optimizer, train: source(first.data, true), epochs: EPOCHS, lr, progress: false, logger: silent, signal: stop.signal,
      callbacks: [abortAt, {
        name: 'saver',
        onEpochEnd: (_c, m) => void rows.push(untimed(m)),
        onCheckpoint: (ctx, reason) => {
          calls.push(`${reason} ${ctx.epoch}/${ctx.batch}/${ctx.step}`);
          state.set('trainer-epoch', trainer.epochState().getState!());
          return 'the-file';
        },
        onTrainEnd: () => void calls.push('train end'),
      }] });
    const error = await trainer.fit().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).position).toEqual({ epoch: 1, step: 7, batch: 2 });
    expect((error as InterruptedError).message).toBe('Training interrupted by its abort signal in epoch 2 after 2 of its 5 steps (step 7); checkpoint the-file: run the same command again to resume');
    expect(calls).toEqual(['interrupt 1/2/7']);
    expect(['SIGINT', 'SIGTERM'].map((s) => process.listenerCount(s))).toEqual(before);

    // Resumed from the first run's model and optimizer as they stand (what its checkpoint holds).
    const resumedSrc = source(first.data, withStartAt);
    const resumed = new Trainer({ model: first.model, optimizer: first.optimizer, train: resumedSrc, epochs: EPOCHS, lr, progress: false, logger: silent,
      callbacks: [{ name: 'rows', onEpochEnd: (_c, m) => void rows.push(untimed(m)) }] });
    resumed.setPosition(1, 7, 2);
    resumed.epochState().setState!(state.get('trainer-epoch')!);
    await resumed.fit();
    expect(resumedSrc.built).toBe(withStartAt ? 3 : 5);
    expect(weights(first.model)).toEqual(reference.weights);
    expect(rows).toEqual(reference.rows);
  });

  it('data-parallel: a rank stops at the step another rank was signalled, and with its reason (one all-reduce a step)', async () => {
    const { model, data, optimizer } = setup();
    const own = new AbortController(); // never fires here: its copy of SIGTERM has not arrived yet
    const reduced: number[][] = [];
    // The other rank: its SIGTERM (15) arrived during this rank's second step.
    const hooks = {
      syncState: () => undefined, prepareBackward: () => undefined, syncGradients: () => undefined, syncBuffers: () => undefined,
      sumOverRanks: (v: readonly number[]) => {
        reduced.push([...v]);
        return reduced.length >= 3 && v.length === 2 ? [v[0] + 1, v[1] + 15] : [...v];
      },
    };
    const trainer = new Trainer({ model, optimizer, train: source(data, true), epochs: 1, lr, progress: false, logger: silent, signal: own.signal, dataParallel: hooks });
    const error = (await trainer.fit().then(() => undefined, (e: unknown) => e)) as InterruptedError;
    expect(error).toBeInstanceOf(InterruptedError);
    // Asked at the epoch's start and after steps 1 and 2, then the sums for the checkpoint.
    expect(reduced.slice(0, 3)).toEqual([[0, 0], [0, 0], [0, 0]]);
    expect(error.position).toEqual({ epoch: 0, step: 2, batch: 2 });
    expect([error.reason, error.exitCode]).toEqual(['SIGTERM', 143]);
  });

  it('refuses a signal that is not an AbortSignal, and a data-parallel loop that cannot agree on a stop', () => {
    const { model, data, optimizer } = setup();
    const base = { model, optimizer, train: source(data, true), epochs: 1, lr, progress: false, logger: silent };
    expect(() => new Trainer({ ...base, signal: 'SIGINT' as never })).toThrow("Expected an AbortSignal (AbortController.signal) for signal but received 'SIGINT' of type string");
    const hooks = { syncState: () => undefined, prepareBackward: () => undefined, syncGradients: () => undefined, syncBuffers: () => undefined };
    expect(() => new Trainer({ ...base, signal: new AbortController().signal, dataParallel: hooks })).toThrow('Expected a function with signal (the ranks must agree on the step they stop at) for dataParallel.sumOverRanks but received undefined');
  });
});
