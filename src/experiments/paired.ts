/**
 * Paired comparison of two methods run on the same seeds (same init, mask and data order): the
 * per-seed differences, their mean, a 95% confidence interval from Student's t with n − 1
 * degrees of freedom, the two-sided p of the paired t test, and how many pairs favour the second
 * method. One pair is one sample; with few seeds the interval is wide, and the table says so rather
 * than a bare mean. A report compares several rows at once, so holmAdjust gives the p-values that
 * hold for the whole family (Holm's step-down, which needs no independence between the tests).
 */
import { InvalidArgumentError } from '../errors';
import { list } from '../validate';

export interface PairedSummary {
  n: number;
  /** b − a per pair, in the order given. */
  differences: number[];
  mean: number;
  /** Sample standard deviation of the differences (n − 1 in the denominator); NaN for n < 2. */
  sd: number;
  /** 95% confidence interval of the mean difference; [NaN, NaN] for n < 2. */
  ci95: [number, number];
  /**
   * Two-sided p-value of the paired t test of mean difference 0 (NaN for n < 2). Differences that
   * are all equal give 0 when they are not zero (no spread: t is infinite) and 1 when they are.
   */
  p: number;
  /** Pairs with b > a. */
  positive: number;
}

export function pairedSummary(a: readonly number[], b: readonly number[]): PairedSummary {
  const isNumber = (x: unknown) => typeof x === 'number';
  list('a', a, 'array of numbers', isNumber);
  list('b', b, 'array of numbers', isNumber);
  if (a.length !== b.length) throw new InvalidArgumentError('b', `${a.length} values, one per value of a`, b);
  const differences = a.map((v, i) => b[i] - v);
  const n = differences.length;
  const mean = differences.reduce((s, d) => s + d, 0) / n;
  const sd = n < 2 ? NaN : Math.sqrt(differences.reduce((s, d) => s + (d - mean) ** 2, 0) / (n - 1));
  const half = n < 2 ? NaN : studentTQuantile(0.975, n - 1) * sd / Math.sqrt(n);
  return { n, differences, mean, sd, ci95: [mean - half, mean + half], p: pairedTP(n, mean, sd), positive: differences.filter((d) => d > 0).length };
}

function pairedTP(n: number, mean: number, sd: number): number {
  if (n < 2) return NaN;
  if (sd === 0) return mean === 0 ? 1 : 0;
  return 2 * studentTCdf(-Math.abs(mean / (sd / Math.sqrt(n))), n - 1);
}

/**
 * Holm's step-down adjustment of a family of p-values, in the order given: the i-th smallest of m
 * becomes max over j ≤ i of min(1, (m − j + 1)·p_(j)). NaN entries (no test) stay NaN and do not
 * count in m.
 */
export function holmAdjust(ps: readonly number[]): number[] {
  list('ps', ps, 'array of p-values in [0, 1] or NaN', (x) => typeof x === 'number' && (Number.isNaN(x) || (x >= 0 && x <= 1)));
  const order = ps.map((p, i) => ({ p, i })).filter((e) => !Number.isNaN(e.p)).sort((x, y) => x.p - y.p);
  const out = ps.map(() => NaN);
  let running = 0;
  order.forEach((e, j) => {
    running = Math.max(running, Math.min(1, (order.length - j) * e.p));
    out[e.i] = running;
  });
  return out;
}

/** The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF). */
export function studentTQuantile(p: number, df: number): number {
  if (typeof p !== 'number' || !(p > 0 && p < 1)) throw new InvalidArgumentError('p', 'a probability in (0, 1)', p);
  if (typeof df !== 'number' || !(df > 0)) throw new InvalidArgumentError('df', 'a positive number of degrees of freedom', df);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function studentTCdf(t: number, df: number): number {
  if (typeof t !== 'number' || Number.isNaN(t)) throw new InvalidArgumentError('t', 'number', t);
  if (typeof df !== 'number' || !(df > 0)) throw new InvalidArgumentError('df', 'a positive number of degrees of freedom', df);
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

// I_x(a, b) by the continued fraction of Numerical Recipes (sec. 6.4), with the symmetry
// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - (front * betaFraction(1 - x, b, a)) / b;
  return (front * betaFraction(x, a, b)) / a;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

// Lanczos (g = 7, n = 9), accurate to ~1e-15 for x > 0.
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}
