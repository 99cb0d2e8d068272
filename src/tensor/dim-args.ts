/** The checks of dim, dims and index-like integer arguments, shared by the Tensor methods and the functions over several tensors. */
import { InvalidArgumentError } from '../errors';
import { intList, isInt } from '../validate';

// libtorch's own refusal of a dim out of range is ERR_TORCH_INDEX naming no argument.
export function dimIn(name: string, dim: unknown, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!isInt(dim) || dim < -n || dim >= n) throw new InvalidArgumentError(name, `integer in [${-n}, ${n - 1}]`, dim);
  return dim;
}

// libtorch refuses a dim given twice with "dim 0 appears multiple times in the list of dims", naming no argument.
export function distinctDims(name: string, dim: unknown, ndim: number): number[] {
  const list = Array.isArray(dim) ? intList(name, dim) : [dim];
  const seen = new Set<number>();
  for (const d of list) {
    const k = dimIn(name, d, ndim) < 0 ? (d as number) + Math.max(ndim, 1) : (d as number);
    if (seen.has(k)) throw new InvalidArgumentError(name, `distinct dims in [${-Math.max(ndim, 1)}, ${Math.max(ndim, 1) - 1}] (dim ${k} is given twice)`, dim);
    seen.add(k);
  }
  return list as number[];
}

// An empty list is refused: libtorch 1.13's logsumexp over [] fails with "output with shape []
// doesn't match the broadcast shape [1, 1]".
export function dimsIn(name: string, dim: unknown, ndim: number): number[] {
  const list = distinctDims(name, dim, ndim);
  if (list.length === 0) throw new InvalidArgumentError(name, 'a dim or a non-empty list of dims', dim);
  return list;
}

export function intIn(name: string, v: unknown, lo: number, hi: number): number {
  if (!isInt(v) || v < lo || v > hi) throw new InvalidArgumentError(name, `integer in [${lo}, ${hi}]`, v);
  return v;
}
