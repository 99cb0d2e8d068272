/**
 * CUDA device controls for timing and memory measurement: synchronize before reading a clock,
 * and the caching allocator's counters (torch.cuda.synchronize, memory_allocated,
 * max_memory_allocated, reset_peak_memory_stats). Without CUDA they throw ERR_INVALID_ARG
 * (no device) or ERR_TORCH (a build without CUDA).
 */
import { fromNative } from '../errors';
import { native } from '../native';
import { int } from '../validate';

export interface CudaMemoryStats {
  allocatedBytes: number;
  peakAllocatedBytes: number;
  reservedBytes: number;
  peakReservedBytes: number;
}

interface CudaBinding {
  cudaSynchronize(device?: number): void;
  cudaMemoryStats(device: number): CudaMemoryStats;
  cudaResetPeakMemoryStats(device: number): void;
}

function binding(): CudaBinding {
  return native() as unknown as CudaBinding;
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

/** Waits until every queued kernel of `device` (default: the current device) has finished. */
export function cudaSynchronize(device?: number): void {
  if (device !== undefined) int('device', device, 0);
  guarded(() => binding().cudaSynchronize(device));
}

export function cudaMemoryStats(device = 0): CudaMemoryStats {
  int('device', device, 0);
  return guarded(() => binding().cudaMemoryStats(device));
}

export function cudaResetPeakMemoryStats(device = 0): void {
  int('device', device, 0);
  guarded(() => binding().cudaResetPeakMemoryStats(device));
}
