/**
 * Config fields that take one of several kinds of value (amp, channelsLast, dataset.augment,
 * transfer.epoch) said only "Invalid input" for a wrong one; like every other field they now say
 * what they take and what they got.
 */
import { safeParseConfig } from '../../../src/experiments/schema';

const base = { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 2 };

function issues(extra: Record<string, unknown>): { path: string; message: string }[] {
  const r = safeParseConfig({ ...base, ...extra });
  return r.success ? [] : r.issues.map(({ path, message }) => ({ path, message }));
}

test.each([
  [{ amp: 'yes' }, 'amp', "Expected one of 'bf16', 'fp16', false but received 'yes' of type string"],
  [{ amp: true }, 'amp', "Expected one of 'bf16', 'fp16', false but received true of type boolean"],
  [{ channelsLast: 'maybe' }, 'channelsLast', "Expected boolean or 'auto' but received 'maybe' of type string"],
  [{ dataset: { name: 'mnist', augment: 'yes' } }, 'dataset.augment', "Expected boolean or object but received 'yes' of type string"],
])('%j', (extra, path, message) => {
  expect(issues(extra)).toEqual([{ path, message }]);
});

test('a transfer epoch that is neither an epoch number nor \'final\'', () => {
  const got = issues({ pruning: { method: 'none' }, transfer: { from: '/runs/train_x', kind: 'signs', epoch: 'last' } });
  expect(got).toContainEqual({ path: 'transfer.epoch', message: "Expected number or 'final' but received 'last' of type string" });
});

test('a value of the right kind with a wrong field still names that field', () => {
  expect(issues({ dataset: { name: 'mnist', augment: { crop: { padding: -1 } } } })).toEqual([
    { path: 'dataset.augment.crop.padding', message: 'Expected a number >= 0 but received -1 of type number' },
  ]);
});
