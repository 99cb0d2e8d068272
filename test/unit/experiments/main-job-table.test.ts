/** The main job's table: the paired difference and its noise word (closed forms worked by hand). */
import { mainJobTable, pairedDifference } from '../../../examples/main-job-table';

describe('main job table', () => {
  it('SE of a difference of two accuracies on n images: sqrt(p1(1-p1)/n + p2(1-p2)/n)', () => {
    // p1 = p2 = 0.5, n = 10000: sqrt(2 * 0.25 / 10000) = 0.0070711 → 0.70711 points
    const d = pairedDifference({ label: 'a', testAcc: 0.5 }, { label: 'b', testAcc: 0.5 }, 10000);
    expect(d.sePoints).toBeCloseTo(0.70711, 5);
    expect(d).toMatchObject({ diffPoints: 0, withinNoise: true });
  });

  it('calls a difference under 2 SE within noise and one over it beyond', () => {
    // 0.8 vs 0.81 on 1000 images: SE = sqrt(0.16/1000 + 0.1539/1000) = 0.017717 → 1.77 points; Δ = 1 point
    const small = pairedDifference({ label: 'a', testAcc: 0.8 }, { label: 'b', testAcc: 0.81 }, 1000);
    expect(small.sePoints).toBeCloseTo(1.7717, 3);
    expect(small.diffPoints).toBeCloseTo(1, 10);
    expect(small.withinNoise).toBe(true);
    // the same accuracies on 100000 images: SE 0.177 points, Δ = 1 point > 0.354
    expect(pairedDifference({ label: 'a', testAcc: 0.8 }, { label: 'b', testAcc: 0.81 }, 100000).withinNoise).toBe(false);
  });

  it('prints accuracy, sign flips, β, the signed difference, that one pair is one sample and where the evidence is', () => {
    const text = mainJobTable({ label: 'Random', testAcc: 0.8757, signFlips: 0.4, signFlipsLastEpoch: 0.0312 }, { label: 'Random + Sign-In', testAcc: 0.8745, beta: 0.91234 }, 10000);
    expect(text).toContain('| Random | 87.57% | 40.00% | 3.12% | – |');
    expect(text).toContain('| Random + Sign-In | 87.45% | – | – | 0.912 |');
    expect(text).toMatch(/Paired difference \(Random \+ Sign-In − Random, same seed, mask and data order\): −0\.12 points, SE 0\.47 points on 10000 test images: within noise/);
    expect(text).toContain('One pair is one sample');
    expect(text).toContain('docs/results/README.md');
  });
});
