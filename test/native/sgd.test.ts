/**
 * The fused mask-aware SGD (native/optim/sgd.cc through src/optim/sgd.ts) against
 * torch.optim.SGD run by /usr/bin/python3 on the same libtorch.
 */
import { getNumThreads, memory, setNumThreads, Tensor, tidy, type DType } from '../../src';
import { Module } from '../../src/nn/module';
import { MaskedLinear } from '../../src/nn/masked';
import { applySignIn } from '../../src/signin/apply';
import { isNormOrBias, SGD, type SGDOptions } from '../../src/optim/sgd';
import {
  describePytorch, expectClose, fromPy, maskArray, randnArray, runPytorch, seeded, toPy, type PyArray,
} from '../helpers/pytorch';
import { signinFactors } from '../../src/signin/parametrization';

const SGD_REFERENCE = `
dt = getattr(torch, args['dtype'])
params = []
for i in range(args['n']):
    p = inp['p%d' % i].to(dt)
    if ('m%d' % i) in inp:
        p = p * inp['m%d' % i].to(dt)   # the unmasked SGD on param*mask
    params.append(p.clone().requires_grad_())
o = args['opt']
opt = torch.optim.SGD(params, lr=o['lr'], momentum=o.get('momentum', 0), dampening=o.get('dampening', 0),
                      nesterov=o.get('nesterov', False), weight_decay=o.get('weightDecay', 0))
for s in range(args['steps']):
    for i, p in enumerate(params):
        k = 'g%d_%d' % (i, s)
        p.grad = inp[k].to(dt).clone() if k in inp else None
    opt.step()
for i, p in enumerate(params):
    out['p%d' % i] = p
    b = opt.state[p].get('momentum_buffer') if p in opt.state else None
    if b is not None:
        out['b%d' % i] = b
`;

interface Problem {
  params: PyArray[];
  /** grads[step][param]; undefined: no gradient at that step. */
  grads: (PyArray | undefined)[][];
  masks?: PyArray[];
}

const SHAPES = [[16, 3, 3, 3], [40000], [7]];

function problem(seed: number, steps: number, withMasks: boolean, skipFirst = true): Problem {
  const r = seeded(seed);
  const params = SHAPES.map((s) => randnArray(s, r, 0.5));
  const grads = Array.from({ length: steps }, (_, step) =>
    SHAPES.map((s, i) => (skipFirst && i === 2 && step === 0 ? undefined : randnArray(s, r))));
  const masks = withMasks ? SHAPES.map((s) => maskArray(s, r, 0.3)) : undefined;
  return { params, grads, masks };
}

function reference(p: Problem, opt: SGDOptions, dtype: DType): PyArray[][] {
  const inputs: Record<string, PyArray> = {};
  p.params.forEach((a, i) => { inputs[`p${i}`] = a; });
  p.masks?.forEach((a, i) => { inputs[`m${i}`] = a; });
  p.grads.forEach((gs, s) => gs.forEach((g, i) => { if (g) inputs[`g${i}_${s}`] = g; }));
  const { out } = runPytorch(SGD_REFERENCE, inputs, { n: p.params.length, steps: p.grads.length, opt, dtype });
  return [p.params.map((_, i) => out[`p${i}`]), p.params.map((_, i) => out[`b${i}`])];
}

interface Ours {
  params: PyArray[];
  bufs: (PyArray | undefined)[];
  grads: (PyArray | undefined)[];
}

function ours(p: Problem, opt: SGDOptions, dtype: DType, opts: { boolMask?: boolean; transposed?: boolean } = {}): Ours {
  const params = p.params.map((a) => {
    if (!opts.transposed || a.shape.length !== 4) return fromPy(a, dtype).requiresGrad_(true);
    // A non-contiguous leaf (the ATen fallback path): the same values, stored transposed.
    const flat = fromPy({ shape: [a.shape[0], a.data.length / a.shape[0]], data: a.data }, dtype);
    const t = tidy(() => flat.t().contiguous().t().reshape(a.shape));
    flat.dispose();
    return t.requiresGrad_(true);
  });
  const masks = p.masks?.map((a) => fromPy(a, opts.boolMask ? 'bool' : dtype));
  const sgd = new SGD(params.map((t, i) => [`p${i}`, t] as [string, Tensor]), {
    ...opt, masks: masks ? new Map(params.map((t, i) => [t, masks[i]] as [Tensor, Tensor])) : undefined,
  });
  for (const gs of p.grads) {
    gs.forEach((g, i) => {
      if (g) {
        const t = fromPy(g, dtype);
        params[i].grad = t;
        t.dispose();
      } else {
        params[i].grad = undefined;
      }
    });
    sgd.step();
  }
  const result: Ours = {
    params: params.map(toPy),
    bufs: params.map((t) => { const b = sgd.momentumBuffer(t); return b ? toPy(b) : undefined; }),
    grads: params.map((t) => tidy(() => { const g = t.grad; return g ? toPy(g) : undefined; })),
  };
  sgd.dispose();
  params.forEach((t) => t.dispose());
  masks?.forEach((t) => t.dispose());
  return result;
}

