/** Functions over several tensors (torch.cat, torch.where, ...). */
import { InvalidArgumentError } from '../errors';
import { str } from '../validate';
import * as aten from './aten';
import { dimIn } from './dim-args';
import { Tensor } from './tensor';

function tensors(name: string, list: unknown): Tensor[] {
  const bad = () => new InvalidArgumentError(name, 'non-empty array of Tensors', list);
  if (!Array.isArray(list) || list.length === 0) throw bad();
  // An index loop, not every(): every() would walk all 2^32-1 holes of new Array(2 ** 32 - 1).
  for (let i = 0; i < list.length; i++) if (!(list[i] instanceof Tensor)) throw bad();
  return list as Tensor[];
}

export function cat(list: Tensor[], dim = 0): Tensor {
  const ts = tensors('tensors', list);
  return aten.cat(ts, dimIn('dim', dim, ts[0].ndim));
}

/** Joins along a new dim, so dim may be ndim (the last place). */
export function stack(list: Tensor[], dim = 0): Tensor {
  const ts = tensors('tensors', list);
  return aten.stack(ts, dimIn('dim', dim, ts[0].ndim + 1));
}

/** Elementwise a where cond is true, else b (numbers broadcast). */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return aten.where(cond, a, b);
}

// libtorch refuses a negative or NaN tolerance naming it, but a string became ERR_INVALID_ARG naming aten::allclose's argument.
function tolerance(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0)) throw new InvalidArgumentError(name, 'a number >= 0', v);
  return v;
}

/** True when all elements are close: |a - b| <= atol + rtol * |b|. */
export function allclose(a: Tensor, b: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
  return aten.allclose(a, b, tolerance('rtol', rtol), tolerance('atol', atol));
}

/** Einstein summation: einsum('ij,jk->ik', a, b), or with the operands in one array as torch allows. */
export function einsum(equation: string, ...operands: Tensor[] | [Tensor[]]): Tensor {
  const list = operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands;
  return aten.einsum(str('equation', equation), tensors('tensors', list));
}
