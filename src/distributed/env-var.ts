/**
 * Integer environment variables as torch reads them (Python's int(): optional sign and blanks
 * around decimal digits), for torchrun's variables and srun's alike.
 */
import { ToolkitError } from '../errors';

/** ERR_INVALID_ARG naming variable `name`; `unsetWhy` says what it is and who sets it, shown when unset. */
export function envVarError(name: string, expected: string, raw: string | undefined, unsetWhy?: string): ToolkitError {
  const why = raw === undefined && unsetWhy ? ` (${unsetWhy})` : '';
  return new ToolkitError('ERR_INVALID_ARG', `Expected environment variable ${name} to be ${expected} but it is ${raw === undefined ? 'unset' : `'${raw}'`}${why}`);
}

/** An integer environment variable in [min, max]; envVarError otherwise, `expected` replacing the range's wording. */
export function intVar(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER, unsetWhy?: string, expected?: string): number {
  const raw = env[name];
  const v = Number(raw);
  if (raw === undefined || !/^\s*[+-]?\d+\s*$/.test(raw) || v < min || v > max) throw envVarError(name, expected ?? `an integer in [${min}, ${max}]`, raw, unsetWhy);
  return v || 0; // '-0' is 0, as in Python
}
