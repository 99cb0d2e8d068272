/**
 * The report's paired section against hand-computed numbers: per-seed differences, mean, the 95%
 * paired-t interval mean ± t(0.975, n − 1)·sd/√n with t(0.975, 2) = 4.302653 and
 * t(0.975, 1) = 12.706205 (tables), the count of positive pairs; pairs only over seeds both ran.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accuracyTables, loadRuns, plotData, sparsityLabel, writeReport } from '../../../src/experiments/report';
import { finalHessianEigenvalue, hessianMarkdown, pairedRows, pairedToMarkdown } from '../../../src/experiments/report-paired';
import { fakeRun, removeDir, tempDir } from './fixtures';

let root: string;

beforeAll(() => {
  root = tempDir('paired');
  //   90%: Random 80, 82, 84; Sign-In 85, 86, 90 → Δ = 5, 4, 6: mean 5, sd 1, half-width 4.302653/√3 = 2.484138
  //   95%: Random 70, 74 (seed 2 unfinished); Sign-In 75, 76, 77 → pairs of seeds 0, 1: Δ = 5, 2:
  //        mean 3.5, sd √4.5, half-width 12.706205·√4.5/√2 = 19.059307
  const finals: [number, boolean, number[]][] = [
    [0.9, false, [0.8, 0.82, 0.84]],
    [0.9, true, [0.85, 0.86, 0.9]],
    [0.95, false, [0.7, 0.74]],
    [0.95, true, [0.75, 0.76, 0.77]],
  ];
  // Top Hessian eigenvalues at 90%: Random 10, 12, 14; Sign-In 8, 9, 13 → Δ = −2, −3, −1.
  const hessian: Record<string, number[]> = { 'false': [10, 12, 14], 'true': [8, 9, 13] };
  for (const [sparsity, signin, accs] of finals) {
    accs.forEach((final, seed) => {
      const { dir } = fakeRun(root, { sparsity, signin, seed, final });
      if (sparsity !== 0.9) return;
      const file = path.join(dir, 'metrics.jsonl');
      const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      rows[rows.length - 1].topHessianEigenvalue = hessian[String(signin)][seed];
      fs.writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    });
  }
  fakeRun(root, { sparsity: 0.95, signin: false, seed: 2 });
});
afterAll(() => removeDir(root));

describe('paired table', () => {
  test('differences, mean, 95% CI and positive pairs equal the hand computation', () => {
    const [t] = accuracyTables(loadRuns(root));
    const [row] = pairedRows(t);
    expect(row).toMatchObject({ plain: 'Random', signin: 'Random + Sign-In' });
    const [c90, c95] = row.cells;
    expect(c90.seeds).toEqual([0, 1, 2]);
    c90.summary.differences.forEach((d, i) => expect(d).toBeCloseTo([5, 4, 6][i], 10));
    expect(c90.summary.mean).toBeCloseTo(5, 10);
    expect(c90.summary.sd).toBeCloseTo(1, 10);
    expect(c90.summary.ci95[0]).toBeCloseTo(5 - 2.484138, 5);
    expect(c90.summary.ci95[1]).toBeCloseTo(5 + 2.484138, 5);
    expect(c90.summary.positive).toBe(3);
    expect(c95.seeds).toEqual([0, 1]);
    expect(c95.summary.mean).toBeCloseTo(3.5, 10);
    expect(c95.summary.ci95[0]).toBeCloseTo(3.5 - 19.059307, 4);
    expect(c95.summary.ci95[1]).toBeCloseTo(3.5 + 19.059307, 4);
    expect(c95.summary.positive).toBe(2);

    // p from the closed-form t CDFs: 90%, t = 5√3 on 2 df, P(|T| > t) = 1 − t/√(2 + t²); 95%, t = 3.5/1.5
    // on 1 df (Cauchy), 1 − (2/π)·atan t. Holm over the table's two: 2·p90 (the smaller), then max(that, p95).
    const t90 = 5 * Math.sqrt(3);
    const p90 = 1 - t90 / Math.sqrt(2 + t90 * t90);
    const p95 = 1 - (2 / Math.PI) * Math.atan(3.5 / 1.5);
    expect(c90.summary.p).toBeCloseTo(p90, 10);
    expect(c95.summary.p).toBeCloseTo(p95, 10);
    const md = pairedToMarkdown([row], 'points', sparsityLabel);
    expect(md).toContain(`| Random + Sign-In − Random | 90% | 3 | 0: +5.00, 1: +4.00, 2: +6.00 | +5.00 | [+2.52, +7.48] | ${p90.toFixed(3)} | ${(2 * p90).toFixed(3)} | 3 of 3 |`);
    expect(md).toContain(`| Random + Sign-In − Random | 95% | 2 | 0: +5.00, 1: +2.00 | +3.50 | [−15.56, +22.56] | ${p95.toFixed(3)} | ${p95.toFixed(3)} | 2 of 2 |`);
  });

  test('flatness: mean ± std of the final eigenvalue per row, and its pairs', () => {
    const runs = loadRuns(root);
    const [t] = accuracyTables(runs);
    const labels = plotData(t, runs).runLabels;
    expect(finalHessianEigenvalue(runs.find((r) => r.config.signin.enabled && r.config.seed === 1 && r.config.pruning.sparsity === 0.9)!.metrics)).toBe(9);
    const md = hessianMarkdown(t, runs, (r) => labels.get(r.name), sparsityLabel);
    expect(md).toContain('| Random | 12.00 ± 2.00 (n=3) | – |');
    expect(md).toContain(`| Random + Sign-In | 10.00 ± ${Math.sqrt(7).toFixed(2)} (n=3) | – |`);
    // Δ = −2, −3, −1: mean −2, sd 1, half-width 2.484138, t = −2√3 on 2 df; no pair favours Sign-In (a lower value).
    const tStat = 2 * Math.sqrt(3);
    const p = (1 - tStat / Math.sqrt(2 + tStat * tStat)).toFixed(3);
    expect(md).toContain(`| Random + Sign-In − Random | 90% | 3 | 0: −2.00, 1: −3.00, 2: −1.00 | −2.00 | [−4.48, +0.48] | ${p} | ${p} | 0 of 3 |`);
  });

  test('writeReport puts both sections in report.md and the pairs in paired.json', async () => {
    const out = path.join(root, 'report');
    const r = await writeReport(root, out, { plots: false });
    expect(r.markdown).toContain('#### Paired differences (top-1 test accuracy)');
    expect(r.markdown).toContain('#### Flatness');
    const paired = JSON.parse(fs.readFileSync(path.join(out, 'paired.json'), 'utf8')) as { table: string; accuracy: { cells: unknown[] }[] }[];
    expect(paired[0].table).toBe('cifar10 cifar_resnet_20');
    expect(paired[0].accuracy[0].cells).toHaveLength(2);
  });
});
