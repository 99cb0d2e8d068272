/**
 * Regression tests for issue 10's reproducers in the native layer and the tensor entry points:
 * each used to crash the process, read freed memory or pass bad input silently. Expected values
 * come from closed forms computed here in float64, not from the toolkit's own output.
 */
import * as os from 'node:os';
import * as api from '../../src';
import {
  fromTypedArray, Generator, manualSeed, ones, randn, setNumThreads, SGD, Tensor, tensor, tidy, unsafeCall, zeros, zerosLike,
} from '../../src';
import { parseConfig } from '../../src/experiments/schema';
import { native } from '../../src/native';
import { signinReset, signinStep } from '../../src/signin/kernels';
import { errorOf } from '../helpers/error-of';

const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
const values = (t: Tensor) => Array.from(t.data() as Float64Array);
const f64 = (xs: number[], shape = [xs.length]) => fromTypedArray(Float64Array.from(xs), shape);

// Sign-In split in float64: m = sqrt((beta + sqrt(beta^2 + 4 theta^2)) / 2), w = theta / m.
function split(theta: number[], beta: number): { m: number[]; w: number[] } {
  const m = theta.map((x) => Math.sqrt((beta + Math.sqrt(beta * beta + 4 * x * x)) / 2));
  return { m, w: theta.map((x, i) => x / m[i]) };
}

describe('signinReset checks every buffer it writes', () => {
  const theta = [0.5, -1.25, 2, 0, -0.1, 3];

  it('bufM alone (used to segfault) re-splits and zeroes bufM', () => {
    tidy(() => {
      const th = f64(theta);
      const m = zerosLike(th);
      const w = zerosLike(th);
      const bufM = f64([1, 2, 3, 4, 5, 6]);
      signinReset({ theta: th, m, w, bufM, beta: 1, zeroMomentum: true });
      const ref = split(theta, 1);
      values(m).forEach((v, i) => expect(v).toBeCloseTo(ref.m[i], 12));
      values(w).forEach((v, i) => expect(v).toBeCloseTo(ref.w[i], 12));
      expect(values(bufM)).toEqual([0, 0, 0, 0, 0, 0]);
    });
  });

  it('bufW alone with zeroMomentum is zeroed (used to be left as it was)', () => {
    tidy(() => {
      const th = f64(theta);
      const bufW = f64([1, 2, 3, 4, 5, 6]);
      signinReset({ theta: th, m: zerosLike(th), w: zerosLike(th), bufW, beta: 2, zeroMomentum: true });
      expect(values(bufW)).toEqual([0, 0, 0, 0, 0, 0]);
    });
  });

  it('bufW alone with a mask keeps kept elements and zeroes dropped ones', () => {
    tidy(() => {
      const th = f64(theta);
      const mask = f64([1, 0, 1, 0, 1, 1]);
      const bufW = f64([1, 2, 3, 4, 5, 6]);
      signinReset({ theta: th, m: zerosLike(th), w: zerosLike(th), mask, bufW, beta: 1 });
      expect(values(bufW)).toEqual([1, 0, 3, 0, 5, 6]);
    });
  });

  it('the raw addon: bufM alone on float32 no longer crashes', () => {
    tidy(() => {
      const t = () => randn([2, 3]);
      const bufM = randn([2, 3]);
      (native().signinReset as (args: object) => void)({ theta: t().handle, m: t().handle, w: t().handle, bufM: bufM.handle, zeroMomentum: true });
      expect(bufM.abs().sum().item()).toBe(0);
    });
  });
});

describe('signinStep validates every tensor before writing any', () => {
  it('a stride-0 w is refused and m is left unchanged', () => {
    tidy(() => {
      const theta = f64([1, 2, 3]).requiresGrad_(true);
      theta.grad = f64([0.5, 0.5, 0.5]);
      const m = f64([1, 1, 1]);
      const w = f64([2]).expand([3]);
      expect(errorOf(() => signinStep({ theta, m, w, lr: 0.1 }))).toMatchObject({
        code: 'ERR_INVALID_ARG', message: expect.stringMatching(/^Expected w whose elements do not share memory .* strides \[0\]$/),
      });
      expect(values(m)).toEqual([1, 1, 1]);
    });
  });
});

describe('zero-copy tensors cannot outlive or be resized under their buffer', () => {
  it('a resizable ArrayBuffer is copied: resize(0) leaves the tensor intact', () => {
    tidy(() => {
      const buf = new Resizable(24, { maxByteLength: 48 });
      const a = new Float32Array(buf);
      a.set([1, 2, 3, 4, 5, 6]);
      const t = fromTypedArray(a, [2, 3], { copy: false });
      (buf as unknown as { resize(n: number): void }).resize(0);
      expect(t.sum().item()).toBe(21);
    });
  });

  it('a plain ArrayBuffer is shared and pinned: a transfer copies it instead of freeing it', () => {
    tidy(() => {
      const a = new Float32Array([1, 2, 3, 4]);
      const t = fromTypedArray(a, [4], { copy: false });
      const moved = structuredClone(a.buffer, { transfer: [a.buffer] });
      expect(a.buffer.byteLength).toBe(16);
      expect(moved.byteLength).toBe(16);
      a[0] = 10;
      expect(t.sum().item()).toBe(19);
    });
  });

  it('a shape whose element count overflows int64 is refused', () => {
    expect(errorOf(() => native().fromTypedArray(new Float32Array(0), [2 ** 53 - 1, 2 ** 11 + 1, 0], false))).toMatchObject({
      code: 'ERR_INVALID_ARG', message: expect.stringContaining('overflows int64'),
    });
  });
});

