/**
 * SIGNIN_TORCH_CPU_ALLOCATOR, checked before the addon loads: the addon installs its caching CPU
 * allocator at load unless the variable is exactly 'system', so a typo ('sytem', 'malloc') would
 * silently measure the caching one in an A/B run.
 */
import { ToolkitError } from '../errors';
import { quoteText } from '../quote';

export type CpuAllocatorChoice = 'caching' | 'system';

/** The CPU allocator SIGNIN_TORCH_CPU_ALLOCATOR names ('caching' when unset or empty). */
export function cpuAllocatorFromEnv(): CpuAllocatorChoice {
  const v = process.env.SIGNIN_TORCH_CPU_ALLOCATOR;
  if (v === undefined || v === '' || v === 'caching') return 'caching';
  if (v === 'system') return v;
  throw new ToolkitError('ERR_INVALID_ARG', `Expected environment variable SIGNIN_TORCH_CPU_ALLOCATOR to be 'caching' (the toolkit's caching allocator, also when unset or empty) or 'system' (c10's own) but it is ${quoteText(v)}`);
}
