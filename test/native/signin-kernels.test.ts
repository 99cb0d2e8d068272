/**
 * The fused Sign-In kernels (native/signin/) against independent references: PyTorch on
 * /usr/bin/python3 building θ = mask·m·w from ordinary ops with autograd and torch.optim.SGD on m
 * and w, and the reset formula written out in Python.
 */
import { fromTypedArray, getNumThreads, setNumThreads, Tensor, tidy, unsafeCallInPlace, type DType } from '../../src';
import { SGD, type SGDOptions } from '../../src/optim/sgd';
import { fusedNative, signinReset, signinSplitFused, signinStep } from '../../src/signin/kernels';
import {
  describePytorch, expectClose, fromPy, maskArray, randnArray, runPytorch, seeded, toPy, type PyArray,
} from '../helpers/pytorch';

const SHAPE = [64, 3, 3, 3];

function mul(a: PyArray, b: PyArray): PyArray {
  return { shape: a.shape, data: a.data.map((x, i) => x * b.data[i]) };
}

function uniformArray(shape: number[], r: () => number, lo: number, hi: number): PyArray {
  const n = shape.reduce((x, y) => x * y, 1);
  return { shape, data: Float64Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r())) };
}

// ---------------------------------------------------------------------------------------------
// (c) 20 steps with resets every 5, float64: fused vs autograd through θ = mask*m*w + torch SGD

const ORACLE = `
dt = torch.float64
o = args['opt']
beta = args['beta']
mask = inp['mask']
A = inp['A']
def split(th):
    mm = torch.sqrt((beta + torch.sqrt(beta * beta + 4 * th * th)) / 2)
    return mm, th / mm
m0, w0 = split(inp['theta0'] * mask)
m = m0.clone().requires_grad_()
w = w0.clone().requires_grad_()
opt = torch.optim.SGD([m, w], lr=o['lr'], momentum=o.get('momentum', 0), dampening=o.get('dampening', 0),
                      nesterov=o.get('nesterov', False), weight_decay=o.get('weightDecay', 0))
for t in range(args['steps']):
    opt.zero_grad()
    th = mask * m * w
    loss = (0.5 * A * th * th + inp['B%d' % t] * th).sum()
    loss.backward()
    opt.step()
    if (t + 1) % args['period'] == 0:
        with torch.no_grad():
            mm, ww = split(mask * m * w)
            m.copy_(mm)
            w.copy_(ww)
            if args['zeroMomentum']:
                for p in (m, w):
                    b = opt.state[p].get('momentum_buffer') if p in opt.state else None
                    if b is not None:
                        b.zero_()
out['theta'] = mask * m * w
out['m'] = m
out['w'] = w
if o.get('momentum', 0) != 0:
    out['bm'] = opt.state[m]['momentum_buffer']
    out['bw'] = opt.state[w]['momentum_buffer']
`;

interface OracleCase {
  opt: SGDOptions;
  beta: number;
  zeroMomentum: boolean;
}

const ORACLE_CASES: [string, OracleCase][] = [
  ['momentum + weight decay', { opt: { lr: 0.05, momentum: 0.9, weightDecay: 5e-3 }, beta: 1, zeroMomentum: false }],
  ['nesterov + weight decay, beta 0.5', { opt: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }, beta: 0.5, zeroMomentum: false }],
  ['momentum + dampening', { opt: { lr: 0.08, momentum: 0.8, dampening: 0.2 }, beta: 2, zeroMomentum: false }],
  ['momentum zeroed at each reset', { opt: { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }, beta: 1, zeroMomentum: true }],
  ['plain SGD', { opt: { lr: 0.1 }, beta: 1, zeroMomentum: false }],
];

function oracleData(seed: number, steps: number): { theta0: PyArray; mask: PyArray; A: PyArray; B: PyArray[] } {
  const r = seeded(seed);
  return {
    theta0: randnArray(SHAPE, r, 0.3),
    mask: maskArray(SHAPE, r, 0.4),
    A: uniformArray(SHAPE, r, 0.5, 1.5),
    B: Array.from({ length: steps }, () => randnArray(SHAPE, r, 0.5)),
  };
}

