#include "tensor.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/TensorBody.h>
#include <ATen/ops/empty.h>
#include <torch/csrc/autograd/variable.h>

#include <mutex>

#include "convert.h"
#include "guard.h"
#include "slots.h"

namespace signin {

AddonData& Data(Napi::Env env) {
  auto* d = env.GetInstanceData<AddonData>();
  if (!d) throw ArgError("signin-torch addon is not initialized in this environment");
  return *d;
}

LiveCounters& Counters() {
  static LiveCounters counters;
  return counters;
}

namespace {

std::string ShapeOf(const at::Tensor& t) {
  std::string out = "[";
  for (size_t i = 0; i < t.sizes().size(); ++i) out += (i ? ", " : "") + std::to_string(t.sizes()[i]);
  return out + "]";
}

// Seeds are uint64 in libtorch: a negative one would silently wrap to 2^64 - |seed|.
uint64_t SeedArg(const Napi::Value& v) {
  int64_t seed = ToInt(v, "seed");
  if (seed < 0) throw ArgError("Expected a non-negative integer for seed but received " + std::to_string(seed));
  return static_cast<uint64_t>(seed);
}

}  // namespace

// Configurable methods: src/native/guard.ts wraps each once, at load, in the TS error boundary.
Napi::Function NativeTensor::Define(Napi::Env env) {
  auto method = [](const char* name, Napi::Value (NativeTensor::*fn)(const Napi::CallbackInfo&)) {
    return InstanceMethod(name, fn, napi_default_method);
  };
  return DefineClass(env, "NativeTensor",
                     {
                         method("dispose", &NativeTensor::Dispose),
                         method("isDisposed", &NativeTensor::IsDisposed),
                         method("shape", &NativeTensor::Shape),
                         method("dtype", &NativeTensor::Dtype),
                         method("device", &NativeTensor::Device),
                         method("numel", &NativeTensor::Numel),
                         method("requiresGrad", &NativeTensor::RequiresGrad),
                         method("setRequiresGrad", &NativeTensor::SetRequiresGrad),
                         method("grad", &NativeTensor::Grad),
                         method("setGrad", &NativeTensor::SetGrad),
                         method("isLeaf", &NativeTensor::IsLeaf),
                         method("toTypedArray", &NativeTensor::ToTypedArray),
                         method("item", &NativeTensor::Item),
                         method("sameStorage", &NativeTensor::SameStorage),
                     });
}

namespace {

// The tensor that Wrap() hands to the constructor. A napi External would cost a global handle
// and a finalizer for every tensor created; JS calls run on one thread per environment, and
// the constructor takes the pointer before any other JS can run.
thread_local at::Tensor* t_wrapping = nullptr;

}  // namespace

Napi::Object NativeTensor::Wrap(Napi::Env env, at::Tensor t) {
  t_wrapping = &t;
  struct Reset {
    ~Reset() { t_wrapping = nullptr; }
  } reset;
  return Data(env).tensorClass.New({});
}

// A prototype comparison rather than InstanceOf, which looks up Symbol.hasInstance and walks the
// chain on every call (about 5% of a small add in perf, for its two operands). Handles are made
// only by Wrap, so a handle's prototype is NativeTensor.prototype; an object merely made with that
// prototype (Object.create) holds no tensor, and napi_unwrap refuses it.
NativeTensor* NativeTensor::Find(Napi::Env env, const Napi::Value& v) {
  if (v.Type() != napi_object) return nullptr;
  napi_value proto;
  bool same = false;
  if (napi_get_prototype(env, v, &proto) != napi_ok) return nullptr;
  if (napi_strict_equals(env, proto, Data(env).tensorPrototype.Value(), &same) != napi_ok || !same) return nullptr;
  void* p = nullptr;
  if (napi_unwrap(env, v, &p) != napi_ok) return nullptr;
  return static_cast<NativeTensor*>(p);
}

bool NativeTensor::Is(Napi::Env env, const Napi::Value& v) { return Find(env, v) != nullptr; }

const at::Tensor& NativeTensor::From(Napi::Env env, const Napi::Value& v, const std::string& name) {
  NativeTensor* t = Find(env, v);
  if (!t) throw ArgError("Expected a Tensor for " + name + " but received " + DescribeJs(v));
  return t->tensor();
}

NativeTensor::NativeTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeTensor>(info) {
  if (!t_wrapping) {
    Napi::Error err = Napi::TypeError::New(info.Env(), "NativeTensor cannot be constructed from JS; use the tensor factories");
    err.Set("code", Napi::String::New(info.Env(), "ERR_INVALID_ARG"));
    throw err;
  }
  tensor_ = std::move(*t_wrapping);
  t_wrapping = nullptr;
  bytes_ = BytesOf(tensor_);
  Counters().tensors++;
  Counters().bytes += bytes_;
  // Storage is deliberately not reported to V8 as external memory: a training step creates and
  // disposes hundreds of MB of activations, and reporting them made V8 run ~2 full mark-compact
  // GCs per ResNet-20 step (2-10 ms each), a few percent of the step. Lifetimes are tidy()'s job;
  // the caching allocator keeps the memory and cpuMemoryStats() shows it.
}

NativeTensor::~NativeTensor() {
  Release();
  if (alias_ >= 0 && SlotsAlive()) Slots().FreeAlias(alias_);
}

void NativeTensor::Release() {
  if (disposed_) return;
  disposed_ = true;
  Counters().tensors--;
  Counters().bytes -= bytes_;
  tensor_ = at::Tensor();
  if (alias_ >= 0 && SlotsAlive()) Slots().KillAlias(alias_);
}

int32_t NativeTensor::Alias() {
  const at::Tensor& t = tensor();
  if (alias_ < 0) alias_ = Slots().PutAlias(t);
  return alias_;
}

const at::Tensor& NativeTensor::tensor() const {
  if (disposed_) throw DisposedError();
  return tensor_;
}

Napi::Value NativeTensor::Dispose(const Napi::CallbackInfo& info) {
  Release();
  DrainReleasedBuffers(info.Env());
  return info.Env().Undefined();
}

Napi::Value NativeTensor::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), disposed_);
}

