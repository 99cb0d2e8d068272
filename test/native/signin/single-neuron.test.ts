/**
 * The single-neuron teacher-student experiment (examples/single-neuron.ts, docs/single-neuron.md)
 * checked two ways:
 * 1. against an independent float64 reference (single-neuron-reference.py: closed-form gradients
 *    in numpy, on the same inputs and start directions; none of the toolkit's kernels), run by
 *    run: same final loss, parameters and verdict;
 * 2. against what the theory predicts where it predicts something (docs/single-neuron.md):
 *    - (+,+): gradient descent converges to the teacher, with or without Sign-In;
 *    - (−,+), balanced start: plain gradient flow conserves a² − ‖w‖² = 0, so a = −‖w‖ can never
 *      turn positive: no recovery; Sign-In's reset breaks the conservation: recovery (the paper);
 *    - (−,−): a < 0 and w in the opposite orthant: nobody recovers (the paper).
 *    (+,−) is not decided by a theorem in this finite-sample setting: see the docs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, type SignPattern } from '../../../examples/single-neuron';
import { runPythonJson } from '../../helpers/pytorch';

interface RefRun { method: string; start: string; direction: string; a: number; w: number[]; loss: number }

const PREDICTED: Partial<Record<SignPattern, { plain: boolean; signin: boolean }>> = {
  '(+,+)': { plain: true, signin: true },
  '(-,+)': { plain: false, signin: true },
  '(-,-)': { plain: false, signin: false },
};

describe('single hidden neuron a·ReLU(w·x) vs teacher a* = 1, w* = 1/√d', () => {
  const result = run();
  const o = result.options;
  const teacher = Array.from({ length: o.d }, () => 1 / Math.sqrt(o.d));
  const reference = runPythonJson<RefRun[]>(
    fs.readFileSync(path.join(__dirname, 'single-neuron-reference.py'), 'utf8'),
    { x: result.x, directions: { random: result.randomDirection, teacher }, options: o },
  );

  it('matches the float64 numpy reference run by run', () => {
    expect(reference).toHaveLength(result.runs.length);
    for (const r of result.runs) {
      const ref = reference.find((q) => q.method === r.method && q.start === r.start && q.direction === r.direction)!;
      const refRecovered = ref.loss < o.tol && ref.a > 0 && ref.w.every((v) => v > 0);
      const label = `${r.method} ${r.start} ${r.direction}`;
      expect({ label, recovered: r.recovered }).toEqual({ label, recovered: refRecovered });
      expect(Math.abs(r.finalLoss - ref.loss)).toBeLessThan(1e-9);
      expect(Math.abs(r.a - ref.a)).toBeLessThan(1e-6);
      r.w.forEach((v, i) => expect(Math.abs(v - ref.w[i])).toBeLessThan(1e-6));
    }
  });

  it('recovers where the theory says it must, and only there among the decided starts', () => {
    for (const r of result.runs) {
      const predicted = PREDICTED[r.start]?.[r.method];
      if (predicted === undefined) continue;
      expect({ run: `${r.method} ${r.start} ${r.direction}`, recovered: r.recovered })
        .toEqual({ run: `${r.method} ${r.start} ${r.direction}`, recovered: predicted });
      if (r.recovered) expect(r.cosine).toBeGreaterThan(1 - 1e-9);
      else expect(r.finalLoss).toBeGreaterThan(0.1);
    }
  });
});
