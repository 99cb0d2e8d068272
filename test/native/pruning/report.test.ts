/** maskReport: per-layer counts and FLOPs of the sparse forward vs the dense one, as data and a table. */
import { createModel, maskReport, maskedLayers, pruneModel } from '../../../src';
import { createToyModel } from '../../helpers/toy-model';
import { captureLogs, seeded } from './fixtures';

beforeAll(() => { captureLogs(); });

test('LeNet-5: FLOPs from the recorded output sizes (2 per multiply-accumulate)', async () => {
  const model = seeded(() => createModel('lenet5'));
  await pruneModel(model, { method: 'magnitude', sparsity: 0.9 });
  const r = maskReport(model);
  expect(r.inputShape).toEqual([1, 28, 28]);
  const positions = { 'conv1.weight': 28 * 28, 'conv2.weight': 10 * 10, 'fc1.weight': 1, 'fc2.weight': 1, 'fc3.weight': 1 };
  for (const l of r.layers) {
    const p = positions[l.name as keyof typeof positions];
    expect(l.positions).toBe(p);
    expect(l.denseFlops).toBe(2 * p * l.total);
    expect(l.sparseFlops).toBe(2 * p * l.remaining);
    expect(l.density).toBeCloseTo(l.remaining / l.total, 15);
  }
  expect(r.layers.map((l) => l.shape)).toEqual([[6, 1, 5, 5], [16, 6, 5, 5], [120, 400], [84, 120], [10, 84]]);
  expect(r.denseFlops).toBe(2 * (784 * 150 + 100 * 2400 + 48000 + 10080 + 840));
  expect(r.total).toBe(61470);
  expect(r.remaining).toBe(6147);
  expect(r.sparsity).toBeCloseTo(0.9, 12);
  const lines = r.table.split('\n');
  expect(lines[0]).toMatch(/^layer +shape +params +remaining +density +FLOPs dense +FLOPs sparse +note$/);
  expect(lines).toHaveLength(2 + 5 + 2);
  expect(lines[lines.length - 1]).toMatch(/^total +61470 +6147 +10\.00% +833\.04K +[\d.]+K +FLOPs [\d.]+% of dense$/);
});

test('a model without inputShape: counts only, unless an input shape is given', () => {
  const model = seeded(() => createToyModel());
  const r = maskReport(model);
  expect(r.denseFlops).toBeUndefined();
  expect(r.layers[0].denseFlops).toBeUndefined();
  expect(r.table).toMatch(/^conv1\.weight +\[4, 1, 3, 3\] +36 +36 +100\.00% +- +-$/m);
  const withShape = maskReport(model, { inputShape: [1, 8, 8] });
  expect(withShape.layers.map((l) => l.positions)).toEqual([64, 16, 1]);
});

test('the report leaves the model as it was (mode, forward)', () => {
  const model = seeded(() => createModel('lenet5'));
  model.train();
  maskReport(model);
  expect(model.training).toBe(true);
  for (const [, l] of maskedLayers(model)) expect(Object.prototype.hasOwnProperty.call(l, 'forward')).toBe(false);
});

test('bad input shapes are rejected', () => {
  const model = seeded(() => createToyModel());
  expect(() => maskReport(model, { inputShape: [1, -8] })).toThrow(/^Expected array of positive integers for inputShape/);
});
