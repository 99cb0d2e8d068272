/**
 * A researcher's first mistakes with the programmatic API, each of which libtorch refused without
 * naming the argument (or, for an empty optimizer, nobody refused): a Linear fed the wrong number
 * of features, a float or int32 class target, a device that is no device, an optimizer over no
 * parameters. Each is now an ERR_INVALID_ARG naming the argument and what it must be.
 */
import { F, InvalidArgumentError, Linear, MaskedLinear, tensor, zeros } from '../../src';
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
