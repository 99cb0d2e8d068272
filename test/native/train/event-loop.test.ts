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
  // The clock is the test's: 2 ms a call. On the wall clock a loaded machine (CI: 2 cores, load
  // 6+) descheduled this process for more than the period within one call, and the loop then
  // rightly yielded on every call (4 failures in 4 runs next to 4 busy loops of equal priority).
  let now = 0;
  const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
  const ranAtCall: number[] = [];
  try {
    const turns = new EventLoopTurns(20);
    let calls = 0;
    while (calls < 100) {
      now += 2;
      setImmediate(() => ranAtCall.push(calls));
      await turns.maybeYield();
      calls++;
    }
  } finally {
    clock.mockRestore();
  }
  // Every callback queued between turns runs in the next turn, at the call that yielded: the 10th
  // call (20 ms) yields, then every 10th after it, so each call's callback ran at the end of its ten.
  expect(ranAtCall).toEqual(Array.from({ length: 100 }, (_, i) => i - (i % 10) + 9));
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
