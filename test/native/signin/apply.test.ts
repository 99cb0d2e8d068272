/**
 * applySignIn / mergeSignIn / signinParameters: the split against its closed form in float64,
 * the network function kept in train and eval mode, state-dict keys and the load rule, masked
 * entries, layer selection.
 */
import {
  MaskedLinear, SIGNIN_M_BUFFER, SIGNIN_W_BUFFER, applySignIn, keep, manualSeed, maskedLayers, memory, mergeSignIn,
  noGrad, randn, signinLayers, signinParameters, signinSplit, signinSplitFused, tensor, tidy, type Tensor,
} from '../../../src';
import { toyBatch } from '../../helpers/toy-model';
import { maskedToy, maxDiff, outsideMask, ulp32 } from './helpers';
import { signinFactors } from '../../../src/signin/parametrization';

beforeAll(() => manualSeed(7));

/** The closed form in JS float64. */
function closedForm(theta: number, beta: number): { m: number; w: number } {
  const m = Math.sqrt((beta + Math.sqrt(beta * beta + 4 * theta * theta)) / 2);
  return { m, w: theta / m };
}

const THETAS = [0, -0, 1e-30, -1e-12, 0.05, -0.05, 0.3, -1, 2.5, -17, 1e3, -1e6];

describe('the split m = sqrt((β + sqrt(β² + 4θ²))/2), w = θ/m (float64)', () => {
  for (const beta of [0.25, 1, 3]) {
    it(`β = ${beta}: m² − w² = β, m·w = θ, m > 0, matches the closed form (ATen and fused)`, () => {
      tidy(() => {
        const theta = tensor(THETAS, { dtype: 'float64' });
        for (const { m, w } of [signinSplit(theta, beta), signinSplitFused({ theta, beta })]) {
          const mv = m.toArray();
          const wv = w.toArray();
          THETAS.forEach((t, i) => {
            const ref = closedForm(t, beta);
            expect(mv[i]).toBeGreaterThan(0);
            expect(Math.abs(mv[i] - ref.m)).toBeLessThanOrEqual(2e-16 * ref.m);
            expect(Math.abs(wv[i] - ref.w)).toBeLessThanOrEqual(4e-16 * Math.abs(ref.w));
            // The invariants, relative to their natural scales.
            const scale = mv[i] * mv[i] + wv[i] * wv[i];
            expect(Math.abs(mv[i] * mv[i] - wv[i] * wv[i] - beta)).toBeLessThanOrEqual(8e-16 * scale);
            expect(Math.abs(mv[i] * wv[i] - t)).toBeLessThanOrEqual(4e-16 * Math.abs(t));
          });
        }
      });
    });
  }

  it('θ ≈ 0.05 gives m ≈ √β and w ≈ θ/√β (training starts like the plain model)', () => {
    tidy(() => {
      const { m, w } = signinSplit(tensor([0.05], { dtype: 'float64' }), 1);
      expect(m.item()).toBeCloseTo(1.00125, 5);
      expect(w.item()).toBeCloseTo(0.0499375, 6);
    });
  });

  it('rejects β ≤ 0 naming the argument', () => {
    tidy(() => {
      expect(() => signinSplit(tensor([1]), 0)).toThrow(/Expected finite number > 0 for beta but received 0 of type number/);
    });
  });
});

