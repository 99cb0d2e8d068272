// CUDA device queries for benchmarks and tests. Compiled in every build: without CUDA the
// memory functions throw a clear error, and synchronize is libtorch's (which throws likewise).
#pragma once

#include <napi.h>

namespace signin {

// cudaSynchronize(device?: number): waits for every stream of the device (default: current).
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info);
// cudaMemoryStats(device: number): the caching allocator's { allocatedBytes, peakAllocatedBytes,
// reservedBytes, peakReservedBytes } (torch.cuda.memory_allocated / max_memory_allocated ...).
Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info);
// cudaResetPeakMemoryStats(device: number).
Napi::Value CudaResetPeakMemoryStats(const Napi::CallbackInfo& info);
// setAllowTF32(enabled: boolean): TensorFloat-32 in cuDNN convolutions and cuBLAS matmuls
// (torch.backends.cudnn.allow_tf32 / torch.backends.cuda.matmul.allow_tf32); returns the
// previous { cudnn, cublas }. libtorch's defaults: cuDNN on, cuBLAS off.
Napi::Value SetAllowTF32(const Napi::CallbackInfo& info);

}  // namespace signin
