/** Layers, init and masked layers against closed forms and torch.nn's documented formulas. */
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, F, Flatten, Generator, Identity, Linear,
  MaskedConv2d, MaskedLinear, MaxPool2d, Module, ReLU, Sequential, Tensor, init, keep, manualSeed, maskedLayers,
  memory, noGrad, ones, rand, randn, tensor, tidy, zeros,
} from '../../src';
import { createToyModel } from '../helpers/toy-model';

function stats(t: Tensor): { min: number; max: number; mean: number; variance: number } {
  const v = t.toArray();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return { min: v.reduce((a, b) => Math.min(a, b)), max: v.reduce((a, b) => Math.max(a, b)), mean, variance };
}

/** Samples of U(-b, b): all inside, the extremes near ±b, variance b²/3. */
function expectUniform(t: Tensor, bound: number): void {
  const s = stats(t);
  expect(s.max).toBeLessThanOrEqual(bound);
  expect(s.min).toBeGreaterThanOrEqual(-bound);
  expect(s.max).toBeGreaterThan(0.95 * bound);
  expect(s.min).toBeLessThan(-0.95 * bound);
  expect(Math.abs(s.mean)).toBeLessThan(0.05 * bound);
  expect(s.variance / (bound * bound / 3)).toBeCloseTo(1, 1);
}

beforeAll(() => manualSeed(2024));

