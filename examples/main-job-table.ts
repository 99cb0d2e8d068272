/**
 * The main job's closing table: both runs' accuracy, sign flips (vs init and in the last epoch)
 * and Sign-In's β, the paired difference (Sign-In − Random, same seed, mask and data order) with
 * a word on whether it is within noise, and where the multi-seed evidence is.
 *
 * Noise here is the test-set sampling error of a difference of two accuracies measured on n test
 * images, SE = sqrt(p₁(1−p₁)/n + p₂(1−p₂)/n); a difference under 2 SE is called within noise.
 * That is a lower bound on the noise: one pair is one sample, and the seed (init, mask, data
 * order) moves each accuracy by more (docs/results/README.md: several tenths of a point).
 */

export interface MainJobRun {
  label: string;
  /** Final top-1 test accuracy, a fraction. */
  testAcc: number;
  /** Fraction of unmasked weights whose sign differs from initialization, if tracked. */
  signFlips?: number;
  /** Fraction whose sign changed during the last epoch, if tracked. */
  signFlipsLastEpoch?: number;
  /** Sign-In only: mean m² − w² over the kept weights at the end, worn down by the last epoch (β is reset to 1 each epoch before). */
  beta?: number;
}

export interface PairedDifference {
  /** Percentage points, second run minus first. */
  diffPoints: number;
  /** Standard error of that difference from test-set sampling, in percentage points. */
  sePoints: number;
  withinNoise: boolean;
}

export function pairedDifference(a: MainJobRun, b: MainJobRun, testSize: number): PairedDifference {
  const v = (p: number) => (p * (1 - p)) / testSize;
  const sePoints = 100 * Math.sqrt(v(a.testAcc) + v(b.testAcc));
  const diffPoints = 100 * (b.testAcc - a.testAcc);
  return { diffPoints, sePoints, withinNoise: Math.abs(diffPoints) < 2 * sePoints };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;

/** Markdown: one row per run, then the paired difference and what it can and cannot say. */
export function mainJobTable(plain: MainJobRun, signin: MainJobRun, testSize: number, evidence = 'docs/results/README.md'): string {
  const d = pairedDifference(plain, signin, testSize);
  const opt = (v: number | undefined, f: (x: number) => string) => (v === undefined ? '–' : f(v));
  const verdict = d.withinNoise
    ? `within noise (|Δ| < 2 SE = ${(2 * d.sePoints).toFixed(2)} points)`
    : `beyond the test-set noise (|Δ| ≥ 2 SE = ${(2 * d.sePoints).toFixed(2)} points), still from one seed`;
  const row = (r: MainJobRun) => `| ${r.label} | ${pct(r.testAcc)} | ${opt(r.signFlips, pct)} | ${opt(r.signFlipsLastEpoch, pct)} | ${opt(r.beta, (b) => b.toFixed(3))} |`;
  return [
    '| method | top-1 test accuracy | sign flips vs init | sign flips in the last epoch | β = mean m² − w² at the end |',
    '|---|---:|---:|---:|---:|',
    row(plain),
    row(signin),
    '',
    `Paired difference (${signin.label} − ${plain.label}, same seed, mask and data order): ` +
      `${signed(d.diffPoints)} points, SE ${d.sePoints.toFixed(2)} points on ${testSize} test images: ${verdict}.`,
    'One pair is one sample: other seeds, thread counts or CPUs move each accuracy by a few tenths of a point, so',
    `the evidence for or against Sign-In is the paired multi-seed sweep (per-seed differences, 95% CI): ${evidence}.`,
    '',
  ].join('\n');
}
