#include "cuda/device.h"

#include <ATen/Context.h>
#include <torch/csrc/api/include/torch/cuda.h>

#ifdef SIGNIN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <string>

#include "convert.h"
#include "guard.h"

namespace signin {

namespace {

int DeviceIndex(const Napi::Value& v) {
  int64_t n = static_cast<int64_t>(torch::cuda::device_count());
  if (n == 0) throw ArgError("No CUDA device is visible (torch::cuda::device_count() is 0) for this CUDA call");
  int64_t d = ToInt(v, "device");
  if (d < 0 || d >= n) {
    throw ArgError("Expected a CUDA device index in [0, " + std::to_string(n - 1) + "] for device but received " + std::to_string(d));
  }
  return static_cast<int>(d);
}

}  // namespace

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  torch::cuda::synchronize(info[0].IsUndefined() ? -1 : DeviceIndex(info[0]));
  return info.Env().Undefined();
}

Napi::Value SetAllowTF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool enabled = ToBool(info[0], "enabled");
  auto& ctx = at::globalContext();
  auto previous = Napi::Object::New(env);
  previous.Set("cudnn", Napi::Boolean::New(env, ctx.allowTF32CuDNN()));
  previous.Set("cublas", Napi::Boolean::New(env, ctx.allowTF32CuBLAS()));
  ctx.setAllowTF32CuDNN(enabled);
  ctx.setAllowTF32CuBLAS(enabled);
  return previous;
}

#ifdef SIGNIN_WITH_CUDA

Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Index 0 of each stat array is the aggregate over pool kinds (StatType::AGGREGATE), a name
  // that moved namespaces between libtorch 1.13 and 2.x.
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(DeviceIndex(info[0]));
  auto out = Napi::Object::New(env);
  auto num = [&](int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
  out.Set("allocatedBytes", num(stats.allocated_bytes[0].current));
  out.Set("peakAllocatedBytes", num(stats.allocated_bytes[0].peak));
  out.Set("reservedBytes", num(stats.reserved_bytes[0].current));
  out.Set("peakReservedBytes", num(stats.reserved_bytes[0].peak));
  return out;
}

Napi::Value CudaResetPeakMemoryStats(const Napi::CallbackInfo& info) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(DeviceIndex(info[0]));
  return info.Env().Undefined();
}

#else

Napi::Value CudaMemoryStats(const Napi::CallbackInfo&) {
  throw ArgError("This build of signin-torch has no CUDA: rebuild it against a libtorch with CUDA for cudaMemoryStats");
}

Napi::Value CudaResetPeakMemoryStats(const Napi::CallbackInfo&) {
  throw ArgError("This build of signin-torch has no CUDA: rebuild it against a libtorch with CUDA for cudaResetPeakMemoryStats");
}

#endif

}  // namespace signin