describe('default initialisation (torch.nn formulas)', () => {
  it('Linear: weight and bias ~ U(±1/√in_features)', () => {
    const l = new Linear(400, 300);
    expect(l.weight.shape).toEqual([300, 400]);
    expect(l.weight.dtype).toBe('float32');
    expect(l.weight.requiresGrad).toBe(true);
    expectUniform(l.weight, 1 / Math.sqrt(400));
    const big = new Linear(100, 20000);
    expectUniform(big.bias!, 1 / Math.sqrt(100));
    expect(new Linear(3, 2, { bias: false }).bias).toBeUndefined();
    l.dispose();
    big.dispose();
  });

  it('Conv2d: weight and bias ~ U(±1/√(in/groups·kh·kw))', () => {
    const c = new Conv2d(16, 64, [3, 5], { groups: 4 });
    expect(c.weight.shape).toEqual([64, 4, 3, 5]);
    const fanIn = 4 * 3 * 5;
    expectUniform(c.weight, 1 / Math.sqrt(fanIn));
    const wide = new Conv2d(2, 20000, 1);
    expectUniform(wide.bias!, 1 / Math.sqrt(2));
    c.dispose();
    wide.dispose();
  });

  it('BatchNorm: weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked int64 0', () => {
    const bn = new BatchNorm2d(3);
    expect(bn.weight!.toArray()).toEqual([1, 1, 1]);
    expect(bn.bias!.toArray()).toEqual([0, 0, 0]);
    expect(bn.runningMean!.toArray()).toEqual([0, 0, 0]);
    expect(bn.runningVar!.toArray()).toEqual([1, 1, 1]);
    expect(bn.numBatchesTracked!.dtype).toBe('int64');
    expect(bn.numBatchesTracked!.shape).toEqual([]);
    expect(bn.numBatchesTracked!.item()).toBe(0);
    expect([...bn.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect([...new BatchNorm1d(2, { affine: false, trackRunningStats: false }).stateDict().keys()]).toEqual([]);
  });

  it('the same generator seed gives the same parameters', () => {
    const a = new Linear(5, 4);
    const b = new Linear(5, 4);
    a.resetParameters(new Generator(11));
    b.resetParameters(new Generator(11));
    expect(a.weight.toArray()).toEqual(b.weight.toArray());
    expect(a.bias!.toArray()).toEqual(b.bias!.toArray());
  });
});

describe('init', () => {
  it('fans follow torch.nn.init._calculate_fan_in_and_fan_out', () => {
    expect(init.calculateFanInAndFanOut(zeros([7, 3]))).toEqual({ fanIn: 3, fanOut: 7 });
    expect(init.calculateFanInAndFanOut(zeros([8, 4, 3, 5]))).toEqual({ fanIn: 60, fanOut: 120 });
    expect(() => init.calculateFanInAndFanOut(zeros([5]))).toThrow(
      'Expected a Tensor with at least 2 dimensions to compute fans for tensor but received a Tensor of shape [5]',
    );
  });

  it('gains', () => {
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(init.calculateGain('conv2d')).toBe(1);
    expect(() => init.calculateGain('swish' as never)).toThrow(/^Expected one of 'linear', .* for nonlinearity but received 'swish' of type string$/);
  });

  it('kaiming, xavier, normal and constants', () => {
    const t = zeros([256, 128, 3, 3]);
    init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' });
    expect(Math.sqrt(stats(t).variance) / Math.sqrt(2 / (256 * 9))).toBeCloseTo(1, 2);
    init.kaimingUniform_(t, { nonlinearity: 'relu' });
    expectUniform(t, Math.sqrt(6 / (128 * 9)));
    init.xavierUniform_(t, { gain: 2 });
    expectUniform(t, 2 * Math.sqrt(6 / ((128 + 256) * 9)));
    init.xavierNormal_(t);
    expect(Math.sqrt(stats(t).variance) / Math.sqrt(2 / ((128 + 256) * 9))).toBeCloseTo(1, 2);
    init.normal_(t, 3, 0.5);
    expect(stats(t).mean).toBeCloseTo(3, 2);
    init.uniform_(t, 2, 4);
    expectUniform(tidy(() => keep(t.sub(3))), 1);
    expect(init.constant_(zeros([2]), 0.25).toArray()).toEqual([0.25, 0.25]);
    expect(init.ones_(zeros([2])).toArray()).toEqual([1, 1]);
    expect(init.zeros_(ones([2])).toArray()).toEqual([0, 0]);
    t.dispose();
  });

  it('initialises parameters that require grad without recording a graph', () => {
    const p = zeros([4, 4], { requiresGrad: true });
    init.kaimingUniform_(p, { generator: new Generator(1) });
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
  });
});

describe('layers: forward against closed forms', () => {
  it('Linear computes x Wᵀ + b', () => {
    const l = new Linear(2, 2);
    noGrad(() => {
      l.weight.copy_(tensor([[1, 2], [3, 4]]));
      l.bias!.copy_(tensor([10, 20]));
    });
    expect(tidy(() => l.forward(tensor([[1, 1], [0, 2]])).toArray())).toEqual([13, 27, 14, 28]);
  });

  it('Conv2d output shape is ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1', () => {
    const c = new Conv2d(3, 6, [3, 2], { stride: [2, 1], padding: [1, 2], dilation: [1, 3], groups: 3 });
    const y = tidy(() => c.forward(randn([2, 3, 9, 8])).shape);
    expect(y).toEqual([2, 6, Math.floor((9 + 2 - 2 - 1) / 2) + 1, Math.floor((8 + 4 - 3 - 1) / 1) + 1]);
  });

  it('a 1×1 conv with identity weight copies its input', () => {
    const c = new Conv2d(2, 2, 1, { bias: false });
    noGrad(() => c.weight.copy_(tensor([[[[1]], [[0]]], [[[0]], [[1]]]])));
    const x = randn([1, 2, 3, 3]);
    expect(tidy(() => c.forward(x).toArray())).toEqual(x.toArray());
  });

  it('pools, ReLU, Flatten and Identity', () => {
    const x = tensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]]);
    expect(new MaxPool2d(2).forward(x).toArray()).toEqual([6, 8, 14, 16]);
    expect(new AvgPool2d(2).forward(x).toArray()).toEqual([3.5, 5.5, 11.5, 13.5]);
    expect(new MaxPool2d(3, { stride: 1, padding: 1 }).forward(x).shape).toEqual([1, 1, 4, 4]);
    expect(new AdaptiveAvgPool2d(1).forward(x).toArray()).toEqual([8.5]);
    expect(new AdaptiveAvgPool2d([1, 2]).forward(x).toArray()).toEqual([7.5, 9.5]);
    expect(new ReLU().forward(tensor([-1, 0, 2])).toArray()).toEqual([0, 0, 2]);
    expect(new Flatten().forward(x).shape).toEqual([1, 16]);
    expect(new Flatten(2, 3).forward(x).shape).toEqual([1, 1, 16]);
    expect(new Identity().forward(x)).toBe(x);
  });

  it('Dropout zeroes about p of the elements and scales the rest by 1/(1−p); identity in eval', () => {
    const d = new Dropout(0.25);
    const y = tidy(() => d.forward(ones([100000])).toArray());
    const zerosFraction = y.filter((v) => v === 0).length / y.length;
    expect(zerosFraction).toBeGreaterThan(0.24);
    expect(zerosFraction).toBeLessThan(0.26);
    expect(new Set(y.filter((v) => v !== 0))).toEqual(new Set([Math.fround(1 / 0.75)]));
    d.eval();
    expect(tidy(() => d.forward(tensor([1, 2])).toArray())).toEqual([1, 2]);
  });

  it('BatchNorm2d normalizes per channel in training and counts batches; eval uses and keeps running stats', () => {
    const bn = new BatchNorm2d(2);
    const x = tensor([[[[1, 3]], [[10, 10]]], [[[5, 7]], [[10, 10]]]]);
    const y = bn.forward(x).toArray();
    const inv = 1 / Math.sqrt(5 + 1e-5);
    [(1 - 4) * inv, (3 - 4) * inv, 0, 0, (5 - 4) * inv, (7 - 4) * inv, 0, 0].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 3));
    expect(bn.numBatchesTracked!.item()).toBe(1);
    expect(bn.runningMean!.toArray().map((v) => +v.toFixed(6))).toEqual([0.4, 1]);
    expect(bn.runningVar!.toArray()[0]).toBeCloseTo(0.9 + 0.1 * (20 / 3), 5);
    bn.eval();
    const before = bn.runningMean!.toArray();
    bn.forward(x);
    expect(bn.runningMean!.toArray()).toEqual(before);
    expect(bn.numBatchesTracked!.item()).toBe(1);
    expect(() => bn.forward(zeros([2, 3, 2, 2]))).toThrow('Expected 2 channels in dim 1 for input but received a Tensor of shape [2, 3, 2, 2]');
    expect(() => bn.forward(zeros([2, 2]))).toThrow('Expected a 4-D Tensor for input but received a Tensor of shape [2, 2]');
  });
});