describe('sizes and counts are bounded before anything is allocated', () => {
  it('data() of a tensor longer than any TypedArray throws instead of aborting V8', () => {
    tidy(() => {
      const big = zeros([1], { dtype: 'uint8' }).expand([2 ** 32]);
      expect(errorOf(() => big.data())).toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('4294967295 elements') });
    });
  });

  it('a sparse array of length 2^32-1 is refused without allocating', () => {
    expect(errorOf(() => zeros(new Array(2 ** 32 - 1)))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    const N = native();
    expect(errorOf(() => N.callOp(N.opHandle('aten::zeros', ''), [new Array(2 ** 32 - 1)]))).toMatchObject({
      code: 'ERR_INVALID_ARG', message: "Expected an integer for 'size' of aten::zeros[0] but received undefined",
    });
  });

  it('setNumThreads is bounded by twice the logical CPUs, and 2^32+1 is refused, not wrapped', () => {
    const max = 2 * os.availableParallelism();
    const before = api.getNumThreads();
    for (const n of [0, max + 1, 2 ** 31 - 1, 2 ** 32 + 1, 1.5]) {
      expect(errorOf(() => setNumThreads(n))).toMatchObject({
        code: 'ERR_INVALID_ARG', message: expect.stringContaining(`integer in [1, ${max}] (twice this machine's ${os.availableParallelism()} logical CPUs)`),
      });
    }
    expect(errorOf(() => native().setNumThreads(2 ** 32 + 1))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(api.getNumThreads()).toBe(before);
  });

  it('config threads and dataset.workers are bounded the same way', () => {
    const max = 2 * os.availableParallelism();
    const base = { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 };
    expect(errorOf(() => parseConfig({ ...base, threads: 100000 })).message).toContain(`threads: Expected at most ${max} (twice this machine's`);
    expect(errorOf(() => parseConfig({ ...base, dataset: { name: 'mnist', workers: 1000000 } })).message).toContain(`dataset.workers: Expected at most ${max}`);
    expect(parseConfig({ ...base, threads: max }).threads).toBe(max);
  });
});

describe('bad input is refused where it is given', () => {
  it('ragged nested arrays are refused', () => {
    expect(errorOf(() => tensor([1, [2]] as never))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(errorOf(() => tensor([[1], 2] as never))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(errorOf(() => tensor([[1, 2], [3]]))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    tidy(() => expect(tensor([[1, 2], [3, 4]]).shape).toEqual([2, 2]));
  });

  it('an unknown dtype is reported as a dtype, not a device', () => {
    expect(errorOf(() => tensor([1, 2], { dtype: 'foo' as never }))).toMatchObject({
      code: 'ERR_INVALID_ARG', message: expect.stringMatching(/^Expected one of 'float32', .* for dtype but received 'foo'/),
    });
    tidy(() => expect(errorOf(() => ones([2]).to('foo' as never)).message).toMatch(/^Expected a dtype \(float32, .*\) or a device/));
  });

  it('setGrad checks shape, dtype and device', () => {
    tidy(() => {
      const x = randn([2, 3]);
      expect(errorOf(() => { x.grad = randn([3, 2]); })).toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('shape [2, 3], dtype float32') });
      expect(errorOf(() => { x.grad = randn([2, 3]).double(); })).toMatchObject({ code: 'ERR_INVALID_ARG' });
      expect(errorOf(() => { x.grad = 5 as never; })).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'Expected Tensor for grad but received 5 of type number' });
      x.grad = ones([2, 3]);
      expect(x.grad!.sum().item()).toBe(6);
    });
  });

  it('seeds must be non-negative safe integers', () => {
    for (const s of [-1, 1.5, 2 ** 53, NaN]) {
      expect(errorOf(() => new Generator(s))).toMatchObject({ code: 'ERR_INVALID_ARG' });
      expect(errorOf(() => manualSeed(s))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    }
    expect(errorOf(() => new (native().Generator)(-1))).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'Expected a non-negative integer for seed but received -1' });
    expect(new Generator(2 ** 53 - 1).initialSeed()).toBe(2 ** 53 - 1);
  });

  it('an unknown SGD option (typo lrr) is refused, naming the valid ones', () => {
    tidy(() => {
      const p = randn([2]);
      expect(errorOf(() => new SGD([p], { lr: 0.1, lrr: 0.2 } as never))).toMatchObject({
        code: 'ERR_INVALID_ARG', message: "Unknown option 'lrr' in options; valid options: lr, momentum, dampening, nesterov, weightDecay, masks",
      });
      expect(errorOf(() => new SGD([{ params: [p], momentun: 0.9 }] as never, { lr: 0.1 })).message).toBe(
        "Unknown option 'momentun' in params[0]; valid options: params, signin, lr, momentum, dampening, nesterov, weightDecay",
      );
    });
  });
});

describe('the raw operator call is not a public door', () => {
  it('is exported only as unsafeCall / unsafeCallInPlace', () => {
    expect((api as Record<string, unknown>).call).toBeUndefined();
    expect((api as Record<string, unknown>).callInPlace).toBeUndefined();
    tidy(() => expect(unsafeCall<Tensor>('aten::mul.Scalar', [ones([2]), 3]).sum().item()).toBe(6));
  });
});
