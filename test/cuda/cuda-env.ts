/**
 * The CUDA suites run only where the addon sees a CUDA device (scripts/gpu-check.sh on the GPU
 * machine); elsewhere they are skipped with the reason in their title. TF32 is turned off while
 * they run, so that CUDA float32 results can be held to float32 tolerances against the CPU's.
 */
import { cuda, setAllowTF32 } from '../../src';
import { maxDiff } from '../helpers/compare';

export const HAS_CUDA = cuda.isAvailable();
const REASON = 'no CUDA device (the addon reports 0 devices; scripts/gpu-check.sh runs this on the GPU machine)';

export function describeCuda(name: string, fn: () => void): void {
  if (!HAS_CUDA) {
    describe.skip(`${name} [skipped: ${REASON}]`, fn);
    return;
  }
  describe(name, () => {
    let previous: { cudnn: boolean; cublas: boolean };
    beforeAll(() => {
      previous = setAllowTF32(false);
    });
    afterAll(() => {
      setAllowTF32(previous.cudnn);
    });
    fn();
  });
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Expects `actual` within rel·max|expected| + abs of `expected`, naming `what` on failure. */
export function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 1e-6): void {
  const d = maxDiff(actual, expected);
  const bound = rel * maxAbs(expected) + abs;
  if (!(d <= bound)) throw new Error(`${what}: max |CUDA − CPU| = ${d} > ${bound}`);
}
