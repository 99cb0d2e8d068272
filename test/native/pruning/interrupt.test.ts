/**
 * pruneModel's `signal`: read before the first round and after each round's event-loop turn, so
 * an abort from an event-loop callback (a signal handler) during a round stops the prune at the
 * next round boundary with PruningInterruptedError, the finished rounds' masks in the model. The
 * reference for those masks is a closed form: magnitude pruning on the exponential schedule keeps,
 * after r of R rounds, the round(N · d^(r/R)) largest |θ| of the start (ranked here in float64).
 */
import { createModel, manualSeed, prunableWeights, pruneModel, PruningInterruptedError, type Module } from '../../../src';
import { captureLogs } from './fixtures';
import { rejectionOf } from '../../helpers/error-of';

beforeAll(() => { captureLogs(); });

const ROUNDS = 10;
const DENSITY = 0.1;

function lenet(): Module {
  manualSeed(3);
  return createModel('lenet5');
}

/** Every masked weight's |θ| and its mask, in one flat list (model order). */
function flat(model: Module): { abs: number[]; mask: number[] } {
  const ws = prunableWeights(model);
  return { abs: ws.flatMap((w) => w.weight.toArray().map(Math.abs)), mask: ws.flatMap((w) => w.mask.toArray()) };
}

test('an aborted signal stops before the first round: nothing pruned', async () => {
  const model = lenet();
  const before = flat(model);
  const controller = new AbortController();
  controller.abort('SIGTERM');
  const e = await rejectionOf<PruningInterruptedError>(pruneModel(model, { method: 'magnitude', sparsity: 0.9, iterations: ROUNDS, signal: controller.signal }));
  expect(e).toBeInstanceOf(PruningInterruptedError);
  expect({ code: e.code, reason: e.reason, round: e.round, rounds: e.rounds, message: e.message }).toEqual({
    code: 'ERR_INTERRUPTED', reason: 'SIGTERM', round: 0, rounds: ROUNDS,
    message: `Pruning (magnitude) interrupted by SIGTERM before the first of its ${ROUNDS} rounds; no mask or checkpoint saved, nothing to resume from: run the same command again to start over`,
  });
  expect(flat(model)).toEqual(before);
  model.dispose();
});

test('an abort from an event-loop callback during round 3 stops at the round boundary, round 3\'s masks kept', async () => {
  const model = lenet();
  const { abs } = flat(model);
  const controller = new AbortController();
  const seen: number[] = [];
  const e = await rejectionOf<PruningInterruptedError>(pruneModel(model, {
    method: 'magnitude', sparsity: 1 - DENSITY, iterations: ROUNDS, signal: controller.signal,
    onRound: (p) => {
      seen.push(p.round);
      // As a signal handler does: the abort runs in a later turn of the event loop, not inside the round.
      if (p.round === 3) setImmediate(() => controller.abort('SIGINT'));
    },
  }));
  expect({ round: e.round, rounds: e.rounds, reason: e.reason }).toEqual({ round: 3, rounds: ROUNDS, reason: 'SIGINT' });
  expect(e.message).toBe(`Pruning (magnitude) interrupted by SIGINT after round 3 of ${ROUNDS}; no mask or checkpoint saved, nothing to resume from: run the same command again to start over`);
  expect(seen).toEqual([1, 2, 3]);
  const kept = Math.round(abs.length * DENSITY ** (3 / ROUNDS));
  const largest = abs.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, kept).map(([, i]) => i).sort((a, b) => a - b);
  const { mask } = flat(model);
  expect(mask.reduce((s, v) => s + v, 0)).toBe(kept);
  expect(mask.flatMap((v, i) => (v === 1 ? [i] : []))).toEqual(largest);
  model.dispose();
});

test('an abort during the last round is still reported: the caller would otherwise train on', async () => {
  const model = lenet();
  const controller = new AbortController();
  const e = await rejectionOf<PruningInterruptedError>(pruneModel(model, {
    method: 'magnitude', sparsity: 1 - DENSITY, iterations: 2, signal: controller.signal,
    onRound: (p) => { if (p.round === 2) setImmediate(() => controller.abort('SIGINT')); },
  }));
  expect({ round: e.round, rounds: e.rounds }).toEqual({ round: 2, rounds: 2 });
  expect(e.message).toMatch(/ after round 2 of 2;/);
  model.dispose();
});

test('a signal that never aborts changes nothing; a signal that is not an AbortSignal is refused by name', async () => {
  const a = lenet();
  const b = lenet();
  await pruneModel(a, { method: 'magnitude', sparsity: 0.9, iterations: 3 });
  await pruneModel(b, { method: 'magnitude', sparsity: 0.9, iterations: 3, signal: new AbortController().signal });
  expect(flat(b).mask).toEqual(flat(a).mask);
  await expect(pruneModel(a, { method: 'magnitude', sparsity: 0.9, signal: { aborted: true } as unknown as AbortSignal }))
    .rejects.toThrow('Expected AbortSignal for signal but received an object');
  a.dispose();
  b.dispose();
});

test('stopOverRanks decides at every check from this process\'s stop: another rank\'s stop at round 3 stops this one there with its reason', async () => {
  const model = lenet();
  const controller = new AbortController();
  const calls: unknown[] = [];
  let round = 0;
  const e = await rejectionOf<PruningInterruptedError>(pruneModel(model, {
    method: 'magnitude', sparsity: 1 - DENSITY, iterations: ROUNDS, signal: controller.signal,
    onRound: (p) => { round = p.round; },
    // As data-parallel ranks agree: this process's signal never aborts, another rank's does after round 3.
    stopOverRanks: (reason) => {
      calls.push(reason);
      return round === 3 ? 'SIGTERM' : undefined;
    },
  }));
  expect({ round: e.round, rounds: e.rounds, reason: e.reason }).toEqual({ round: 3, rounds: ROUNDS, reason: 'SIGTERM' });
  // Before the first round, then after rounds 1, 2 and 3: the same calls on every rank.
  expect(calls).toEqual([undefined, undefined, undefined, undefined]);
  await expect(pruneModel(model, { method: 'magnitude', sparsity: 0.9, stopOverRanks: 'SIGTERM' as unknown as () => unknown }))
    .rejects.toThrow("Expected function for stopOverRanks but received 'SIGTERM'");
  model.dispose();
});