const CONFIGS: [string, SGDOptions][] = [
  ['plain', { lr: 0.1 }],
  ['momentum', { lr: 0.05, momentum: 0.9 }],
  ['momentum + dampening', { lr: 0.05, momentum: 0.9, dampening: 0.3 }],
  ['nesterov', { lr: 0.05, momentum: 0.9, nesterov: true }],
  ['weight decay', { lr: 0.1, weightDecay: 0.01 }],
  ['all', { lr: 0.02, momentum: 0.8, nesterov: true, weightDecay: 5e-4 }],
  ['momentum + dampening + decay', { lr: 0.03, momentum: 0.5, dampening: 0.5, weightDecay: 1e-3 }],
];

describePytorch('fused SGD vs torch.optim.SGD (5 steps)', () => {
  it.each(CONFIGS)('float32, %s', (_name, opt) => {
    const p = problem(11, 5, false);
    const [refP, refB] = reference(p, opt, 'float32');
    const got = ours(p, opt, 'float32');
    got.params.forEach((a, i) => expectClose(a, refP[i], 1e-5, 1e-6, `param ${i}`));
    refB.forEach((b, i) => {
      if (b) expectClose(got.bufs[i]!, b, 1e-5, 1e-6, `momentum buffer ${i}`);
    });
  });

  it('float64 agrees to 1e-12', () => {
    const opt = CONFIGS[5][1];
    const p = problem(12, 5, false);
    const [refP, refB] = reference(p, opt, 'float64');
    const got = ours(p, opt, 'float64');
    got.params.forEach((a, i) => expectClose(a, refP[i], 1e-12, 1e-14, `param ${i}`));
    refB.forEach((b, i) => expectClose(got.bufs[i]!, b!, 1e-12, 1e-14, `buffer ${i}`));
  });
});

describePytorch('masked SGD', () => {
  const opt: SGDOptions = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2 };

  function checkMasked(got: Ours, p: Problem, refP: PyArray[], refB: PyArray[], tol: number): void {
    p.masks!.forEach((mask, i) => {
      for (let j = 0; j < mask.data.length; j++) {
        if (mask.data[j] !== 0) continue;
        // Exactly zero (=== also accepts -0; the kernel writes +0 but the check is on value).
        expect(got.params[i].data[j] === 0 && got.grads[i]!.data[j] === 0 && got.bufs[i]!.data[j] === 0).toBe(true);
      }
      expectClose(got.params[i], refP[i], tol, tol / 10, `param ${i} (unmasked)`, mask.data);
      expectClose(got.bufs[i]!, refB[i], tol, tol / 10, `buffer ${i} (unmasked)`, mask.data);
    });
  }

  it.each([['float32 mask', false], ['bool mask', true]] as const)('%s: masked entries exactly 0, unmasked equal PyTorch on param*mask', (_n, boolMask) => {
    const p = problem(21, 5, true, false);
    const [refP, refB] = reference(p, opt, 'float32');
    checkMasked(ours(p, opt, 'float32', { boolMask }), p, refP, refB, 1e-5);
  });

  it('the ATen fallback (non-contiguous parameter) gives the same results', () => {
    const p = problem(22, 5, true, false);
    const [refP, refB] = reference(p, opt, 'float64');
    checkMasked(ours(p, opt, 'float64', { transposed: true }), p, refP, refB, 1e-12);
  });
});

