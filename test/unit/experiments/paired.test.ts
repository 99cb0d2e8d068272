/**
 * Paired statistics against published values: Student's t quantiles from standard tables
 * (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2), a hand-computed interval, the t test's p-values
 * from the closed-form CDFs of t(1) and t(2), and Holm's adjustment worked by hand.
 */
import { holmAdjust, pairedSummary, studentTCdf, studentTQuantile } from '../../../src/experiments/paired';

it.each([
  [1, 12.706204736], [2, 4.302652730], [3, 3.182446305], [4, 2.776445105], [5, 2.570581836],
  [9, 2.262157163], [29, 2.045229642], [100, 1.983971519],
])('t(0.975, df=%d) = %f', (df, expected) => {
  expect(studentTQuantile(0.975, df)).toBeCloseTo(expected, 7);
});

it('the CDF of t(1) is the Cauchy CDF and the quantiles are symmetric', () => {
  for (const t of [-3, -0.5, 0, 0.7, 10]) expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
  expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 10);
});

it('a paired summary: differences b − a, mean, sd, 95% t interval and positive pairs', () => {
  const a = [91.0, 90.5, 91.2, 90.8];
  const b = [91.6, 90.4, 92.0, 91.3];
  const s = pairedSummary(a, b);
  // d = [0.6, -0.1, 0.8, 0.5]: mean 0.45, sd = sqrt(((.15)² + (.55)² + (.35)² + (.05)²) / 3)
  const sd = Math.sqrt((0.15 ** 2 + 0.55 ** 2 + 0.35 ** 2 + 0.05 ** 2) / 3);
  expect(s.differences.map((d) => Number(d.toFixed(10)))).toEqual([0.6, -0.1, 0.8, 0.5]);
  expect(s.mean).toBeCloseTo(0.45, 12);
  expect(s.sd).toBeCloseTo(sd, 12);
  const half = 3.182446305 * sd / 2;
  expect(s.ci95[0]).toBeCloseTo(0.45 - half, 7);
  expect(s.ci95[1]).toBeCloseTo(0.45 + half, 7);
  expect(s.positive).toBe(3);
});

it('one pair gives no interval; unequal lengths are an error', () => {
  expect(pairedSummary([1], [2]).ci95.every(Number.isNaN)).toBe(true);
  expect(() => pairedSummary([1, 2], [1])).toThrow(/Expected 2 values, one per value of a for b/);
});

it('the paired t test\'s two-sided p: closed forms for 1 and 2 degrees of freedom, the tables at 0.05', () => {
  // n = 2: t(1) is Cauchy, p = 1 − (2/π)·atan|t|. d = [0.3, 0.5]: mean 0.4, sd 0.1·√2, t = 0.4 / 0.1 = 4.
  expect(pairedSummary([0, 0], [0.3, 0.5]).p).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(4), 10);
  // n = 3: P(|T| > t) = 1 − t/√(2 + t²) for t(2). d = [1, 2, 4]: mean 7/3, sd √(7/3), t = √7.
  const t = (7 / 3) / (Math.sqrt(7 / 3) / Math.sqrt(3));
  expect(pairedSummary([1, 1, 1], [2, 3, 5]).p).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 10);
  // The sign of the difference does not matter.
  expect(pairedSummary([2, 3, 5], [1, 1, 1]).p).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 10);
  // t at the tables' 0.975 quantile has p = 0.05: d = [q − 1, q + 1] / … built to give t = q(df=4).
  const q = 2.776445105;
  const d = [-2, -1, 0, 1, 2];
  const sd = Math.sqrt(10 / 4);
  const shift = q * sd / Math.sqrt(5);
  expect(pairedSummary([0, 0, 0, 0, 0], d.map((x) => x + shift)).p).toBeCloseTo(0.05, 7);
});

it('p without spread or without a second pair', () => {
  expect(pairedSummary([1, 2, 3], [1.5, 2.5, 3.5]).p).toBe(0);
  expect(pairedSummary([1, 2, 3], [1, 2, 3]).p).toBe(1);
  expect(pairedSummary([1], [2]).p).toBeNaN();
});

it('Holm\'s adjustment, worked by hand: step-down, monotone, capped at 1, NaN left out of m', () => {
  // m = 4: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.06, 0.04·1) = 0.06.
  expect(holmAdjust([0.01, 0.04, 0.03, 0.005]).map((x) => Number(x.toFixed(12)))).toEqual([0.03, 0.06, 0.06, 0.02]);
  // m = 2: 0.02·2 = 0.04, max(0.04, 0.5).
  const withNaN = holmAdjust([NaN, 0.02, 0.5]);
  expect(withNaN[0]).toBeNaN();
  expect(withNaN.slice(1)).toEqual([0.04, 0.5]);
  expect(holmAdjust([0.3, 0.4, 0.9]).map((x) => Number(x.toFixed(12)))).toEqual([0.9, 0.9, 0.9]);
  expect(holmAdjust([])).toEqual([]);
  expect(() => holmAdjust([0.5, 1.5])).toThrow(/Expected array of p-values in \[0, 1\] or NaN for ps/);
});
