/**
 * The CPU allocator behind every tensor (native/memory/cpu_allocator.cc): large blocks are
 * mapped once and reused by size class, so a steady training loop maps nothing new after its
 * first step. These are its counters and controls.
 */
import { InvalidArgumentError } from '../errors';
import { native } from '../native';
import type { CpuMemoryStats } from '../native/binding';

export type { CpuMemoryStats };

export function cpuMemoryStats(): CpuMemoryStats {
  return native().cpuMemoryStats();
}

/** Returns every cached block to the OS (blocks in use stay). */
export function emptyCpuCache(): void {
  native().emptyCpuCache();
}

/** Caps the bytes kept cached (default: a quarter of physical memory). */
export function setCpuCacheLimit(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new InvalidArgumentError('bytes', 'a non-negative safe integer', bytes);
  }
  native().setCpuCacheLimit(bytes);
}
