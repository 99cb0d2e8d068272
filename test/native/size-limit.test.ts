/**
 * Huge but legal sizes are refused before libtorch allocates (src/tensor/size-limit.ts): a clear
 * error naming the argument instead of an OOM kill once the pages are filled. The limits are set
 * here (SIGNIN_TORCH_MAX_TENSOR_BYTES, os.freemem mocked), so nothing large is ever allocated.
 * An op's result, which no factory argument describes, is checked by the CPU allocator against
 * the same limit.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
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

test("an op's result over the limit is refused by the allocator before a page is touched", () => {
  // A child process: jest's process.env is a copy that the addon's getenv does not see.
  const script = `
    const { ones, cpuMemoryStats } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src'))});
    const one = ones([1]), row = ones([2 ** 14, 1]), col = ones([1, 2 ** 15]);
    const out = [];
    // 2 GiB results (float32, 2^29 elements) from small inputs: expand + contiguous, repeat, an outer product.
    for (const fn of [() => one.expand([2 ** 29]).contiguous(), () => one.repeat([2 ** 29]), () => row.matmul(col)]) {
      try { fn(); out.push('allocated'); } catch (e) { out.push(e.code + ': ' + e.message); }
    }
    out.push(cpuMemoryStats().peakInUseBytes < 2 ** 30, one.expand([2 ** 20]).contiguous().sum().item());
    console.log(JSON.stringify(out));
  `;
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, SIGNIN_TORCH_MAX_TENSOR_BYTES: String(1.5 * GiB) },
  });
  expect(r.status).toBe(0);
  const refused = "ERR_TORCH: A CPU tensor of 2 GiB (2.25 GiB in the allocator's size class) does not fit in 1.5 GiB (SIGNIN_TORCH_MAX_TENSOR_BYTES): use smaller tensors or batches";
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual([refused, refused, refused, true, 2 ** 20]);
});
