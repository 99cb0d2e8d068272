/** topKMask: exactly k kept, deterministic ties (lower index), NaN as -Infinity, ineligible never kept. */
import { tensor, tidy, topKMask } from '../../../src';

const keep = (scores: number[], k: number, eligible?: number[]) => tidy(() => topKMask(tensor(scores), k, eligible ? tensor(eligible) : undefined).toArray());

test('keeps the k largest', () => {
  expect(keep([0.1, 0.9, 0.5, 0.7], 2)).toEqual([0, 1, 0, 1]);
});

test('ties go to the lower index', () => {
  expect(keep([1, 1, 1, 1, 1], 2)).toEqual([1, 1, 0, 0, 0]);
  expect(keep([0.5, 2, 0.5, 0.5, 2], 3)).toEqual([1, 1, 0, 0, 1]);
});

test('NaN counts as -Infinity (ties again go to the lower index)', () => {
  expect(keep([NaN, -Infinity, 3, NaN], 2)).toEqual([1, 0, 1, 0]);
  expect(keep([NaN, -5, 3, NaN], 2)).toEqual([0, 1, 1, 0]);
});

test('ineligible entries are never kept, even with the best scores', () => {
  expect(keep([9, 1, 8, 2, 0], 2, [0, 1, 0, 1, 1])).toEqual([0, 1, 0, 1, 0]);
  expect(keep([9, -Infinity, 8, -Infinity], 2, [0, 1, 0, 1])).toEqual([0, 1, 0, 1]);
});

test('k = 0 and k = n', () => {
  expect(keep([1, 2, 3], 0)).toEqual([0, 0, 0]);
  expect(keep([1, 2, 3], 3)).toEqual([1, 1, 1]);
  expect(keep([1, 2, 3], 2, [1, 1, 0])).toEqual([1, 1, 0]);
});

test('k beyond the eligible entries is an error', () => {
  expect(() => keep([1, 2, 3], 3, [1, 0, 1])).toThrow(/^Expected integer in \[0, 2\] \(the eligible entries\) for k but received 3 of type number$/);
  expect(() => keep([1, 2, 3], 4)).toThrow(/^Expected integer in \[0, 3\] for k/);
});

test('exact on a large vector with heavy ties', () => {
  const n = 100_000;
  const scores = Array.from({ length: n }, (_, i) => i % 7);
  for (const k of [1, 12_345, 50_000, 99_999]) {
    const m = keep(scores, k);
    expect(m.reduce((a, b) => a + b, 0)).toBe(k);
  }
});