function fusedRun(d: ReturnType<typeof oracleData>, c: OracleCase, steps: number, period: number, dtype: DType = 'float64') {
  return tidy(() => {
    const mask = fromPy(d.mask, dtype);
    const theta = fromPy(mul(d.theta0, d.mask), dtype).requiresGrad_(true);
    const A = fromPy(d.A, dtype);
    const { m, w } = signinSplitFused({ theta, mask, beta: c.beta });
    const sgd = new SGD([{ signin: [{ name: 'layer.weight', theta, m, w, mask }] }], c.opt);
    for (let t = 0; t < steps; t++) {
      tidy(() => {
        const B = fromPy(d.B[t], dtype);
        A.mul(theta).mul(theta).mul(0.5).add(B.mul(theta)).sum().backward();
      });
      sgd.step();
      sgd.zeroGrad();
      if ((t + 1) % period === 0) {
        signinReset({ theta, m, w, mask, beta: c.beta, zeroMomentum: c.zeroMomentum, bufM: sgd.entryBuffers(theta)?.m, bufW: sgd.entryBuffers(theta)?.w });
      }
    }
    const bufs = sgd.entryBuffers(theta);
    const out = {
      theta: toPy(theta), m: toPy(m), w: toPy(w),
      bm: bufs?.m ? toPy(bufs.m) : undefined, bw: bufs?.w ? toPy(bufs.w) : undefined,
    };
    sgd.dispose();
    return out;
  });
}