describe('Sequential', () => {
  it('names children 0, 1, ..., chains forward, has length and at()', () => {
    const a = new Linear(3, 4);
    const s = new Sequential(a, new ReLU(), new Linear(4, 2));
    expect([...s.namedChildren()].map(([n]) => n)).toEqual(['0', '1', '2']);
    expect(s.length).toBe(3);
    expect(s.at(0)).toBe(a);
    expect(s.at(-1)).toBe(s.at(2));
    expect([...s]).toHaveLength(3);
    expect(tidy(() => s.forward(randn([5, 3])).shape)).toEqual([5, 2]);
    expect([...s.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(() => s.at(3)).toThrow('Expected integer in [-3, 2] for index but received 3 of type number');
  });

  it('Sequential.named keeps the given names; train/eval reach every descendant', () => {
    const s = Sequential.named([['fc', new Linear(2, 2)], ['drop', new Dropout()]]);
    expect([...s.stateDict().keys()]).toEqual(['fc.weight', 'fc.bias']);
    s.eval();
    expect([...s.namedModules()].every(([, m]) => !m.training)).toBe(true);
    expect(() => Sequential.named([['a.b', new ReLU()]])).toThrow(/^Expected non-empty string without dots for module name but received 'a.b'/);
  });
});

describe('argument validation names the argument', () => {
  it.each<[string, () => unknown, string]>([
    ['Conv2d outChannels', () => new Conv2d(3, 0, 3), 'Expected positive integer for outChannels but received 0 of type number'],
    ['Conv2d groups', () => new Conv2d(3, 4, 3, { groups: 2 }), 'Expected a multiple of groups (2) for inChannels but received 3 of type number'],
    ['Conv2d stride', () => new Conv2d(3, 3, 3, { stride: [1, 2, 3] as never }), 'Expected integer >= 1 or a pair of them for stride but received an array of length 3'],
    ['Linear bias', () => new Linear(3, 4, { bias: 'yes' as never }), "Expected boolean for bias but received 'yes' of type string"],
    ['BatchNorm momentum', () => new BatchNorm2d(3, { momentum: 2 }), 'Expected number in [0, 1] for momentum but received 2 of type number'],
    ['Dropout p', () => new Dropout(1.5), 'Expected number in [0, 1] for p but received 1.5 of type number'],
    ['conv2d input', () => F.conv2d(zeros([3, 3]), zeros([1, 3, 1, 1])), 'Expected a 3-D or 4-D Tensor for input but received a Tensor of shape [3, 3]'],
    ['conv2d weight', () => F.conv2d(zeros([1, 3, 3, 3]), [1] as never), 'Expected Tensor for weight but received an array of length 1'],
    ['crossEntropy reduction', () => F.crossEntropy(zeros([2, 3]), zeros([2]), { reduction: 'avg' as never }), "Expected one of 'none', 'mean', 'sum' for reduction but received 'avg' of type string"],
    ['crossEntropy labelSmoothing', () => F.crossEntropy(zeros([2, 3]), zeros([2]), { labelSmoothing: -0.1 }), 'Expected number in [0, 1] for labelSmoothing but received -0.1 of type number'],
    ['maxPool2d kernel', () => F.maxPool2d(zeros([1, 1, 2, 2]), 0), 'Expected integer >= 1 or a pair of them for kernelSize but received 0 of type number'],
    ['batchNorm eval stats', () => F.batchNorm(zeros([2, 2])), 'Expected Tensors when training is false for runningMean and runningVar but received undefined'],
  ])('%s', (_name, fn, message) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG', message });
  });

  it('a libtorch shape error is clean', () => {
    const l = new Conv2d(3, 2, 1);
    let err: Error & { code?: string } = new Error();
    try {
      tidy(() => l.forward(zeros([4, 5, 2, 2])));
    } catch (e) {
      err = e as Error;
    }
    expect(err.code).toMatch(/^ERR_TORCH/);
    expect(err.message).toMatch(/to have 3 channels, but got 5 channels/);
    expect(err.message).not.toMatch(/Exception raised from|frame #/);
  });
});

describe('masked layers', () => {
  it('own a persistent float mask of ones, shaped and typed like the weight', () => {
    const c = new MaskedConv2d(2, 3, 3);
    expect(c.mask.shape).toEqual(c.weight.shape);
    expect(c.mask.dtype).toBe('float32');
    expect(new Set(c.mask.toArray())).toEqual(new Set([1]));
    expect(c.mask.requiresGrad).toBe(false);
    expect([...c.stateDict().keys()]).toEqual(['weight', 'bias', 'weight_mask']);
    expect([...c.parameters()]).toHaveLength(2);
    expect(c.parametrization).toBe('dense');
    expect(c.density()).toBe(1);
    expect(c).toBeInstanceOf(Conv2d);
    expect(new MaskedLinear(3, 2)).toBeInstanceOf(Linear);
  });

  it('setMask stores the mask in place and zeroes the weight outside it (+0, not -0)', () => {
    const l = new MaskedLinear(4, 3);
    noGrad(() => l.weight.fill_(-2));
    const buffer = l.mask;
    const m = tensor([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]);
    l.setMask(m);
    expect(l.mask).toBe(buffer);
    expect(l.mask.toArray()).toEqual(m.toArray());
    const w = l.weight.toArray();
    expect(w).toEqual([-2, 0, -2, 0, 0, 0, 0, 0, -2, -2, -2, -2]);
    expect(w.filter((v) => v === 0).every((v) => Object.is(v, 0))).toBe(true);
    expect(l.density()).toBeCloseTo(6 / 12, 12);
    l.setMask(tensor([[true, true, true, true], [true, false, true, true], [true, true, true, true]]));
    expect(l.density()).toBeCloseTo(11 / 12, 12);
  });

  it('setMask validates shape and values', () => {
    const c = new MaskedConv2d(1, 2, 2);
    expect(() => c.setMask(ones([2, 1, 2]))).toThrow("Expected a Tensor of the weight's shape [2, 1, 2, 2] for mask but received a Tensor of shape [2, 1, 2]");
    expect(() => c.setMask(rand([2, 1, 2, 2]).add(0.1))).toThrow('Expected a Tensor holding only 0 and 1 for mask but received a Tensor with other values');
    expect(() => c.setMask('ones' as never)).toThrow("Expected Tensor for mask but received 'ones' of type string");
  });

  it('resetParameters keeps masked weights at zero; gradients flow to the weight', () => {
    const c = new MaskedConv2d(2, 2, 3, { padding: 1 });
    const mask = randn(c.weight.shape).gt(0).float();
    c.setMask(mask);
    c.resetParameters();
    const w = c.weight.toArray();
    mask.toArray().forEach((m, i) => { if (m === 0) expect(w[i]).toBe(0); });
    tidy(() => c.forward(randn([1, 2, 4, 4])).sum().backward());
    expect(c.weight.grad!.shape).toEqual(c.weight.shape);
    c.zeroGrad();
  });

  it('Module.to keeps mask and weight in the same dtype', () => {
    const l = new MaskedLinear(2, 2).to('float64');
    expect(l.weight.dtype).toBe('float64');
    expect(l.mask.dtype).toBe('float64');
    l.setMask(tensor([[1, 0], [0, 1]]));
    expect(l.weight.toArray().filter((v) => v === 0)).toHaveLength(2);
  });

  it('maskedLayers lists masked layers by dotted name; dispose frees the model', () => {
    const before = memory().numTensors;
    const model = createToyModel();
    const nested = new Sequential(new Linear(2, 2), Sequential.named([['inner', new MaskedLinear(2, 2)]]));
    expect(maskedLayers(model).map(([n, l]) => [n, l.constructor.name])).toEqual([
      ['conv1', 'MaskedConv2d'], ['conv2', 'MaskedConv2d'], ['fc', 'MaskedLinear'],
    ]);
    expect(maskedLayers(nested).map(([n]) => n)).toEqual(['1.inner']);
    model.dispose();
    nested.dispose();
    expect(memory().numTensors).toBe(before);
  });
});

describe('Module trees built from layers', () => {
  it('toString shows the tree', () => {
    const s = new Sequential(new Conv2d(1, 2, 3, { padding: 1 }), new ReLU());
    expect(s.toString()).toBe('Sequential(\n  (0): Conv2d(1, 2, kernelSize=[3, 3], padding=[1, 1])\n  (1): ReLU()\n)');
  });

  it('a custom module composes layers', () => {
    class Tiny extends Module {
      fc = this.registerModule('fc', new Linear(3, 1));
      forward(x: Tensor): Tensor {
        return this.fc.forward(x).relu();
      }
    }
    const t = new Tiny();
    expect(tidy(() => t.forward(randn([2, 3])).shape)).toEqual([2, 1]);
    expect([...t.stateDict().keys()]).toEqual(['fc.weight', 'fc.bias']);
  });
});
