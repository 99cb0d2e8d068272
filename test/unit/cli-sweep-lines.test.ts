/**
 * The lines `signin-torch sweep` prints for its runs' events; an interrupted run's line says what
 * the next sweep does with it, from whether it was pruning and whether a checkpoint exists.
 */
import { sweepEventLine } from '../../src/cli/sweep-lines';
import type { PlannedRun, SweepEvent } from '../../src/experiments/sweep';

const run = { index: 2, runDir: '/runs/train_abc', status: 'new' } as PlannedRun;
const line = (e: SweepEvent) => sweepEventLine(e, 6, 'seed=1');

test('each event is one line tagged with the run\'s place in the sweep', () => {
  expect(line({ type: 'skip', run })).toBe('[3/6] finished already: train_abc\n');
  expect(line({ type: 'busy', run, holder: { pid: 42, host: 'h', startedAt: '' } })).toBe('[3/6] left to pid 42 on h, which is training it: train_abc\n');
  expect(line({ type: 'start', run })).toBe('[3/6] start train_abc (seed=1)\n');
  expect(line({ type: 'done', run, seconds: 12.4 })).toBe('[3/6] done train_abc in 12 s\n');
  expect(line({ type: 'fail', run, seconds: 1, error: 'exited with code 3: boom' })).toBe('[3/6] FAILED train_abc: exited with code 3: boom\n');
});

test('an interrupted run resumes only when it has a checkpoint; otherwise the line says it starts over', () => {
  const stopped = (whilePruning: boolean, checkpointed: boolean) => line({ type: 'interrupted', run, seconds: 1, whilePruning, checkpointed });
  expect(stopped(false, true)).toBe('[3/6] interrupted train_abc: checkpointed, it resumes when the sweep runs again\n');
  expect(stopped(false, false)).toBe('[3/6] interrupted train_abc: stopped before its first checkpoint, nothing saved: it starts over when the sweep runs again\n');
  expect(stopped(true, false)).toBe('[3/6] interrupted train_abc: stopped while pruning, nothing saved: it starts over when the sweep runs again\n');
});
