// Autograd entry points, grad mode, RNG, threads and device queries.
#include "exports.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/cuda.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <thread>

#include "convert.h"
#include "guard.h"
#include "tensor.h"

namespace signin {

namespace {

std::vector<at::Tensor> OptionalTensorList(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (v.IsUndefined() || v.IsNull()) return {};
  return ToTensorList(env, v, name);
}

// More intra-op threads than twice the logical CPUs only add contention; far more (64 on a 2-core
// machine) make libgomp hang or fail to create threads, which kills the process.
int64_t MaxThreads() {
  return 2 * std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
}

bool OptionalBool(const Napi::Value& v, const std::string& name, bool fallback) {
  return v.IsUndefined() ? fallback : ToBool(v, name);
}

}  // namespace

Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto outputs = ToTensorList(env, info[0], "tensors");
  auto grads = OptionalTensorList(env, info[1], "gradTensors");
  bool create = OptionalBool(info[3], "createGraph", false);
  c10::optional<bool> retain;
  if (!info[2].IsUndefined()) retain = ToBool(info[2], "retainGraph");
  torch::autograd::backward(outputs, grads, retain, create);
  return env.Undefined();
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto outputs = ToTensorList(env, info[0], "outputs");
  auto inputs = ToTensorList(env, info[1], "inputs");
  auto grads = OptionalTensorList(env, info[2], "gradOutputs");
  bool create = OptionalBool(info[4], "createGraph", false);
  c10::optional<bool> retain;
  if (!info[3].IsUndefined()) retain = ToBool(info[3], "retainGraph");
  bool allowUnused = OptionalBool(info[5], "allowUnused", false);
  auto result = torch::autograd::grad(outputs, inputs, grads, retain, create, allowUnused);
  return FromTensorList(env, result);
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(ToBool(info[0], "enabled"));
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  int64_t seed = ToInt(info[0], "seed");
  if (seed < 0) throw ArgError("Expected a non-negative integer for seed but received " + std::to_string(seed));
  at::manual_seed(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}

Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  return GeneratorGetState(info.Env(), at::detail::getDefaultCPUGenerator());
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  GeneratorSetState(at::detail::getDefaultCPUGenerator(), NativeTensor::From(info.Env(), info[0], "state"));
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int64_t n = ToInt(info[0], "threads");
  const int64_t max = MaxThreads();
  if (n < 1 || n > max) {
    throw ArgError("Expected an integer in [1, " + std::to_string(max) + "] (twice this machine's " +
                   std::to_string(max / 2) + " logical CPUs) for threads but received " + std::to_string(n));
  }
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  auto out = Napi::Object::New(info.Env());
  out.Set("numTensors", Napi::Number::New(info.Env(), static_cast<double>(Counters().tensors.load())));
  out.Set("numBytes", Napi::Number::New(info.Env(), static_cast<double>(Counters().bytes.load())));
  return out;
}

Napi::Value HasMkldnn(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasMKLDNN());
}

Napi::Value TorchVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TORCH_VERSION);
}

Napi::Value FromTypedArrayExport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw ArgError("Expected a TypedArray for data but received " + DescribeJs(info[0]));
  auto shape = ToIntList(info[1], "shape");
  bool copy = OptionalBool(info[2], "copy", true);
  if (!info[3].IsUndefined() && !info[3].IsString()) {
    throw ArgError("Expected a dtype name or undefined for dtype but received " + DescribeJs(info[3]));
  }
  std::string dtype = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
  return NativeTensor::Wrap(env, FromTypedArray(env, info[0].As<Napi::TypedArray>(), shape, copy, dtype));
}

}  // namespace signin
