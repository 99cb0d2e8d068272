export { cudaSynchronize, cudaMemoryStats, cudaResetPeakMemoryStats } from './device';
export type { CudaMemoryStats } from './device';
