import { InvalidArgumentError } from '../errors';
import { Tensor } from './tensor';

/** Marks a tensor to survive the tidy() scopes that would free it; free it with dispose(). */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new InvalidArgumentError('t', 'Tensor', t);
  t.kept = true;
  t.unscoped();
  return t;
}
