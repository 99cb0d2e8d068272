/**
 * The whole training stack leaves no tensors behind: SNIP pruning, Sign-In, the fused SGD, resets
 * on a step schedule and sign statistics, over 300 steps; after disposal the live count is back
 * to where it started.
 */
import { F, Generator, SGD, applySignIn, manualSeed, memory, pruneModel, SignInResetSchedule, SignTracker, tidy } from '../../src';
import { createToyModel, toyBatch } from '../helpers/toy-model';

it('pruning, Sign-In, fused SGD, resets and sign statistics do not leak', async () => {
  manualSeed(0);
  const start = memory();
  const model = createToyModel({ width: 4 });
  const gen = new Generator(2);
  const batches = [0, 1, 2].map(() => toyBatch(16, { generator: gen }));
  await pruneModel(model, { method: 'snip', sparsity: 0.8, data: [batches[0].x, batches[0].y] });
  applySignIn(model);
  const opt = SGD.forModel(model, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const resets = new SignInResetSchedule(model, { period: 10, unit: 'steps', momentum: 'zero', optimizer: opt });
  const tracker = new SignTracker(model);
  const snapshots: { numTensors: number; numBytes: number }[] = [];

  for (let step = 1; step <= 300; step++) {
    const { x, y } = batches[step % batches.length];
    tidy(() => {
      F.crossEntropy(model.forward(x), y).backward();
      opt.step();
    });
    opt.zeroGrad();
    resets.onStepEnd(step, 0);
    if (step % 50 === 0) {
      tracker.update();
      snapshots.push(memory());
    }
  }

  expect(resets.history.length).toBe(30);
  for (const s of snapshots) expect(s).toEqual(snapshots[0]);
  tracker.dispose();
  opt.dispose();
  model.dispose();
  batches.forEach(({ x, y }) => { x.dispose(); y.dispose(); });
  expect(memory()).toEqual(start);
});
