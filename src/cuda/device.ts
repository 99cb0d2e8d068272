/**
 * CUDA device controls for timing and memory measurement: synchronize before reading a clock,
 * and the caching allocator's counters (torch.cuda.synchronize, memory_allocated,
 * max_memory_allocated, reset_peak_memory_stats). Without CUDA they throw ERR_INVALID_ARG
 * (no device) or ERR_TORCH (a build without CUDA).
 */
import { native } from '../native';
import { bool, int } from '../validate';

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
  setAllowTF32(enabled: boolean): { cudnn: boolean; cublas: boolean };
}

function binding(): CudaBinding {
  return native() as unknown as CudaBinding;
}

/** Waits until every queued kernel of `device` (default: the current device) has finished. */
export function cudaSynchronize(device?: number): void {
  if (device !== undefined) int('device', device, 0);
  binding().cudaSynchronize(device);
}

export function cudaMemoryStats(device = 0): CudaMemoryStats {
  int('device', device, 0);
  return binding().cudaMemoryStats(device);
}

export function cudaResetPeakMemoryStats(device = 0): void {
  int('device', device, 0);
  binding().cudaResetPeakMemoryStats(device);
}

/**
 * Turns TensorFloat-32 on or off for cuDNN convolutions and cuBLAS matmuls (libtorch's defaults:
 * on for cuDNN, off for cuBLAS, as PyTorch). Off makes CUDA float32 results comparable with the
 * CPU's at float32 tolerance. Returns the previous settings.
 */
export function setAllowTF32(enabled: boolean): { cudnn: boolean; cublas: boolean } {
  bool('enabled', enabled);
  return binding().setAllowTF32(enabled);
}
