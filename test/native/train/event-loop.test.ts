/**
 * Training and evaluation give Node's event loop turns while they run, so timers, log writes,
 * signal handlers and N-API finalizers are not starved until the loop ends.
 */
import { Generator, SGD, manualSeed } from '../../../src';
import { EventLoopTurns } from '../../../src/event-loop';
import { Trainer, type Batch, type BatchSource } from '../../../src/train/trainer';
import { createToyModel, toyBatch } from '../../helpers/toy-model';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

it('EventLoopTurns yields once per elapsed period, not on every call', async () => {
  const turns = new EventLoopTurns(20);
  const ranAtCall: number[] = [];
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < 200) {
    busy(2);
    setImmediate(() => ranAtCall.push(calls));
    await turns.maybeYield();
    calls++;
  }
  await new Promise((r) => setImmediate(r));
  // Every callback queued between turns runs in the next turn, so the number of distinct
  // positions they ran at is the number of turns: about one per 20 ms, not one per 2 ms call.
  const turnCount = new Set(ranAtCall.slice(0, -1)).size;
  expect(ranAtCall).toHaveLength(calls);
  expect(turnCount).toBeGreaterThanOrEqual(2);
  expect(turnCount).toBeLessThanOrEqual(Math.ceil(calls / 3));
});

it('a timer set before fit() fires while the epoch is still running', async () => {
  manualSeed(0);
  const model = createToyModel({ width: 8 });
  const gen = new Generator(1);
  const data = Array.from({ length: 4 }, () => toyBatch(32, { generator: gen, imageSize: 28 }));
  const stepsAtTimer: number[] = [];
  let steps = 0;
  const train: BatchSource = {
    length: 60,
    async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
      for (let i = 0; i < 60; i++) {
        const b = data[i % data.length];
        steps++;
        busy(1);
        yield { x: b.x.clone(), y: b.y.clone() };
      }
    },
  };
  const opt = SGD.forModel(model, { lr: 0.01 });
  const trainer = new Trainer({ model, optimizer: opt, train, epochs: 1, lr: () => 0.01, progress: false });
  setTimeout(() => stepsAtTimer.push(steps), 0);
  await trainer.fit();
  expect(stepsAtTimer).toHaveLength(1);
  expect(stepsAtTimer[0]).toBeLessThan(60);
  opt.dispose();
  model.dispose();
  data.forEach((b) => { b.x.dispose(); b.y.dispose(); });
});
