/** Integer apportionment and schedules (pure TS). */
import { apportion, keptCount } from '../../../src/pruning/threshold';
import { scheduleDensities } from '../../../src/pruning/schedule';

describe('apportion', () => {
  test('sums exactly to the total, each count within one of its quota', () => {
    const quotas = [10.4, 20.5, 30.6, 0.2, 7.3];
    const total = Math.round(quotas.reduce((a, b) => a + b, 0));
    const c = apportion(quotas, [100, 100, 100, 100, 100], total);
    expect(c.reduce((a, b) => a + b, 0)).toBe(total);
    c.forEach((x, i) => expect(Math.abs(x - quotas[i])).toBeLessThan(1));
    expect(c).toEqual([10, 21, 31, 0, 7]); // largest fractional parts: .6 and .5
  });

  test('respects caps and moves the shortfall to layers with room', () => {
    const c = apportion([50, 50, 50], [10, 100, 100], 150);
    expect(c[0]).toBe(10);
    expect(c.reduce((a, b) => a + b, 0)).toBe(150);
    expect(c.every((x, i) => x <= [10, 100, 100][i])).toBe(true);
  });

  test('ties go to the lower index (deterministic)', () => {
    expect(apportion([0.5, 0.5, 0.5, 0.5], [1, 1, 1, 1], 2)).toEqual([1, 1, 0, 0]);
  });

  test('quotas above the total (float noise) are trimmed', () => {
    const c = apportion([3.0000001, 3.0000001, 3.0000001], [5, 5, 5], 8);
    expect(c.reduce((a, b) => a + b, 0)).toBe(8);
  });

  test('errors', () => {
    expect(() => apportion([1, 2], [1], 2)).toThrow(/for caps/);
    expect(() => apportion([1, 2], [1, 1], 3)).toThrow(/^Expected integer <= 2 \(the sum of the caps\) for total but received 3/);
    expect(() => apportion([1], [1], 0.5)).toThrow(/for total/);
  });

  test('keptCount rounds to the nearest weight', () => {
    expect(keptCount(0.2, 61470)).toBe(12294);
    expect(keptCount(1 - 0.98, 61470)).toBe(1229);
    expect(keptCount(0, 10)).toBe(0);
    expect(keptCount(1, 10)).toBe(10);
  });
});

describe('scheduleDensities', () => {
  test('exponential: D^(k/n), ending exactly on D', () => {
    const d = scheduleDensities(0.01, 4, 'exponential');
    expect(d.map((x) => +x.toFixed(12))).toEqual([0.01 ** 0.25, 0.01 ** 0.5, 0.01 ** 0.75, 0.01].map((x) => +x.toFixed(12)));
    expect(d[3]).toBe(0.01);
  });

  test('linear: 1 − (1 − D)·k/n', () => {
    expect(scheduleDensities(0.2, 4, 'linear').map((x) => +x.toFixed(12))).toEqual([0.8, 0.6, 0.4, 0.2]);
  });

  test('from a start density', () => {
    expect(scheduleDensities(0.25, 2, 'exponential', 0.5).map((x) => +x.toFixed(12))).toEqual([+(0.5 * 0.5 ** 0.5).toFixed(12), 0.25]);
    expect(scheduleDensities(0.2, 2, 'linear', 0.6).map((x) => +x.toFixed(12))).toEqual([0.4, 0.2]);
  });

  test('one round is one shot', () => {
    expect(scheduleDensities(0.1, 1)).toEqual([0.1]);
  });

  test('unknown schedules and bad rounds are rejected', () => {
    expect(() => scheduleDensities(0.1, 3, 'cosine' as 'linear')).toThrow(/^Expected one of 'exponential', 'linear' for schedule but received 'cosine' of type string$/);
    expect(() => scheduleDensities(0.1, 0)).toThrow(/^Expected integer in \[1, 16777216\] for iterations but received 0 of type number$/);
  });
});
