// The JS handle over one at::Tensor, and the per-environment state of the addon.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>
#include <ATen/core/Generator.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <atomic>
#include <vector>

namespace signin {

struct AddonData {
  Napi::FunctionReference tensorClass;
  // NativeTensor.prototype, which NativeTensor::Find compares with.
  Napi::ObjectReference tensorPrototype;
  Napi::FunctionReference generatorClass;
  std::vector<c10::OperatorHandle> ops;
};

AddonData& Data(Napi::Env env);

// Process-wide counts of live handles and of the bytes they were created with; memory() in TS
// reads these, and leak tests assert on them.
struct LiveCounters {
  std::atomic<int64_t> tensors{0};
  std::atomic<int64_t> bytes{0};
};
LiveCounters& Counters();

// The bytes a live handle counts for its tensor (0 for an undefined one).
inline int64_t BytesOf(const at::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

class NativeTensor : public Napi::ObjectWrap<NativeTensor> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, at::Tensor t);
  static bool Is(Napi::Env env, const Napi::Value& v);
  // The NativeTensor behind v, or nullptr when v is not one.
  static NativeTensor* Find(Napi::Env env, const Napi::Value& v);
  // The tensor behind a JS value; `name` appears in the error when v is not a live handle.
  static const at::Tensor& From(Napi::Env env, const Napi::Value& v, const std::string& name);

  explicit NativeTensor(const Napi::CallbackInfo& info);
  ~NativeTensor() override;

  const at::Tensor& tensor() const;
  // This handle's alias slot (native/slots.h), made on the first call; -1 when the table is full.
  int32_t Alias();

 private:
  void Release();
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value Grad(const Napi::CallbackInfo& info);
  Napi::Value SetGrad(const Napi::CallbackInfo& info);
  Napi::Value IsLeaf(const Napi::CallbackInfo& info);
  Napi::Value ToTypedArray(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  Napi::Value SameStorage(const Napi::CallbackInfo& info);

  at::Tensor tensor_;
  int64_t bytes_ = 0;
  int32_t alias_ = -1;
  bool disposed_ = false;
};

class NativeGenerator : public Napi::ObjectWrap<NativeGenerator> {
 public:
  static Napi::Function Define(Napi::Env env);
  static bool Is(Napi::Env env, const Napi::Value& v);
  static at::Generator From(Napi::Env env, const Napi::Value& v);
  explicit NativeGenerator(const Napi::CallbackInfo& info);
  at::Generator generator;

 private:
  Napi::Value ManualSeed(const Napi::CallbackInfo& info);
  Napi::Value InitialSeed(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value SetState(const Napi::CallbackInfo& info);
};

// Generator state as a uint8 tensor (for checkpoints); shared by the default and own generators.
Napi::Value GeneratorGetState(Napi::Env env, at::Generator gen);
void GeneratorSetState(at::Generator gen, const at::Tensor& state);

}  // namespace signin