describePytorch('Sign-In oracle: fused step + reset vs autograd θ = mask·m·w with torch.optim.SGD (float64)', () => {
  const STEPS = 20;
  const PERIOD = 5;

  it.each(ORACLE_CASES)('%s', (_name, c) => {
    const d = oracleData(101, STEPS);
    const inputs: Record<string, PyArray> = { theta0: d.theta0, mask: d.mask, A: d.A };
    d.B.forEach((b, t) => { inputs[`B${t}`] = b; });
    const { out: ref } = runPytorch(ORACLE, inputs, { opt: c.opt, beta: c.beta, steps: STEPS, period: PERIOD, zeroMomentum: c.zeroMomentum });
    const got = fusedRun(d, c, STEPS, PERIOD);
    // The trajectory moved: the comparison is not between two copies of the start.
    expect(Math.max(...got.theta.data.map((x, i) => Math.abs(x - d.theta0.data[i] * d.mask.data[i])))).toBeGreaterThan(1e-2);
    expectClose(got.theta, ref.theta, 1e-6, 1e-12, 'theta');
    expectClose(got.w, ref.w, 1e-6, 1e-12, 'w');
    // Masked elements: plain SGD decays m there (weight decay on the unused factor), the fused step
    // leaves m = sqrt(beta); θ and w are 0 on both sides.
    expectClose(got.m, ref.m, 1e-6, 1e-12, 'm (unmasked)', d.mask.data);
    if (ref.bm) {
      expectClose(got.bm!, ref.bm, 1e-6, 1e-12, 'momentum buffer of m (unmasked)', d.mask.data);
      expectClose(got.bw!, ref.bw!, 1e-6, 1e-12, 'momentum buffer of w (unmasked)', d.mask.data);
    }
    d.mask.data.forEach((k, i) => {
      if (k !== 0) return;
      expect(got.theta.data[i] === 0 && got.w.data[i] === 0).toBe(true);
      expect(got.m.data[i]).toBe(Math.sqrt(c.beta));
      if (got.bm) expect(got.bm.data[i] === 0 && got.bw!.data[i] === 0).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// (e) one step vs PyTorch (float32), first and later steps, float and bool masks

const ONE_STEP = `
dt = torch.float32
o = args['opt']
mask = inp['mask'].to(dt)
m = inp['m'].to(dt).clone().requires_grad_()
w = inp['w'].to(dt).clone().requires_grad_()
opt = torch.optim.SGD([m, w], lr=o['lr'], momentum=o.get('momentum', 0), dampening=o.get('dampening', 0),
                      nesterov=o.get('nesterov', False), weight_decay=o.get('weightDecay', 0))
if args['later']:
    opt.state[m]['momentum_buffer'] = inp['bm'].to(dt).clone()
    opt.state[w]['momentum_buffer'] = inp['bw'].to(dt).clone()
th = mask * m * w
loss = (inp['B'].to(dt) * th).sum() + 0.5 * (th * th).sum()
loss.backward()
opt.step()
out['theta'] = mask * m * w
out['m'] = m
out['w'] = w
out['bm'] = opt.state[m]['momentum_buffer']
out['bw'] = opt.state[w]['momentum_buffer']
`;

describePytorch('one Sign-In step vs PyTorch (float32)', () => {
  const OPT: SGDOptions = { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-2 };
  const OPT_DAMP: SGDOptions = { lr: 0.1, momentum: 0.9, dampening: 0.25, weightDecay: 1e-2 };

  it.each([
    ['first step, float mask', OPT, false, false],
    ['later step (buffers in use), float mask', OPT, true, false],
    ['later step, dampening, bool mask', OPT_DAMP, true, true],
    ['first step, dampening, bool mask', OPT_DAMP, false, true],
  ] as const)('%s', (_name, opt, later, boolMask) => {
    const r = seeded(202);
    const maskA = maskArray(SHAPE, r, 0.5);
    const mA = uniformArray(SHAPE, r, 0.8, 1.3);
    // The Sign-In invariant on both sides: w and the buffers are 0 outside the mask.
    const wA = mul(randnArray(SHAPE, r, 0.2), maskA);
    const bmA = mul(randnArray(SHAPE, r, 0.1), maskA);
    const bwA = mul(randnArray(SHAPE, r, 0.1), maskA);
    const BA = randnArray(SHAPE, r);
    const { out: ref } = runPytorch(ONE_STEP, { mask: maskA, m: mA, w: wA, bm: bmA, bw: bwA, B: BA }, { opt, later });
    const got = tidy(() => {
      const mask = fromPy(maskA, boolMask ? 'bool' : 'float32');
      const m = fromPy(mA);
      const w = fromPy(wA);
      const theta = tidy(() => m.mul(w)).requiresGrad_(true);
      const bufM = later ? fromPy(bmA) : tidy(() => fromPy(bmA).mul(0));
      const bufW = later ? fromPy(bwA) : tidy(() => fromPy(bwA).mul(0));
      tidy(() => {
        const B = fromPy(BA);
        B.mul(theta).sum().add(theta.mul(theta).sum().mul(0.5)).backward();
      });
      expect(signinStep({ theta, m, w, mask, bufM, bufW, ...opt, step: later ? 3 : 0 })).toBe(true);
      return { theta: toPy(theta), m: toPy(m), w: toPy(w), bm: toPy(bufM), bw: toPy(bufW) };
    });
    expectClose(got.theta, ref.theta, 1e-5, 1e-7, 'theta');
    expectClose(got.w, ref.w, 1e-5, 1e-7, 'w');
    expectClose(got.m, ref.m, 1e-5, 1e-7, 'm (unmasked)', maskA.data);
    // PyTorch's unmasked buffers hold the decay term at masked elements; ours are exactly 0 there.
    expectClose(got.bm, ref.bm, 1e-5, 1e-7, 'bufM (unmasked)', maskA.data);
    expectClose(got.bw, ref.bw, 1e-5, 1e-7, 'bufW (unmasked)', maskA.data);
    maskA.data.forEach((k, i) => {
      if (k === 0) expect(got.bm.data[i] === 0 && got.bw.data[i] === 0 && got.theta.data[i] === 0).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// (d) the reset keeps θ and restores m² − w² = β

const RESET_REF = `
beta = args['beta']
th = inp['theta'] * inp['mask']
out['m'] = torch.sqrt((beta + torch.sqrt(beta * beta + 4 * th * th)) / 2)
out['w'] = th / out['m']
`;

describePytorch('signinReset / signinSplitFused', () => {
  it.each([[1], [0.25], [3]])('float64, beta %p: θ = m·w exactly (θ moves by a rounding step), m² − w² = β, masked elements set, formula as PyTorch', (beta) => {
    const r = seeded(303);
    const thetaA = randnArray(SHAPE, r, 0.5);
    const maskA = maskArray(SHAPE, r, 0.3);
    const bmA = randnArray(SHAPE, r);
    const { out: ref } = runPytorch(RESET_REF, { theta: thetaA, mask: maskA }, { beta });
    const got = tidy(() => {
      const theta = fromPy(thetaA, 'float64'); // masked elements not zero yet: the reset zeroes them
      const mask = fromPy(maskA, 'float64');
      const m = fromPy(randnArray(SHAPE, r), 'float64');
      const w = fromPy(randnArray(SHAPE, r), 'float64');
      const bufM = fromPy(bmA, 'float64');
      const bufW = fromPy(bmA, 'float64');
      signinReset({ theta, m, w, mask, beta, bufM, bufW });
      return { theta: toPy(theta), m: toPy(m), w: toPy(w), bm: toPy(bufM) };
    });
    thetaA.data.forEach((t, i) => {
      if (maskA.data[i] !== 0) {
        const m = got.m.data[i];
        const w = got.w.data[i];
        expect(got.theta.data[i]).toBe(m * w); // the layer invariant, bit for bit
        expect(Math.abs(got.theta.data[i] - t)).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(t));
        expect(Math.abs(m * m - w * w - beta)).toBeLessThanOrEqual(1e-12 * beta);
        expect(Math.abs(m * w - t)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(t), 1e-300));
        expect(got.bm.data[i]).toBe(bmA.data[i]); // momentum kept
      } else {
        expect(got.theta.data[i] === 0 && got.w.data[i] === 0 && got.bm.data[i] === 0).toBe(true);
        expect(got.m.data[i]).toBe(Math.sqrt(beta));
      }
    });
    expectClose(got.m, ref.m, 1e-14, 0, 'm vs PyTorch formula');
    expectClose(got.w, ref.w, 1e-14, 1e-300, 'w vs PyTorch formula');
  });

  it('float32: m² − w² = β to float precision, θ = m·w; zeroMomentum zeroes both buffers', () => {
    const r = seeded(304);
    tidy(() => {
      const thetaA = randnArray(SHAPE, r, 0.5);
      const theta = fromPy(thetaA);
      const m = fromPy(randnArray(SHAPE, r));
      const w = fromPy(randnArray(SHAPE, r));
      const bufM = fromPy(randnArray(SHAPE, r));
      const bufW = fromPy(randnArray(SHAPE, r));
      signinReset({ theta, m, w, beta: 1, zeroMomentum: true, bufM, bufW });
      expect(m.square().sub(w.square()).sub(1).abs().max().item()).toBeLessThan(1e-5);
      const [mA, wA, tA] = [toPy(m).data, toPy(w).data, toPy(theta).data];
      expect(Array.from(tA)).toEqual(Array.from(mA, (v, i) => Math.fround(v * wA[i])));
      tA.forEach((v, i) => expect(Math.abs(v - thetaA.data[i])).toBeLessThanOrEqual(4 * 2 ** -23 * Math.abs(thetaA.data[i])));
      expect(bufM.abs().sum().item() + bufW.abs().sum().item()).toBe(0);
    });
  });

  it('signinSplitFused does not write θ and matches the reset', () => {
    const r = seeded(305);
    tidy(() => {
      const thetaA = randnArray(SHAPE, r, 0.5);
      const maskA = maskArray(SHAPE, r, 0.5);
      const theta = fromPy(thetaA, 'float64');
      const mask = fromPy(maskA, 'float64');
      const { m, w } = signinSplitFused({ theta, mask, beta: 1 });
      expect(Array.from(toPy(theta).data)).toEqual(Array.from(thetaA.data));
      const m2 = fromPy(thetaA, 'float64').mul(0);
      const w2 = m2.clone();
      signinReset({ theta, m: m2, w: w2, mask, beta: 1 });
      expect(Array.from(toPy(m).data)).toEqual(Array.from(toPy(m2).data));
      expect(Array.from(toPy(w).data)).toEqual(Array.from(toPy(w2).data));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Layout and threading: the ATen fallback and parallel_for chunks agree with the fused loop

describe('Sign-In kernels: fallback path and threads', () => {
  const OPT = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 };

  function stepOnce(shape: number[], transposed: boolean, seed: number): Record<string, PyArray> {
    const r = seeded(seed);
    return tidy(() => {
      const lay = (a: PyArray): Tensor => {
        const t = fromPy(a, 'float64');
        // Same values, non-contiguous storage (2-D transpose of a transposed copy).
        return transposed ? t.t().contiguous().t() : t;
      };
      const maskA = maskArray(shape, r, 0.5);
      const mask = lay(maskA);
      const m = lay(uniformArray(shape, r, 0.8, 1.2));
      const w = lay(randnArray(shape, r, 0.3)).maskedFill_(mask.eq(0), 0);
      const theta = tidy(() => m.mul(w)).requiresGrad_(true);
      theta.grad = lay(randnArray(shape, r));
      const bufM = lay(randnArray(shape, r, 0.1)).maskedFill_(mask.eq(0), 0);
      const bufW = lay(randnArray(shape, r, 0.1)).maskedFill_(mask.eq(0), 0);
      signinStep({ theta, m, w, mask, bufM, bufW, ...OPT, step: 2 });
      signinReset({ theta, m, w, mask, beta: 1, bufM, bufW });
      return { theta: toPy(theta), m: toPy(m), w: toPy(w), bm: toPy(bufM), bw: toPy(bufW) };
    });
  }

  it('non-contiguous tensors (ATen ops) give the fused results', () => {
    const fused = stepOnce([48, 36], false, 401);
    const ops = stepOnce([48, 36], true, 401);
    for (const k of Object.keys(fused)) expectClose(ops[k], fused[k], 1e-14, 1e-15, k);
  });

  it('1 and 2 threads give identical results on 200k elements', () => {
    const before = getNumThreads();
    try {
      setNumThreads(1);
      const one = stepOnce([400, 500], false, 402);
      setNumThreads(2);
      const two = stepOnce([400, 500], false, 402);
      for (const k of Object.keys(one)) {
        const differing = one[k].data.findIndex((x, i) => !Object.is(x, two[k].data[i]));
        expect([k, differing]).toEqual([k, -1]);
      }
    } finally {
      setNumThreads(before);
    }
  });

  it('θ without a gradient is left alone (false)', () => {
    tidy(() => {
      const theta = fromPy({ shape: [3], data: Float64Array.from([1, 2, 3]) }).requiresGrad_(true);
      const m = fromPy({ shape: [3], data: Float64Array.from([1, 1, 1]) });
      expect(signinStep({ theta, m, w: theta.detach().clone(), lr: 0.1 })).toBe(false);
      expect(theta.toArray()).toEqual([1, 2, 3]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// (f) bad input: errors name the argument, carry no C++ backtrace, and change nothing

describe('Sign-In and SGD kernels: bad input', () => {
  function messageOf(fn: () => unknown): string {
    try {
      fn();
    } catch (e) {
      // Errors from the addon come from the main realm: jest's Error global is another one.
      expect(Object.prototype.toString.call(e)).toBe('[object Error]');
      const msg = (e as Error).message;
      expect(msg).not.toMatch(/Exception raised from|frame #|\.cpp:\d+/);
      return msg;
    }
    throw new Error('expected a throw');
  }

  function t(shape: number[], dtype: DType = 'float32', fill = 1): Tensor {
    const n = shape.reduce((x, y) => x * y, 1);
    return fromTypedArray(new Float64Array(n).fill(fill), shape).to(dtype);
  }

  it('signinStep names the mismatched argument', () => {
    tidy(() => {
      const theta = t([64, 3, 3, 3]).requiresGrad_(true);
      theta.grad = t([64, 3, 3, 3]);
      const m = t([64, 3, 3, 3]);
      const w = t([64, 3, 3, 3]);
      expect(messageOf(() => signinStep({ theta, m: t([64, 3, 3]), w, lr: 0.1 })))
        .toBe('Expected m with the shape of theta [64, 3, 3, 3] but received [64, 3, 3]');
      expect(messageOf(() => signinStep({ theta, m, w: t([64, 3, 3, 3], 'float64'), lr: 0.1 })))
        .toBe('Expected w with the dtype of theta (float32) but received float64');
      expect(messageOf(() => signinStep({ theta, m, w, mask: t([64, 3, 3, 3], 'int64'), lr: 0.1 })))
        .toBe('Expected mask with the dtype of theta (float32) or bool but received int64');
      expect(messageOf(() => signinStep({ theta, m, w, mask: t([3, 3]), lr: 0.1 })))
        .toBe('Expected mask with the shape of theta [64, 3, 3, 3] but received [3, 3]');
      expect(messageOf(() => signinStep({ theta, m, w, lr: 0.1, momentum: 0.9, step: 0 })))
        .toBe('Expected a Tensor for bufM but received undefined');
      expect(messageOf(() => signinStep({ theta, m, w, bufM: m.clone(), bufW: w.clone(), lr: 0.1, momentum: 0.9 })))
        .toBe('Expected the number of updates already applied (0 on the first step) for step but received undefined');
      expect(messageOf(() => signinStep({ theta, m, w, bufM: m.clone(), bufW: t([2]), lr: 0.1, momentum: 0.9, step: 0 })))
        .toBe('Expected bufW with the shape of theta [64, 3, 3, 3] but received [2]');
      expect(messageOf(() => signinStep({ theta, m, w: m, lr: 0.1 }))).toBe('Expected w not to share memory with m but it does');
      // The hyperparameters get the SGD's one check (sgdHyper), NaN and infinities included.
      expect(messageOf(() => signinStep({ theta, m, w, lr: -1 }))).toBe('Expected number >= 0 for lr but received -1 of type number');
      expect(messageOf(() => signinStep({ theta, m, w, lr: 0.1, weightDecay: Infinity }))).toBe('Expected finite number for weightDecay but received Infinity of type number');
      expect(messageOf(() => signinStep({ theta, m, w, lr: 0.1, dampening: NaN }))).toBe('Expected number for dampening but received NaN of type number');
      expect(messageOf(() => signinStep({ theta, m, w, lr: 0.1, nesterov: true })))
        .toMatch(/^Expected false unless momentum > 0 and dampening = 0 \(momentum is 0, dampening 0\) for nesterov/);
      expect(messageOf(() => signinStep({ theta: t([4], 'int64'), m: t([4], 'int64'), w: t([4], 'int64'), lr: 0.1 })))
        .toBe('Expected theta with dtype float32 or float64 but received int64');
      // A gradient that no longer fits theta (theta resized in place after the gradient was set)
      // is caught too.
      const theta2 = t([5]);
      theta2.grad = t([5]);
      unsafeCallInPlace('aten::resize_', [theta2, [4]]);
      expect(messageOf(() => signinStep({ theta: theta2, m: t([4]), w: t([4]), lr: 0.1 })))
        .toBe('Expected theta.grad with the shape of theta [4] but received [5]');
      // Nothing was written by the failed calls.
      expect(m.sum().item() + w.sum().item()).toBe(2 * 1728);
    });
  });

  it('disposed tensors are named, through the TS wrappers and the raw addon', () => {
    tidy(() => {
      const theta = t([4]).requiresGrad_(true);
      const m = t([4]);
      const w = t([4]);
      const gone = t([4]);
      const handle = gone.handle;
      gone.dispose();
      expect(messageOf(() => signinStep({ theta, m, w: gone, lr: 0.1 }))).toMatch(/^Expected a live Tensor for w but received a disposed one/);
      expect(messageOf(() => signinReset({ theta, m: gone, w }))).toMatch(/^Expected a live Tensor for m but received a disposed one/);
      expect(messageOf(() => fusedNative().signinStep({ theta: theta.handle, m: m.handle, w: handle, lr: 0.1 })))
        .toMatch(/^Expected a live Tensor for w but received a disposed one/);
      expect(messageOf(() => fusedNative().sgdStep([{ params: [handle], lr: 0.1 }])))
        .toMatch(/^Expected a live Tensor for groups\[0\]\.params\[0\] but received a disposed one/);
      const p = t([3]).requiresGrad_(true);
      const sgd = new SGD([['fc.weight', p]], { lr: 0.1 });
      p.dispose();
      expect(messageOf(() => sgd.step())).toMatch(/^Expected a live Tensor for parameter fc\.weight but received a disposed one/);
      sgd.dispose();
    });
  });

  it('signinReset and signinSplitFused validate beta and shapes', () => {
    tidy(() => {
      const theta = t([4, 2]);
      expect(messageOf(() => signinReset({ theta, m: t([4, 2]), w: t([4, 2]), beta: 0 })))
        .toBe('Expected finite number > 0 for beta but received 0 of type number');
      expect(messageOf(() => signinSplitFused({ theta, beta: Infinity })))
        .toBe('Expected finite number > 0 for beta but received Infinity of type number');
      expect(messageOf(() => signinReset({ theta, m: t([4, 2]), w: t([2, 4]) })))
        .toBe('Expected w with the shape of theta [4, 2] but received [2, 4]');
      expect(messageOf(() => signinSplitFused({ theta, mask: t([4]) })))
        .toBe('Expected mask with the shape of theta [4, 2] but received [4]');
      expect(messageOf(() => signinReset({ theta, m: t([4, 2]), w: t([4, 2]), bufM: t([4, 2], 'float64') })))
        .toBe('Expected bufM with the dtype of theta (float32) but received float64');
    });
  });

  it('sgdStep validates every group before writing anything', () => {
    tidy(() => {
      const a = t([3]).requiresGrad_(true);
      a.grad = t([3]);
      const b = t([2, 2]).requiresGrad_(true);
      b.grad = t([2, 2]);
      const raw = fusedNative();
      expect(messageOf(() => raw.sgdStep([{ params: [a.handle, b.handle], masks: [undefined, t([4]).handle], lr: 0.1 }])))
        .toBe('Expected groups[0].masks[1] with the shape of groups[0].params[1] [2, 2] but received [4]');
      expect(messageOf(() => raw.sgdStep([{ params: [a.handle, b.handle], masks: [undefined, t([4]).handle], names: ['fc.bias', 'fc.weight'], lr: 0.1 }])))
        .toBe('Expected the mask of fc.weight with the shape of parameter fc.weight [2, 2] but received [4]');
      expect(messageOf(() => raw.sgdStep([{ params: [a.handle], lr: 0.1, momentum: 0.9 }])))
        .toBe('Expected an array of 1 entries for groups[0].momentumBuffers (momentum is not 0) but received undefined');
      expect(messageOf(() => raw.sgdStep([{ params: [a.handle], lr: 0.1 }, { params: [b.handle], lr: 0.1, momentum: 0.9 }])))
        .toBe('Expected an array of 1 entries for groups[1].momentumBuffers (momentum is not 0) but received undefined');
      expect(messageOf(() => raw.sgdStep([{ params: [a.handle], lr: 0.1, signin: [{ theta: b.handle, m: t([2]).handle, w: t([2, 2]).handle }] }])))
        .toBe('Expected groups[0].signin[0].m with the shape of groups[0].signin[0].theta [2, 2] but received [2]');
      // The valid first group was not applied when a later part failed.
      expect(a.toArray()).toEqual([1, 1, 1]);
    });
  });
});
