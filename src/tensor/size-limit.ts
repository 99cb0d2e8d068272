/**
 * The largest tensor a factory agrees to allocate. libtorch asks the OS for the memory and only
 * fails when the OS refuses; with Linux's overcommit a legal but huge request (zeros([2**33]),
 * new BatchNorm1d(2**31), a 1e6 × 1e6 Linear) is granted and then filled page by page until the
 * kernel kills the process. For tensors larger than BIG_BYTES, two checks turn that into an
 * error before libtorch is called (smaller ones are never what gets a process killed):
 * - no tensor larger than the machine's memory (os.totalmem, or the cgroup limit when lower):
 *   it could never be filled here; SIGNIN_TORCH_MAX_TENSOR_BYTES sets another limit (bytes);
 * - it must also fit in the memory available now (os.freemem, Linux's MemAvailable, plus the
 *   blocks the CPU caching allocator keeps for reuse, which the OS counts as used):
 *   BatchNorm1d(2**31) asks for four 8 GiB tensors, each under the total.
 */
import * as os from 'node:os';
import { InvalidArgumentError } from '../errors';
import { cpuMemoryStats } from './cpu-memory';
import type { DType } from './tensor';

const ELEMENT_BYTES: Record<DType, number> = {
  float64: 8, int64: 8, float32: 4, int32: 4, float16: 2, bfloat16: 2, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** Bytes per element of a dtype (PyTorch's element_size()). */
export function elementSize(dtype: DType): number {
  return ELEMENT_BYTES[dtype];
}

/** Tensors up to this size are not checked. */
const BIG_BYTES = 2 ** 30;

/** The limit in bytes: SIGNIN_TORCH_MAX_TENSOR_BYTES when set to a positive number, else the machine's memory. */
function maxTensorBytes(): number {
  const env = Number(process.env.SIGNIN_TORCH_MAX_TENSOR_BYTES);
  if (Number.isFinite(env) && env > 0) return env;
  const cgroup = process.constrainedMemory?.() ?? 0;
  return cgroup > 0 ? Math.min(cgroup, os.totalmem()) : os.totalmem();
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toPrecision(3)} GiB`;
}

/** Throws ERR_INVALID_ARG naming `name` when `numel` elements of `dtype` exceed maxTensorBytes(). */
export function checkTensorSize(name: string, numel: number, dtype: DType | undefined, shown: unknown): void {
  const bytes = numel * (ELEMENT_BYTES[dtype ?? 'float32'] ?? 8);
  if (!(bytes > BIG_BYTES)) return;
  const limit = maxTensorBytes();
  const what = `a size whose ${dtype ?? 'float32'} tensor fits in`;
  if (bytes > limit) {
    const source = process.env.SIGNIN_TORCH_MAX_TENSOR_BYTES ? 'SIGNIN_TORCH_MAX_TENSOR_BYTES' : "this machine's memory (SIGNIN_TORCH_MAX_TENSOR_BYTES sets another limit)";
    throw new InvalidArgumentError(name, `${what} ${gib(limit)}, ${source}; this one needs ${gib(bytes)}`, shown);
  }
  const available = os.freemem() + cpuMemoryStats().cachedBytes;
  if (bytes > available) {
    throw new InvalidArgumentError(name, `${what} the ${gib(available)} of memory available now; this one needs ${gib(bytes)}`, shown);
  }
}

/** checkTensorSize for a shape; returns the shape. */
export function checkShapeSize(name: string, shape: number[], dtype: DType | undefined): number[] {
  checkTensorSize(name, shape.reduce((a, b) => a * b, 1), dtype, shape);
  return shape;
}