describe('applySignIn / mergeSignIn keep the network function', () => {
  it('outputs equal before and after, in train and eval mode, to float32 rounding; merge is bit-exact', () => {
    const model = maskedToy(1);
    const { x } = toyBatch(16, { inChannels: 1, imageSize: 8 });
    const forward = (train: boolean) => {
      model.train(train);
      return keep(noGrad(() => model.forward(x)));
    };
    forward(true).dispose(); // one train pass so the running stats are not the defaults
    const trainBefore = forward(true); // train mode updates the running stats: eval after it
    const evalBefore = forward(false);
    const thetaBefore = maskedLayers(model).map(([, l]) => keep(l.weight.clone()));

    const names = applySignIn(model);
    expect(names).toEqual(['conv1', 'conv2', 'fc']);
    const evalAfter = forward(false); // same running stats as evalBefore
    const trainAfter = forward(true); // batch statistics: compares with trainBefore
    for (const [a, b] of [[evalAfter, evalBefore], [trainAfter, trainBefore]] as const) {
      const d = maxDiff(a, b);
      expect(d.abs).toBeLessThanOrEqual(1e-5 * Math.max(1, d.scale));
    }
    // θ moved by at most a couple of float32 rounding steps.
    maskedLayers(model).forEach(([, l], i) => {
      const before = thetaBefore[i].toArray();
      const after = l.weight.toArray();
      before.forEach((v, j) => expect(Math.abs(after[j] - v)).toBeLessThanOrEqual(2 * ulp32(v)));
    });

    const thetaSignIn = maskedLayers(model).map(([, l]) => keep(l.weight.clone()));
    const evalSignIn = forward(false);
    const merged = mergeSignIn(model);
    expect(merged).toEqual(['conv1', 'conv2', 'fc']);
    maskedLayers(model).forEach(([, l], i) => {
      expect(l.parametrization).toBe('dense');
      expect(l.weight.toArray()).toEqual(thetaSignIn[i].toArray());
    });
    const evalMerged = forward(false);
    expect(evalMerged.toArray()).toEqual(evalSignIn.toArray());

    for (const t of [evalBefore, trainBefore, evalAfter, trainAfter, evalSignIn, evalMerged, ...thetaBefore, ...thetaSignIn]) t.dispose();
    x.dispose();
    model.dispose();
  });
});

describe('the Sign-In layer state', () => {
  it('θ = m·w exactly, w = 0 and θ = 0 outside the mask, m = √β there; θ stays the autograd leaf', () => {
    const model = maskedToy(2, 0.3);
    applySignIn(model, { beta: 2 });
    for (const [, l] of maskedLayers(model)) {
      const s = signinFactors(l)!;
      expect(s.beta).toBe(2);
      expect(l.weight.isLeaf).toBe(true);
      expect(l.weight.requiresGrad).toBe(true);
      expect(s.m.requiresGrad).toBe(false);
      expect(tidy(() => s.m.mul(s.w).toArray())).toEqual(l.weight.toArray());
      expect(outsideMask(l.weight, l.mask).every((v) => v === 0)).toBe(true);
      expect(outsideMask(s.w, l.mask).every((v) => v === 0)).toBe(true);
      for (const v of outsideMask(s.m, l.mask)) expect(v).toBeCloseTo(Math.SQRT2, 6);
    }
    model.dispose();
  });

  it('state dict: weight, weight_mask, weight_m, weight_w while Sign-In; weight, weight_mask after merge', () => {
    const model = maskedToy(3);
    const keysOf = () => [...model.stateDict().keys()].filter((k) => k.startsWith('fc.'));
    expect(keysOf()).toEqual(['fc.weight', 'fc.bias', 'fc.weight_mask']);
    applySignIn(model);
    expect(keysOf().sort()).toEqual(['fc.bias', 'fc.weight', 'fc.weight_m', 'fc.weight_mask', 'fc.weight_w']);
    expect(SIGNIN_M_BUFFER).toBe('weight_m');
    expect(SIGNIN_W_BUFFER).toBe('weight_w');
    mergeSignIn(model);
    expect(keysOf()).toEqual(['fc.weight', 'fc.bias', 'fc.weight_mask']);
    model.dispose();
  });

  it('loadStateDict recomputes θ from the loaded m, w and mask', () => {
    const src = maskedToy(4);
    applySignIn(src);
    // Perturb m and w (as training would), keeping the source consistent.
    noGrad(() => {
      for (const [, l] of maskedLayers(src)) {
        tidy(() => {
          signinFactors(l)!.w.mul_(1.5);
          signinFactors(l)!.w.mul_(l.mask);
          l.weight.copy_(signinFactors(l)!.m.mul(signinFactors(l)!.w));
        });
      }
    });
    const state = tidy(() => {
      const out = new Map<string, Tensor>();
      for (const [k, t] of src.stateDict()) out.set(k, keep(t.clone()));
      return out;
    });
    // A stale θ in the file: the load must not trust it.
    noGrad(() => state.get('fc.weight')!.fill_(123));

    const dst = maskedToy(5, 0.9);
    applySignIn(dst);
    dst.loadStateDict(state);
    for (const [name, l] of maskedLayers(dst)) {
      const ref = maskedLayers(src).find(([n]) => n === name)![1];
      expect(l.parametrization).toBe('signin');
      expect(signinFactors(l)!.m.toArray()).toEqual(signinFactors(ref)!.m.toArray());
      expect(l.weight.toArray()).toEqual(ref.weight.toArray());
      expect(l.mask.toArray()).toEqual(ref.mask.toArray());
    }
    for (const t of state.values()) t.dispose();
    src.dispose();
    dst.dispose();
  });

  it('signinParameters lists {name, theta, m, w, mask} for the Sign-In layers only', () => {
    const model = maskedToy(6);
    expect(signinParameters(model)).toEqual([]);
    applySignIn(model, { layers: ['conv2', 'fc'] });
    const entries = signinParameters(model);
    expect(entries.map((e) => e.name)).toEqual(['conv2.weight', 'fc.weight']);
    expect(entries[0].theta).toBe(model.conv2.weight);
    expect(entries[0].m).toBe(signinFactors(model.conv2)!.m);
    expect(entries[0].w).toBe(signinFactors(model.conv2)!.w);
    expect(entries[1].mask).toBe(model.fc.mask);
    expect(model.conv1.parametrization).toBe('dense');
    model.dispose();
  });
});

