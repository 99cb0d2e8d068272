/**
 * The fused kernels on CUDA against their CPU versions: the masked SGD step (momentum, weight
 * decay, nesterov), the fused Sign-In step and the Sign-In reset, from the same float32 state.
 * Element-wise math with the same formulas: agreement to a few float32 ulps.
 */
import { SGD, fromTypedArray, manualSeed, rand, randn, signinReset, signinStep, tidy, type Tensor } from '../../src';
import { describeCuda, expectClose } from './cuda-env';

const N = 100_003; // odd: exercises the kernels' tails

function state(seed: number): Record<'theta' | 'm' | 'w' | 'mask' | 'bufM' | 'bufW' | 'grad', Tensor> {
  manualSeed(seed);
  return tidy(() => {
    const mask = rand([N]).lt(0.3).to('float32');
    const m = rand([N]).mul(0.5).add(0.8);
    const w = randn([N]).mul(0.1).mul(mask);
    return { theta: m.mul(w), m, w, mask, bufM: randn([N]).mul(0.01).mul(mask), bufW: randn([N]).mul(0.01).mul(mask), grad: randn([N]) };
  });
}

function onCuda<T extends Record<string, Tensor>>(s: T): T {
  return Object.fromEntries(Object.entries(s).map(([k, t]) => [k, t.to({ device: 'cuda' })])) as T;
}

const host = (t: Tensor) => t.to({ device: 'cpu' }).toArray();

describeCuda('fused kernels on CUDA against the CPU', () => {
  for (const nesterov of [false, true]) {
    it(`Sign-In step, 3 steps (nesterov ${nesterov})`, () => {
      tidy(() => {
        const c = state(1);
        const g = onCuda(c);
        for (const s of [c, g]) {
          s.theta.requiresGrad_(true);
          for (let step = 0; step < 3; step++) {
            s.theta.grad = s.grad.mul(step + 1);
            expect(signinStep({ theta: s.theta, m: s.m, w: s.w, mask: s.mask, bufM: s.bufM, bufW: s.bufW, lr: 0.1, momentum: 0.9, nesterov, weightDecay: 5e-4, step })).toBe(true);
          }
        }
        for (const k of ['theta', 'm', 'w', 'bufM', 'bufW'] as const) expectClose(`signinStep ${k}`, host(g[k]), host(c[k]), 1e-6);
      });
    });
  }

  it('Sign-In reset (keeping and zeroing momentum)', () => {
    tidy(() => {
      for (const zeroMomentum of [false, true]) {
        const c = state(2);
        const g = onCuda(c);
        for (const s of [c, g]) signinReset({ theta: s.theta, m: s.m, w: s.w, mask: s.mask, bufM: s.bufM, bufW: s.bufW, beta: 0.7, zeroMomentum });
        for (const k of ['theta', 'm', 'w', 'bufM', 'bufW'] as const) expectClose(`signinReset ${k}`, host(g[k]), host(c[k]), 1e-6);
      }
    });
  });

  it('masked SGD step, 3 steps, with momentum and weight decay', () => {
    tidy(() => {
      const c = state(3);
      const g = onCuda(c);
      const results = [c, g].map((s) => {
        const p = s.theta.requiresGrad_(true);
        const opt = new SGD([p], { lr: 0.05, momentum: 0.9, weightDecay: 1e-3, masks: new Map([[p, s.mask]]) });
        for (let step = 0; step < 3; step++) {
          p.grad = s.grad.mul(1 + step / 2);
          opt.step();
        }
        return host(p);
      });
      expectClose('masked SGD', results[1], results[0], 1e-6);
      const masked = host(c.mask).map((v, i) => (v === 0 ? results[1][i] : 0));
      expect(masked.every((v) => v === 0)).toBe(true);
    });
  });

  it('moves tensors between devices without changing them', () => {
    tidy(() => {
      const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3);
      const t = fromTypedArray(values, [10, 100]);
      const there = t.to({ device: 'cuda' });
      expect(there.device).toMatch(/^cuda/);
      const back = there.to({ device: 'cpu' });
      expect(back.device).toBe('cpu');
      expect(Array.from(back.data() as Float32Array)).toEqual(Array.from(values));
      expect(there.to('float64').to({ device: 'cpu' }).toArray()).toEqual(Array.from(values));
    });
  });
});
