/**
 * Paired statistics against published values: Student's t quantiles from standard tables
 * (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2) and a hand-computed interval.
 */
import { pairedSummary, studentTCdf, studentTQuantile } from '../../../src/experiments/paired';

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
