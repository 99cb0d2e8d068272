/** SignTracker against a hand-computed example. */
import {
  MaskedLinear, Sequential, SignTracker, applySignIn, memory, noGrad, tensor, tidy, type Tensor,
} from '../../../src';
import { signinFactors } from '../../../src/signin/parametrization';

function set(t: Tensor, values: number[][]): void {
  noGrad(() => tidy(() => {
    t.copy_(tensor(values));
  }));
}

/**
 * Layer '0': 3×2, mask [[1,1],[1,0],[1,1]] (5 unmasked). Layer '1': 4×1, all unmasked, Sign-In.
 *   init   '0' [[ 1,-2],[3, .5],[-1,4]]   '1' [ .5, -.5,  .1,  0]
 *   epoch1 '0' [[-1,-2],[3, -7],[ 1,4]]   '1' [ .5,  .5,  .1,  0]
 *   epoch2 '0' [[-1, 2],[3, -7],[ 1,4]]   '1' [ .5,  .5, -.1, .2]
 * (the masked entry of '0' is set to -7 on purpose: it must not count).
 * Flips vs init:  '0' e1 {(0,0),(2,0)} = 2/5, e2 + (0,1) = 3/5;  '1' e1 {1} = 1/4, e2 {1,2,3} = 3/4
 *   (a 0 at init that becomes 0.2 counts: sign 0 → +1).
 * Flips vs prev:  '0' e1 2/5, e2 {(0,1)} = 1/5;  '1' e1 1/4, e2 {2,3} = 2/4.
 * Overall (weighted by 5 and 4 unmasked): e1 fromInit 3/9, fromPrev 3/9; e2 fromInit 6/9, fromPrev 3/9.
 * β of '1' with m = [2,1,1,1], w = [.25,-.5,.1,0]: m² − w² = [3.9375, .75, .99, 1], mean 1.669375.
 */
function build() {
  const a = new MaskedLinear(2, 3, { bias: false });
  const b = new MaskedLinear(1, 4, { bias: false });
  const model = new Sequential(a, b);
  a.setMask(tensor([[1, 1], [1, 0], [1, 1]]));
  set(a.weight, [[1, -2], [3, 0.5], [-1, 4]]);
  applySignIn(model, { layers: ['1'] });
  set(signinFactors(b)!.m, [[2], [1], [1], [1]]);
  set(signinFactors(b)!.w, [[0.25], [-0.5], [0.1], [0]]);
  set(b.weight, [[0.5], [-0.5], [0.1], [0]]);
  return { model, a, b };
}

describe('SignTracker', () => {
  it('matches the hand-computed fractions per layer and overall, and the mean β', () => {
    const { model, a, b } = build();
    const tracker = new SignTracker(model);
    expect(tracker.layerNames).toEqual(['0', '1']);

    set(a.weight, [[-1, -2], [3, -7], [1, 4]]);
    set(b.weight, [[0.5], [0.5], [0.1], [0]]);
    const e1 = tracker.update();
    expect(e1.perLayer['0']).toEqual({ fromInit: 2 / 5, fromPrev: 2 / 5, unmasked: 5 });
    expect(e1.perLayer['1'].fromInit).toBeCloseTo(1 / 4, 12);
    expect(e1.perLayer['1'].fromPrev).toBeCloseTo(1 / 4, 12);
    expect(e1.perLayer['1'].unmasked).toBe(4);
    expect(e1.perLayer['1'].meanBeta).toBeCloseTo(1.669375, 6);
    expect(e1.perLayer['0'].meanBeta).toBeUndefined();
    expect(e1.overall.fromInit).toBeCloseTo(3 / 9, 12);
    expect(e1.overall.fromPrev).toBeCloseTo(3 / 9, 12);
    expect(e1.overall.unmasked).toBe(9);

    set(a.weight, [[-1, 2], [3, -7], [1, 4]]);
    set(b.weight, [[0.5], [0.5], [-0.1], [0.2]]);
    const e2 = tracker.update();
    expect(e2.perLayer['0'].fromInit).toBeCloseTo(3 / 5, 12);
    expect(e2.perLayer['0'].fromPrev).toBeCloseTo(1 / 5, 12);
    expect(e2.perLayer['1'].fromInit).toBeCloseTo(3 / 4, 12);
    expect(e2.perLayer['1'].fromPrev).toBeCloseTo(2 / 4, 12);
    expect(e2.overall.fromInit).toBeCloseTo(6 / 9, 12);
    expect(e2.overall.fromPrev).toBeCloseTo(3 / 9, 12);
    // Plain data for metrics.jsonl.
    expect(JSON.parse(JSON.stringify(e2))).toEqual(e2);

    // No change since the last update: nothing flipped from prev.
    const e3 = tracker.update();
    expect(e3.overall.fromPrev).toBe(0);
    expect(e3.overall.fromInit).toBeCloseTo(6 / 9, 12);
    tracker.dispose();
    model.dispose();
  });

  it('as a trainer callback: adds signFlips to the epoch metrics; state round-trips; no leaks', () => {
    const { model, a } = build();
    const before = memory().numTensors;
    const tracker = new SignTracker(model, { layers: ['0'] });
    set(a.weight, [[-1, -2], [3, -7], [1, 4]]);
    const metrics: Record<string, unknown> = {};
    tracker.onEpochEnd({}, metrics);
    expect(metrics.signFlips).toEqual({ overall: { fromInit: 0.4, fromPrev: 0.4, unmasked: 5 }, perLayer: { 0: { fromInit: 0.4, fromPrev: 0.4, unmasked: 5 } } });

    const restored = new SignTracker(model, { layers: ['0'] }); // snapshots the current signs
    restored.setState(tracker.getState());
    set(a.weight, [[-1, 2], [3, -7], [1, 4]]);
    expect(restored.update().perLayer['0']).toEqual(tracker.update().perLayer['0']);
    tracker.dispose();
    restored.dispose();
    tracker.dispose(); // idempotent
    expect(memory().numTensors).toBe(before);
    model.dispose();
  });
});
