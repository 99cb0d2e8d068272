/**
 * The one error boundary (src/native/guard.ts): whatever the addon throws, through any entry point
 * (exported functions, NativeTensor and Generator methods, the Generator constructor), reaches the
 * caller as the ToolkitError class of its code, with the native message that names the argument.
 */
import {
  InvalidArgumentError, NativeError, TensorDisposedError, ToolkitError, UnknownNameError,
} from '../../src/errors';
import { Generator, fromTypedArray, grad, tensor, unsafeCall } from '../../src';
import { native } from '../../src/native';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('native error boundary', () => {
  it("a native invalid argument is an InvalidArgumentError with the native message", () => {
    const e = thrown(() => native().fromTypedArray(new Float32Array(2), [3], true));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as ToolkitError).code).toBe('ERR_INVALID_ARG');
    expect((e as Error).message).toMatch(/^Expected shape with 2 elements/);
    expect((e as Error & { cause?: { code?: string } }).cause?.code).toBe('ERR_INVALID_ARG');
  });

  it('the same through the public API (fromTypedArray, an op argument, the Generator constructor)', () => {
    expect(() => fromTypedArray(new Float32Array(2), [3])).toThrow(InvalidArgumentError);
    const a = tensor([1, 2]);
    const e = thrown(() => unsafeCall('aten::add.Tensor', [a, 'x']));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as Error).message).toBe("Expected a Tensor for 'other' of aten::add.Tensor but received 'x' of type string");
    const NativeGenerator = native().Generator;
    expect(() => new NativeGenerator(-1)).toThrow(InvalidArgumentError);
    expect(() => new NativeGenerator(-1)).toThrow('Expected a non-negative integer for seed but received -1');
    expect(new Generator(3).initialSeed()).toBe(3);
  });

  it('a libtorch error is a NativeError with its ERR_TORCH code and no C++ backtrace', () => {
    const e = thrown(() => tensor([1, 2]).add(tensor([1, 2, 3])));
    expect(e).toBeInstanceOf(NativeError);
    expect((e as ToolkitError).code).toMatch(/^ERR_TORCH/);
    expect((e as Error).message).toMatch(/size of tensor a \(2\) must match the size of tensor b \(3\)/);
    expect((e as Error).message).not.toMatch(/frame #\d/);
  });

  it('autograd calls go through it too (grad of a tensor that does not require grad)', () => {
    const x = tensor([1, 2]);
    const e = thrown(() => grad(x.sum(), [x]));
    expect(e).toBeInstanceOf(NativeError);
    expect((e as ToolkitError).code).toMatch(/^ERR_TORCH/);
  });

  it('a method of a disposed native tensor is a TensorDisposedError', () => {
    const h = native().fromTypedArray(new Float32Array([1]), [1], true);
    h.dispose();
    expect(() => h.shape()).toThrow(TensorDisposedError);
  });

  it('an unknown operator is an UnknownNameError naming it', () => {
    const e = thrown(() => unsafeCall('aten::no_such_op', []));
    expect(e).toBeInstanceOf(UnknownNameError);
    expect((e as Error).message).toMatch(/aten::no_such_op/);
  });
});
