/**
 * Huge but legal sizes are refused before libtorch allocates (src/tensor/size-limit.ts): a clear
 * error naming the argument instead of an OOM kill once the pages are filled. The limits are set
 * here (SIGNIN_TORCH_MAX_TENSOR_BYTES, os.freemem mocked), so nothing large is ever allocated.
 */
import * as os from 'node:os';
import { BatchNorm1d, Linear, ToolkitError, eye, randperm, zeros, ones } from '../../src';

const GiB = 2 ** 30;

function refusal(fn: () => unknown): ToolkitError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ToolkitError);
    return e as ToolkitError;
  }
  throw new Error('expected an error');
}

afterEach(() => {
  delete process.env.SIGNIN_TORCH_MAX_TENSOR_BYTES;
  jest.restoreAllMocks();
});

test('a tensor larger than the machine (or the set limit) is refused, naming the argument', () => {
  const total = os.totalmem();
  const e = refusal(() => zeros([2 ** 40]));
  expect(e.code).toBe('ERR_INVALID_ARG');
  expect(e.message).toBe(`Expected a size whose float32 tensor fits in ${(total / GiB).toPrecision(3)} GiB, this machine's memory (SIGNIN_TORCH_MAX_TENSOR_BYTES sets another limit); this one needs 4.10e+3 GiB for shape but received an array of length 1`);
  expect(refusal(() => new Linear(1e6, 1e6)).message).toContain('this one needs 3.73e+3 GiB');

  process.env.SIGNIN_TORCH_MAX_TENSOR_BYTES = String(2 * GiB);
  expect(refusal(() => randperm(2 ** 31)).message).toContain('Expected a size whose int64 tensor fits in 2.00 GiB, SIGNIN_TORCH_MAX_TENSOR_BYTES; this one needs 16.0 GiB for n');
  expect(refusal(() => new BatchNorm1d(2 ** 31)).message).toContain('this one needs 8.00 GiB');
  expect(refusal(() => eye(2 ** 16, { dtype: 'float64' })).message).toContain('float64 tensor fits in 2.00 GiB, SIGNIN_TORCH_MAX_TENSOR_BYTES; this one needs 32.0 GiB for n');
  expect(refusal(() => ones([2 ** 31 + 8], { dtype: 'bool' })).message).toContain('this one needs 2.00 GiB');
});

test('a large tensor must also fit in the memory available now; small ones are not checked', () => {
  // Between what is available and the machine's total: legal here, but not fillable now.
  const free = Math.floor(os.totalmem() / 4);
  // The module object itself: the namespace `os` above is a frozen copy of its getters.
  jest.spyOn(require('node:os') as typeof os, 'freemem').mockReturnValue(free);
  const numel = Math.floor((os.totalmem() / 2) / 4);
  expect(refusal(() => zeros([numel])).message).toMatch(/^Expected a size whose float32 tensor fits in the [0-9.]+ GiB of memory available now; this one needs [0-9.]+ GiB for shape/);
  process.env.SIGNIN_TORCH_MAX_TENSOR_BYTES = '1';
  const small = zeros([1000]);
  expect(small.shape).toEqual([1000]);
  small.dispose();
});
