/**
 * pruneModel hands the event loop a turn between rounds: a setImmediate chain started before a
 * 20-round prune runs at least once per yield (19), where a synchronous prune would let it run
 * only after returning.
 */
import { createModel, manualSeed, pruneModel } from '../../../src';
import { captureLogs } from './fixtures';

beforeAll(() => { captureLogs(); });

test('20 rounds give the event loop at least 19 turns while pruning', async () => {
  manualSeed(0);
  const model = createModel('lenet5');
  let turns = 0;
  let done = false;
  const spin = (): void => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const pruning = pruneModel(model, { method: 'magnitude', sparsity: 0.9, iterations: 20 });
  expect(turns).toBe(0);
  const r = await pruning;
  done = true;
  expect(r.schedule).toHaveLength(20);
  expect(turns).toBeGreaterThanOrEqual(19);
  model.dispose();
});