describe('fused SGD (own checks)', () => {
  it('gives identical results on 1 and 2 threads (parallel_for chunks)', () => {
    const before = getNumThreads();
    try {
      const p = problem(31, 3, true);
      const opt = { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 };
      setNumThreads(1);
      const one = ours(p, opt, 'float32');
      setNumThreads(2);
      const two = ours(p, opt, 'float32');
      one.params.forEach((a, i) => expect(Array.from(two.params[i].data)).toEqual(Array.from(a.data)));
    } finally {
      setNumThreads(before);
    }
  });

  it('validates options with messages naming the option', () => {
    const p = fromPy({ shape: [2], data: Float64Array.from([1, 2]) }).requiresGrad_(true);
    try {
      expect(() => new SGD([p], { lr: -1 })).toThrow('Expected number >= 0 for lr but received -1 of type number');
      expect(() => new SGD(5 as never, { lr: 0.1 })).toThrow('Expected iterable of tensors, [name, tensor] pairs or parameter groups for params but received 5 of type number');
      expect(() => new SGD([p], { lr: 0.1, momentum: -0.5 })).toThrow('for momentum but received -0.5 of type number');
      expect(() => new SGD([p], { lr: 0.1, weightDecay: -1 })).toThrow('for weightDecay but received -1');
      expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/Expected false unless momentum > 0 and dampening = 0.*for nesterov but received true of type boolean/);
      expect(() => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow('for nesterov');
      expect(() => new SGD([{ params: [p], lr: 'x' as unknown as number }], { lr: 0.1 })).toThrow("for params[0].lr but received 'x' of type string");
      expect(() => new SGD([p, p], { lr: 0.1 })).toThrow('params[1]');
      const sgd = new SGD([p], { lr: 0.1 });
      expect(() => { sgd.lr = -0.5; }).toThrow('for lr but received -0.5');
      sgd.dispose();
    } finally {
      p.dispose();
    }
  });

  it('lr setter keeps group ratios; state dict round-trips buffers and step counts', () => {
    const r = seeded(41);
    const a = fromPy(randnArray([5], r)).requiresGrad_(true);
    const b = fromPy(randnArray([3], r)).requiresGrad_(true);
    const sgd = new SGD([{ params: [['a', a]] }, { params: [['b', b]], lr: 0.01 }], { lr: 0.1, momentum: 0.9 });
    sgd.lr = 0.2;
    expect(sgd.paramGroups.map((g) => g.lr)).toEqual([0.2, expect.closeTo(0.02, 12)]);
    a.grad = tidy(() => fromPy(randnArray([5], r)));
    sgd.step();
    const state = sgd.stateDict();
    expect([...state.keys()].sort()).toEqual(['a.momentum_buffer', 'a.step', 'b.momentum_buffer', 'b.step']);
    expect(state.get('a.step')!.item()).toBe(1);
    expect(state.get('b.step')!.item()).toBe(0);
    const saved = new Map([...state].map(([k, v]) => [k, v.clone()]));
    // A second optimizer restored from the state steps exactly like the first.
    const a2 = fromPy(toPy(a)).requiresGrad_(true);
    const b2 = fromPy(toPy(b)).requiresGrad_(true);
    const sgd2 = new SGD([{ params: [['a', a2]] }, { params: [['b', b2]], lr: 0.01 }], { lr: 0.2, momentum: 0.9 });
    sgd2.loadStateDict(saved);
    const g = fromPy(randnArray([5], r));
    a.grad = g;
    a2.grad = tidy(() => g.clone());
    sgd.step();
    sgd2.step();
    expect(Array.from(toPy(a2).data)).toEqual(Array.from(toPy(a).data));
    saved.delete('b.step');
    expect(() => sgd2.loadStateDict(saved)).toThrow('b.step: missing key');
    for (const t of [...saved.values(), a, b, a2, b2, g]) t.dispose();
    sgd.dispose();
    sgd2.dispose();
  });

  it('forModel: masks from masked layers, Sign-In entries fused, no-decay group, no leaks', () => {
    class Net extends Module {
      fc1 = this.registerModule('fc1', new MaskedLinear(6, 5));
      fc2 = this.registerModule('fc2', new MaskedLinear(5, 3));
      forward(x: Tensor): Tensor { return this.fc2.forward(this.fc1.forward(x).relu()); }
    }
    const net = new Net();
    const r = seeded(51);
    net.fc1.setMask(fromPy(maskArray([5, 6], r, 0.5)));
    net.fc2.setMask(fromPy(maskArray([3, 5], r, 0.5)));
    applySignIn(net, { layers: ['fc2'] });
    const live = memory().numTensors;
    const sgd = SGD.forModel(net, { lr: 0.1, momentum: 0.9, weightDecay: 1e-2, noWeightDecay: isNormOrBias });
    expect(sgd.paramGroups.map((g) => [g.numParams, g.numEntries.signin, g.weightDecay])).toEqual([[1, 1, 1e-2], [2, 0, 0]]);
    const x = fromPy(randnArray([4, 6], r));
    for (let i = 0; i < 3; i++) {
      tidy(() => net.forward(x).square().sum().backward());
      sgd.step();
      sgd.zeroGrad();
    }
    tidy(() => {
      const m1 = net.fc1.mask.eq(0);
      expect(net.fc1.weight.maskedFill(m1.logicalNot(), 0).abs().sum().item()).toBe(0);
      expect(sgd.momentumBuffer(net.fc1.weight)!.maskedFill(m1.logicalNot(), 0).abs().sum().item()).toBe(0);
      const s = signinFactors(net.fc2)!;
      const m2 = net.fc2.mask.eq(0);
      expect(net.fc2.weight.maskedFill(m2.logicalNot(), 0).abs().sum().item()).toBe(0);
      expect(s.w.maskedFill(m2.logicalNot(), 0).abs().sum().item()).toBe(0);
      // θ = m·w exactly after a fused step.
      expect(net.fc2.weight.sub(s.m.mul(s.w)).abs().max().item()).toBe(0);
      expect(sgd.entryBuffers(net.fc2.weight)!.m.maskedFill(m2.logicalNot(), 0).abs().sum().item()).toBe(0);
    });
    x.dispose();
    sgd.dispose();
    expect(memory().numTensors).toBe(live);
    net.dispose();
  });
});
