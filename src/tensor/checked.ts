/**
 * dispatch.ts's call/callInPlace for the public Tensor API, after one check of the arguments: an
 * array with holes (`new Array(2 ** 32 - 1)`) is refused at its first hole. Scanning such an
 * array element by element (as some() and map() do) would take minutes for a value that holds
 * nothing.
 */
import { InvalidArgumentError } from '../errors';
import { call as rawCall, callInPlace as rawCallInPlace } from './dispatch';
import type { Tensor } from './tensor';

function checkDense(qualified: string, name: string, v: unknown, depth: number): void {
  if (!Array.isArray(v)) return;
  for (let i = 0; i < v.length; i++) {
    if (!(i in v)) throw new InvalidArgumentError(`${name} of ${qualified}`, 'an array without holes', v);
    if (depth < 2) checkDense(qualified, `${name}[${i}]`, v[i], depth + 1);
  }
}

function checkArgs(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): void {
  args.forEach((a, i) => checkDense(qualified, `argument ${i}`, a, 0));
  if (kwargs) for (const [k, v] of Object.entries(kwargs)) checkDense(qualified, `'${k}'`, v, 0);
}

export function call<T = Tensor>(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): T {
  checkArgs(qualified, args, kwargs);
  return rawCall<T>(qualified, args, kwargs);
}

export function callInPlace(qualified: string, args: unknown[], kwargs?: Record<string, unknown>): void {
  checkArgs(qualified, args, kwargs);
  rawCallInPlace(qualified, args, kwargs);
}