Napi::Value NativeTensor::Shape(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    auto sizes = tensor().sizes();
    auto arr = Napi::Array::New(info.Env(), sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) arr.Set(i, Napi::Number::New(info.Env(), sizes[i]));
    return Napi::Value(arr);
  });
}

Napi::Value NativeTensor::Dtype(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Value(Napi::String::New(info.Env(), DtypeName(tensor().scalar_type()))); });
}

Napi::Value NativeTensor::Device(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Value(Napi::String::New(info.Env(), tensor().device().str())); });
}

Napi::Value NativeTensor::Numel(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Value(Napi::Number::New(info.Env(), tensor().numel())); });
}

Napi::Value NativeTensor::RequiresGrad(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Value(Napi::Boolean::New(info.Env(), tensor().requires_grad())); });
}

Napi::Value NativeTensor::SetRequiresGrad(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    at::Tensor t = tensor();
    t.requires_grad_(ToBool(info[0], "requiresGrad"));
    return info.Env().Undefined();
  });
}

Napi::Value NativeTensor::Grad(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    const at::Tensor& g = tensor().grad();
    return g.defined() ? Napi::Value(Wrap(info.Env(), g)) : info.Env().Undefined();
  });
}

Napi::Value NativeTensor::SetGrad(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    at::Tensor t = tensor();
    if (info[0].IsUndefined() || info[0].IsNull()) {
      t.mutable_grad() = at::Tensor();
    } else {
      const at::Tensor& g = From(info.Env(), info[0], "grad");
      // libtorch checks these only when backward next accumulates, far from the mistake.
      if (!g.sizes().equals(t.sizes()) || g.scalar_type() != t.scalar_type() || g.device() != t.device()) {
        throw ArgError("Expected a gradient of shape " + ShapeOf(t) + ", dtype " + DtypeName(t.scalar_type()) +
                       " and device " + t.device().str() + " (the tensor's) for grad but received shape " +
                       ShapeOf(g) + ", dtype " + DtypeName(g.scalar_type()) + " and device " + g.device().str());
      }
      t.mutable_grad() = g;
    }
    return info.Env().Undefined();
  });
}

Napi::Value NativeTensor::IsLeaf(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Value(Napi::Boolean::New(info.Env(), tensor().is_leaf())); });
}

Napi::Value NativeTensor::ToTypedArray(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return signin::ToTypedArray(info.Env(), tensor()); });
}

Napi::Value NativeTensor::Item(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    const at::Tensor& t = tensor();
    if (t.numel() != 1) {
      throw ArgError("Expected a tensor with one element for item() but received one with " +
                     std::to_string(t.numel()));
    }
    c10::Scalar s = t.item();
    if (s.isBoolean()) return Napi::Value(Napi::Boolean::New(info.Env(), s.toBool()));
    return Napi::Value(Napi::Number::New(info.Env(), s.toDouble()));
  });
}

Napi::Value NativeTensor::SameStorage(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    const at::Tensor& other = From(info.Env(), info[0], "other");
    return Napi::Value(Napi::Boolean::New(info.Env(), tensor().is_alias_of(other)));
  });
}

Napi::Function NativeGenerator::Define(Napi::Env env) {
  return DefineClass(env, "NativeGenerator",
                     {
                         InstanceMethod("manualSeed", &NativeGenerator::ManualSeed, napi_default_method),
                         InstanceMethod("initialSeed", &NativeGenerator::InitialSeed, napi_default_method),
                         InstanceMethod("getState", &NativeGenerator::GetState, napi_default_method),
                         InstanceMethod("setState", &NativeGenerator::SetState, napi_default_method),
                     });
}

bool NativeGenerator::Is(Napi::Env env, const Napi::Value& v) {
  return v.IsObject() && v.As<Napi::Object>().InstanceOf(Data(env).generatorClass.Value());
}

at::Generator NativeGenerator::From(Napi::Env env, const Napi::Value& v) {
  if (!Is(env, v)) throw ArgError("Expected a Generator for generator but received " + DescribeJs(v));
  return Unwrap(v.As<Napi::Object>())->generator;
}

NativeGenerator::NativeGenerator(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeGenerator>(info) {
  Guarded(info.Env(), [&] {
    generator = at::detail::createCPUGenerator(SeedArg(info[0]));
    return info.Env().Undefined();
  });
}

Napi::Value NativeGenerator::ManualSeed(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    uint64_t seed = SeedArg(info[0]);
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(seed);
    return info.Env().Undefined();
  });
}

Napi::Value NativeGenerator::InitialSeed(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(generator.current_seed()));
}

Napi::Value GeneratorGetState(Napi::Env env, at::Generator gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return NativeTensor::Wrap(env, gen.get_state());
}

void GeneratorSetState(at::Generator gen, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

Napi::Value NativeGenerator::GetState(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return GeneratorGetState(info.Env(), generator); });
}

Napi::Value NativeGenerator::SetState(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] {
    GeneratorSetState(generator, NativeTensor::From(info.Env(), info[0], "state"));
    return info.Env().Undefined();
  });
}

}  // namespace signin
