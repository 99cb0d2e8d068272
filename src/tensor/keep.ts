import type { Tensor } from './tensor';

/** Marks a tensor to survive the tidy() scopes that would free it; free it with dispose(). */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}
