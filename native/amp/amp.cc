// Autocast for the forward pass. libtorch keeps the autocast switches in thread-local state, and
// every op of this addon runs on the JS thread, so enabling it here affects exactly the ops that
// the JS code calls until autocastExit. libtorch 2.4 replaced the per-device functions
// (set_enabled / set_cpu_enabled / set_autocast_cpu_dtype ...) by ones taking the device type.
#include "amp/amp.h"

#include <ATen/autocast_mode.h>

#include "convert.h"
#include "guard.h"
#include "torch_compat.h"

namespace signin {

namespace {

c10::DeviceType AutocastDevice(const Napi::Value& v) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "cpu") return c10::DeviceType::CPU;
  if (s == "cuda") return c10::DeviceType::CUDA;
  throw ArgError("Expected 'cpu' or 'cuda' for device but received " + DescribeJs(v));
}

bool IsEnabled(c10::DeviceType d) {
#if SIGNIN_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(d);
#else
  return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void SetEnabled(c10::DeviceType d, bool enabled) {
#if SIGNIN_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(d, enabled);
#else
  if (d == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(enabled);
  } else {
    at::autocast::set_enabled(enabled);
  }
#endif
}

at::ScalarType GetDtype(c10::DeviceType d) {
#if SIGNIN_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(d);
#else
  return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

void SetDtype(c10::DeviceType d, at::ScalarType t) {
#if SIGNIN_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(d, t);
#else
  if (d == c10::DeviceType::CPU) {
    at::autocast::set_autocast_cpu_dtype(t);
  } else {
    at::autocast::set_autocast_gpu_dtype(t);
  }
#endif
}

at::ScalarType LowerPrecision(const Napi::Value& v, const std::string& name) {
  if (!v.IsString()) throw ArgError("Expected 'bfloat16' or 'float16' for " + name + " but received " + DescribeJs(v));
  at::ScalarType t = ParseDtype(v.As<Napi::String>().Utf8Value());
  if (t != at::kBFloat16 && t != at::kHalf) {
    throw ArgError("Expected 'bfloat16' or 'float16' for " + name + " but received '" + DtypeName(t) + "'");
  }
  return t;
}

}  // namespace

Napi::Value AutocastEnter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  c10::DeviceType d = AutocastDevice(info[0]);
  at::ScalarType dtype = LowerPrecision(info[1], "dtype");
  auto previous = Napi::Object::New(env);
  previous.Set("enabled", Napi::Boolean::New(env, IsEnabled(d)));
  previous.Set("dtype", Napi::String::New(env, DtypeName(GetDtype(d))));
  SetEnabled(d, true);
  SetDtype(d, dtype);
  at::autocast::increment_nesting();
  return previous;
}

Napi::Value AutocastExit(const Napi::CallbackInfo& info) {
  c10::DeviceType d = AutocastDevice(info[0]);
  bool enabled = ToBool(info[1], "previousEnabled");
  at::ScalarType dtype = LowerPrecision(info[2], "previousDtype");
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetEnabled(d, enabled);
  SetDtype(d, dtype);
  return info.Env().Undefined();
}

Napi::Value AutocastState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("cpu", Napi::Boolean::New(env, IsEnabled(c10::DeviceType::CPU)));
  out.Set("cuda", Napi::Boolean::New(env, IsEnabled(c10::DeviceType::CUDA)));
  out.Set("cpuDtype", Napi::String::New(env, DtypeName(GetDtype(c10::DeviceType::CPU))));
  out.Set("cudaDtype", Napi::String::New(env, DtypeName(GetDtype(c10::DeviceType::CUDA))));
  return out;
}

}  // namespace signin
