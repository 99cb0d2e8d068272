/**
 * pruneModel's onRound: called once per round with the kept count the masks hold after it, in
 * place of the progress log at every tenth of the rounds (the CLI prints its own lines).
 */
import pino from 'pino';
import { maskedLayers, pruneModel, setLogger } from '../../../src';
import { createToyModel } from '../../helpers/toy-model';

function maskCount(model: ReturnType<typeof createToyModel>): number {
  return maskedLayers(model).reduce((s, [, l]) => s + l.mask.sum().item(), 0);
}

test('onRound sees every round, with the masks kept so far; no tenth-of-rounds log', async () => {
  const lines: string[] = [];
  setLogger(pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } }));
  const model = createToyModel();
  const seen: [number, number, number, number][] = [];
  const r = await pruneModel(model, {
    method: 'magnitude', sparsity: 0.8, iterations: 5,
    onRound: (p) => seen.push([p.round, p.rounds, p.kept, maskCount(model)]),
  });
  expect(seen.map((s) => s.slice(0, 2))).toEqual([[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
  for (const [, , kept, masks] of seen) expect(kept).toBe(masks);
  expect(seen[4][2]).toBe(r.kept);
  expect(lines.filter((l) => l.includes('rounds"'))).toEqual([]);
  await expect(pruneModel(model, { method: 'magnitude', sparsity: 0.9, onRound: 1 as never })).rejects.toThrow('Expected function for onRound');
  model.dispose();
});
