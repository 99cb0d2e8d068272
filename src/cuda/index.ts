export { cudaSynchronize, cudaMemoryStats, cudaResetPeakMemoryStats, setAllowTF32 } from './device';
export type { CudaMemoryStats } from './device';
