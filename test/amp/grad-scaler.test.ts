/**
 * GradScaler against torch.cuda.amp.GradScaler's documented rule (closed form): the scale is
 * multiplied by backoffFactor after a step with an inf/NaN gradient, and by growthFactor after
 * growthInterval consecutive finite steps; unscaling divides each gradient by the scale.
 */
import { GradScaler, fromTypedArray, tidy, type Tensor } from '../../src';

function param(values: number[]): Tensor {
  return fromTypedArray(new Float32Array(values), [values.length]).requiresGrad_(true);
}

/** Backward of sum(w * c) · scale: the gradient of w is c · scale. */
function scaledBackward(scaler: GradScaler, w: Tensor, c: number[]): void {
  tidy(() => scaler.scale(w.mul(fromTypedArray(new Float32Array(c), [c.length])).sum()).backward());
}

class CountingOptimizer {
  steps = 0;
  step(): void {
    this.steps++;
  }
}

describe('GradScaler', () => {
  it('follows the growth/backoff rule over a sequence of steps', () => {
    const scaler = new GradScaler({ initScale: 8, growthFactor: 2, backoffFactor: 0.5, growthInterval: 3 });
    const opt = new CountingOptimizer();
    const w = param([1, 2]);
    // Per step: whether its gradient holds an inf, and the scale after update(). Three finite steps
    // in a row double the scale; an inf step halves it and restarts the count.
    const plan: [boolean, number][] = [
      [false, 8], [false, 8], [false, 16], [false, 16], [true, 8], [false, 8], [false, 8], [false, 16], [true, 8], [true, 4],
    ];
    let expectedSteps = 0;
    for (const [inf, after] of plan) {
      w.grad = undefined;
      scaledBackward(scaler, w, [inf ? Infinity : 3, -5]);
      const stepped = scaler.step(opt, [w]);
      expect(stepped).toBe(!inf);
      if (!inf) {
        expectedSteps++;
        expect(w.grad!.toArray()).toEqual([3, -5]);
      }
      scaler.update();
      expect(scaler.getScale()).toBe(after);
    }
    expect(opt.steps).toBe(expectedSteps);
    expect(scaler.stateDict()).toEqual({ scale: 4, growthFactor: 2, backoffFactor: 0.5, growthInterval: 3, growthTracker: 0 });
  });

  it('detects NaN as well as inf, in any parameter', () => {
    const scaler = new GradScaler({ initScale: 4 });
    const a = param([1]);
    const b = param([1, 1]);
    scaledBackward(scaler, a, [1]);
    scaledBackward(scaler, b, [NaN, 2]);
    expect(scaler.unscale([a, b])).toBe(true);
    const opt = new CountingOptimizer();
    expect(scaler.step(opt, [a, b])).toBe(false);
    expect(opt.steps).toBe(0);
    scaler.update();
    expect(scaler.getScale()).toBe(2);
  });

  it('does not grow the scale past float32 range', () => {
    const big = 2 ** 127;
    const scaler = new GradScaler({ initScale: big, growthInterval: 1 });
    const w = param([1]);
    scaledBackward(scaler, w, [1]);
    expect(scaler.step(new CountingOptimizer(), [w])).toBe(true);
    scaler.update();
    expect(scaler.getScale()).toBe(big);
  });

  it('unscales with the float32 reciprocal of the scale', () => {
    const scaler = new GradScaler({ initScale: 3 });
    const w = param([1]);
    scaledBackward(scaler, w, [1]);
    scaler.unscale([w]);
    // grad = fround(1 * 3) · fround(1 / 3), rounded to float32.
    expect(w.grad!.data()[0]).toBe(Math.fround(3 * Math.fround(1 / 3)));
  });

  it('is a pass-through when disabled', () => {
    const scaler = new GradScaler({ enabled: false, initScale: 1024 });
    const w = param([2]);
    scaledBackward(scaler, w, [Infinity]);
    const opt = new CountingOptimizer();
    expect(scaler.getScale()).toBe(1);
    expect(scaler.step(opt, [w])).toBe(true);
    scaler.update();
    expect(opt.steps).toBe(1);
  });

  it('round-trips its state, factors and interval included', () => {
    const a = new GradScaler({ initScale: 16, growthFactor: 4, backoffFactor: 0.25, growthInterval: 5 });
    const w = param([1]);
    scaledBackward(a, w, [1]);
    a.step(new CountingOptimizer(), [w]);
    a.update();
    const b = new GradScaler();
    b.loadStateDict(a.stateDict());
    expect(b.stateDict()).toEqual({ scale: 16, growthFactor: 4, backoffFactor: 0.25, growthInterval: 5, growthTracker: 1 });
    expect([b.growthFactor, b.backoffFactor, b.growthInterval]).toEqual([4, 0.25, 5]);
  });

  it('saves {} when disabled, ignores a state then, and refuses {} when enabled', () => {
    const off = new GradScaler({ enabled: false });
    expect(off.stateDict()).toEqual({});
    off.loadStateDict({ scale: 8, growthFactor: 2, backoffFactor: 0.5, growthInterval: 10, growthTracker: 3 });
    expect(off.getScale()).toBe(1);
    expect(() => new GradScaler().loadStateDict({})).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_ARG', message: expect.stringMatching(/Expected the stateDict\(\) of an enabled GradScaler .* for GradScaler state/),
    }));
  });

  it.each([
    [{ scale: 1e-50 }, /Expected a number that is positive and finite in float32 for scale but received 1e-50/],
    [{ scale: 3.5e38 }, /for scale but received 3\.5e\+38/],
    [{ growthFactor: 0.5 }, /Expected a finite number > 1 for growthFactor/],
    [{ growthInterval: 0 }, /Expected positive integer for growthInterval/],
    [{ growthTracker: 10 }, /Expected integer in \[0, 9\] for growthTracker but received 10/],
  ])('refuses a state with %p', (bad, message) => {
    const scaler = new GradScaler({ initScale: 4 });
    const state = { scale: 8, growthFactor: 2, backoffFactor: 0.5, growthInterval: 10, growthTracker: 3, ...bad };
    expect(() => scaler.loadStateDict(state)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(message) }));
    expect(scaler.stateDict()).toEqual({ scale: 4, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 0 });
  });

  it.each([
    [{ initScale: 0 }, /Expected a number that is positive and finite in float32 for initScale but received 0 of type number/],
    [{ initScale: -1 }, /for initScale but received -1/],
    // Positive as a double, 0 in float32: every gradient would be unscaled to inf or NaN.
    [{ initScale: 1e-50 }, /Expected a number that is positive and finite in float32 for initScale but received 1e-50/],
    [{ initScale: 3.5e38 }, /for initScale but received 3\.5e\+38/],
    [{ initScale: Infinity }, /initScale/],
    [{ growthFactor: 1 }, /Expected a finite number > 1 for growthFactor/],
    [{ backoffFactor: 1 }, /Expected a number in \(0, 1\) for backoffFactor/],
    [{ growthInterval: 0.5 }, /Expected positive integer for growthInterval/],
    [{ enabled: 'yes' }, /Expected boolean for enabled/],
  ])('rejects %p', (opts, message) => {
    expect(() => new GradScaler(opts as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(message) }));
  });

  it('accepts float32\'s largest finite value as a scale', () => {
    expect(new GradScaler({ initScale: 3.4028234663852886e38 }).getScale()).toBe(3.4028234663852886e38);
  });

  it('refuses update() before the step and a second unscale()', () => {
    const scaler = new GradScaler();
    expect(() => scaler.update()).toThrow(/update\(\)/);
    const w = param([1]);
    scaledBackward(scaler, w, [1]);
    scaler.unscale([w]);
    expect(() => scaler.unscale([w])).toThrow(/one call per step/);
  });

  it('refuses a second step() and an unscale() after step() until update(), as PyTorch', () => {
    const scaler = new GradScaler({ initScale: 4 });
    const opt = new CountingOptimizer();
    const w = param([1]);
    scaledBackward(scaler, w, [1]);
    expect(scaler.step(opt, [w])).toBe(true);
    expect(() => scaler.step(opt, [w])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/Expected one call per step \(then update\(\)\) for step\(\) but received 'a second call'/) }));
    expect(() => scaler.unscale([w])).toThrow(expect.objectContaining({ message: expect.stringMatching(/for unscale\(\) but received 'a call after step\(\)'/) }));
    expect(opt.steps).toBe(1);
    scaler.update();
    w.grad = undefined;
    scaledBackward(scaler, w, [1]);
    expect(scaler.step(opt, [w])).toBe(true);
    expect(opt.steps).toBe(2);
  });
});
