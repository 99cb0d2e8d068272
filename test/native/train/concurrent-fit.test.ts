/**
 * A second fit() started on a Trainer whose fit is still running (a fit not awaited before the
 * next): both used to run at once, interleaving their steps over the one model and batch source
 * (a 1-epoch run of 3 batches took 6 steps, and both reported epoch 1 at step 6). The second is
 * now refused; the first trains exactly its own steps. evaluate() stays allowed during a fit: a
 * callback may evaluate another split at an epoch's end.
 */
import { Trainer, tidy, type EpochMetrics } from '../../../src';
import { batchesOf, createToyModel, toyBatch } from '../../helpers/toy-model';

function trainer(): { trainer: Trainer; steps: () => number } {
  const model = createToyModel();
  let steps = 0;
  const optimizer = { lr: 0, step() { steps++; }, zeroGrad() {}, stateDict: () => new Map(), loadStateDict() {} };
  const data = [toyBatch(4), toyBatch(4), toyBatch(4)];
  const source = batchesOf(data);
  return { trainer: new Trainer({ model, optimizer, train: source, test: source, epochs: 1, lr: () => 0.1, progress: false }), steps: () => steps };
}

const BUSY = /^Trainer\.fit\(\) was called while this Trainer's fit\(\) is running: await the first fit\(\)/;

it('a second fit() while the first runs is refused, and the first trains its own steps', async () => {
  const { trainer: t, steps } = trainer();
  const first = t.fit();
  await expect(t.fit()).rejects.toThrow(BUSY);
  await expect(t.fit()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  const last = (await first) as EpochMetrics;
  expect(steps()).toBe(3);
  expect(last).toMatchObject({ epoch: 1, step: 3 });
  // Once it is done, the Trainer takes calls again: evaluate runs, and fit has no epoch left.
  const r = await t.evaluate(batchesOf([tidy(() => toyBatch(4))]));
  expect(Number.isFinite(r.loss)).toBe(true);
  await expect(t.fit()).resolves.toBeUndefined();
  expect(steps()).toBe(3);
});

it('a fit() that failed leaves the Trainer free for the next', async () => {
  const model = createToyModel();
  const optimizer = { lr: 0, step() { throw new Error('the step failed'); }, zeroGrad() {}, stateDict: () => new Map(), loadStateDict() {} };
  const t = new Trainer({ model, optimizer, train: batchesOf([toyBatch(4)]), epochs: 1, lr: () => 0.1, progress: false });
  await expect(t.fit()).rejects.toThrow('the step failed');
  await expect(t.fit()).rejects.toThrow('the step failed');
});