describe('layer selection and β', () => {
  it('a predicate, per-layer β, idempotence and unknown names', () => {
    const model = maskedToy(8);
    expect(applySignIn(model, { layers: (name) => name.startsWith('conv'), beta: (name) => (name === 'conv2' ? 4 : 1) })).toEqual(['conv1', 'conv2']);
    expect(signinLayers(model).map(([n]) => n)).toEqual(['conv1', 'conv2']);
    expect(signinFactors(model.conv2)!.beta).toBe(4);
    const m2 = signinFactors(model.conv2)!.m;
    applySignIn(model, { layers: ['conv2'] }); // already Sign-In: untouched
    expect(signinFactors(model.conv2)!.m).toBe(m2);
    expect(signinFactors(model.conv2)!.beta).toBe(4);
    expect(() => applySignIn(model, { layers: ['conv3'] })).toThrow(/Unknown masked layer 'conv3' \(did you mean 'conv1'\?\); valid names: conv1, conv2, fc/);
    expect(() => applySignIn(model, { beta: -1 })).toThrow(/Expected finite number > 0 for beta but received -1/);
    expect(model.fc.parametrization).toBe('dense'); // the failed calls changed nothing
    model.dispose();
  });

  it('setMask and resetParameters on a Sign-In layer keep the invariant', () => {
    tidy(() => {
      const l = new MaskedLinear(6, 4);
      applySignIn(l);
      const mask = randn([4, 6]).gt(0);
      l.setMask(mask);
      const s = signinFactors(l)!;
      expect(tidy(() => s.m.mul(s.w).toArray())).toEqual(l.weight.toArray());
      expect(outsideMask(s.w, l.mask).every((v) => v === 0)).toBe(true);
      l.resetParameters();
      expect(signinFactors(l)!.m).toBe(s.m); // in place
      expect(tidy(() => s.m.mul(s.w).toArray())).toEqual(l.weight.toArray());
      expect(outsideMask(l.weight, l.mask).every((v) => v === 0)).toBe(true);
      const mm = s.m.toArray();
      const ww = s.w.toArray();
      mm.forEach((m, i) => expect(m * m - ww[i] * ww[i]).toBeCloseTo(1, 5));
      l.dispose();
    });
  });

  it('apply + merge leak no tensors', () => {
    const model = maskedToy(9);
    const before = memory().numTensors;
    applySignIn(model);
    mergeSignIn(model);
    expect(memory().numTensors).toBe(before);
    model.dispose();
  });
});
