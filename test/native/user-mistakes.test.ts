/**
 * A researcher's first mistakes with the programmatic API, each of which libtorch refused without
 * naming the argument (or, for an empty optimizer, nobody refused): a Linear fed the wrong number
 * of features, a float or int32 class target, a device that is no device or one this process does
 * not see, an optimizer over no parameters. Each is now an ERR_INVALID_ARG naming the argument
 * and what it must be.
 */
import {
  AdamW, F, InvalidArgumentError, Linear, MaskedLinear, Module, SGD, Tensor, cuda, ones, randn, tensor, zeros, type Device,
} from '../../src';
import { errorOf } from '../helpers/error-of';

function expectInvalid(fn: () => unknown, message: string): void {
  const e = errorOf(fn);
  expect(e).toBeInstanceOf(InvalidArgumentError);
  expect(e.message).toBe(message);
}

describe('a linear layer fed the wrong number of features', () => {
  it.each([
    ['Linear', () => new Linear(6, 3)],
    ['MaskedLinear', () => new MaskedLinear(6, 3)],
  ])('%s names the input and the in-features it needs', (_name, make) => {
    expectInvalid(() => make().forward(zeros([2, 5])),
      "Expected a Tensor whose last dimension is the weight's 6 input features ([..., 6]) for input but received a Tensor of shape [2, 5]");
  });

  it('F.linear still computes x Wᵀ + b for any leading dimensions', () => {
    const x = tensor([[[1, 2], [3, 4]]]);
    const y = F.linear(x, tensor([[1, 0], [1, 1], [0, 2]]), tensor([0, 1, -1]));
    expect(y.shape).toEqual([1, 2, 3]);
    expect(y.toArray()).toEqual([1, 4, 3, 3, 8, 7]);
  });
});

describe('a class target of the wrong dtype', () => {
  const logits = tensor([[1, 2, 3], [0, 0, 1]]);

  it.each([
    ['float32', tensor([2, 0])],
    ['int32', tensor([2, 0], { dtype: 'int32' })],
  ])('crossEntropy names target and the two forms it takes (%s indices)', (dtype, target) => {
    const article = dtype.startsWith('i') ? 'an' : 'a';
    expectInvalid(() => F.crossEntropy(logits, target),
      `Expected int64 class indices of shape [2] (.long()) or floating class probabilities of shape [2, 3] for target but received ${article} ${dtype} Tensor of shape [2]`);
  });

  it('nllLoss names target and the indices it takes', () => {
    expectInvalid(() => F.nllLoss(F.logSoftmax(logits, 1), tensor([2, 0])),
      'Expected int64 class indices of shape [2] (.long()) for target but received a float32 Tensor of shape [2]');
  });

  it('crossEntropy still takes int64 indices and float probabilities: -Σ p log softmax(z), by hand', () => {
    const lse = (z: number[]) => Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    const rows = [[1, 2, 3], [0, 0, 1]];
    const byIndex = ((lse(rows[0]) - 3) + (lse(rows[1]) - 0)) / 2;
    expect(F.crossEntropy(logits, tensor([2, 0], { dtype: 'int64' })).item()).toBeCloseTo(byIndex, 6);
    const p = [[0.5, 0, 0.5], [0, 1, 0]];
    const byProb = rows.map((z, i) => p[i].reduce((s, pi, c) => s + pi * (lse(z) - z[c]), 0)).reduce((a, b) => a + b) / 2;
    expect(F.crossEntropy(logits, tensor(p)).item()).toBeCloseTo(byProb, 6);
  });
});

describe('a device that is no device', () => {
  it.each(['gpu', 'cuda0', 'CPU'])('the factories name device for %p', (device) => {
    expectInvalid(() => zeros([2], { device }), `Expected a device ('cpu', 'cuda', 'cuda:N') for device but received '${device}' of type string`);
    expectInvalid(() => randn([2], { device }), `Expected a device ('cpu', 'cuda', 'cuda:N') for device but received '${device}' of type string`);
  });

  it("'cpu' is still a device", () => {
    expect(zeros([2], { device: 'cpu' }).device).toBe('cpu');
  });
});

describe('an optimizer over no parameters (PyTorch: "optimizer got an empty parameter list")', () => {
  class NoParams extends Module {
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  const message = 'Expected at least one parameter (forModel: a model with parameters) for params but received an array of length 0';

  it.each([
    ['new SGD([])', () => new SGD([], { lr: 0.1 })],
    ['SGD.forModel', () => SGD.forModel(new NoParams(), { lr: 0.1 })],
    ['new AdamW([])', () => new AdamW([], { lr: 0.1 })],
    ['AdamW.forModel', () => AdamW.forModel(new NoParams(), { lr: 0.1 })],
    ['groups that are all empty', () => new SGD([{ params: [] }, { params: [] }], { lr: 0.1 })],
  ])('%s is refused', (_name, make) => {
    expectInvalid(make, message);
  });

  it('one group with a parameter is enough', () => {
    const opt = new SGD([{ params: [] }, { params: [zeros([2]).requiresGrad_()] }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.numParams)).toEqual([0, 1]);
  });
});

describe('a CUDA device this process does not see', () => {
  // cuda:<deviceCount> is never visible: on a CPU machine that is cuda:0, where libtorch refused with
  // "Could not run 'aten::empty.memory_format' with arguments from the 'CUDA' backend".
  const missing = `cuda:${cuda.deviceCount()}`;
  const has = cuda.deviceCount() === 0
    ? "'cpu' (no CUDA device is visible to this process)"
    : `'cpu', 'cuda' or 'cuda:0' to 'cuda:${cuda.deviceCount() - 1}'`;

  it.each([
    ['a factory', 'device', () => zeros([2], { device: missing })],
    ['tensor()', 'device', () => tensor([1, 2], { device: missing })],
    ['Tensor.to', 'target', () => zeros([2]).to(missing as Device)],
    ['Tensor.to({ device })', 'device', () => zeros([2]).to({ device: missing })],
    ['Module.to', 'target', () => new Linear(2, 2).to(missing)],
  ])('%s names %s and the devices there are', (_what, name, fn) => {
    expectInvalid(fn, `Expected a device this process has: ${has} for ${name} but received '${missing}' of type string`);
  });

  it('a refused Module.to leaves the module where it was', () => {
    const l = new Linear(2, 2);
    errorOf(() => l.to(missing));
    expect(l.parameters().map((p) => p.device)).toEqual(['cpu', 'cpu']);
    expect(l.forward(ones([1, 2])).shape).toEqual([1, 2]);
  });
});
