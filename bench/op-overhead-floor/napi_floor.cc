// The N-API floor under one op call, without libtorch (bench/op-overhead-floor.ts builds and
// times it): an empty call, the ways a result can come back (a number, a plain object, an
// ObjectWrap instance like NativeTensor's), and finding the native object behind an argument.
// Built twice: with NAPI_VERSION=8 as the addon is (finalizers queued to the event loop) and
// with NAPI_EXPERIMENTAL (ObjectWrap's basic finalizer runs inside the GC).
#include <napi.h>

#include <cstdint>
#include <vector>

namespace {

int64_t g_live = 0;

// Stands in for NativeTensor: a few words of native state per JS object.
class Handle : public Napi::ObjectWrap<Handle> {
 public:
  static Napi::FunctionReference* ctor;
  explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Handle>(info) { ++g_live; }
  ~Handle() override { --g_live; }
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Handle", {InstanceMethod("dispose", &Handle::Dispose)});
  }

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
  void* payload_[4] = {};
};
Napi::FunctionReference* Handle::ctor = nullptr;

napi_ref g_proto = nullptr;
std::vector<int64_t> g_slots;

Napi::Value Noop(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

// An empty call on the raw C API: no CallbackInfo (napi_get_cb_info for 6 arguments).
napi_value RawNoop(napi_env env, napi_callback_info) { return nullptr; }

// Four arguments read, as binaryOp does (code, self, other, alpha).
Napi::Value FourArgs(const Napi::CallbackInfo& info) {
  double s = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (info[i].IsNumber()) s += info[i].As<Napi::Number>().DoubleValue();
  }
  return Napi::Number::New(info.Env(), s);
}

Napi::Value NewWrap(const Napi::CallbackInfo& info) { return Handle::ctor->New({}); }

Napi::Value NewObject(const Napi::CallbackInfo& info) { return Napi::Object::New(info.Env()); }

// The slot-table model: the result is an integer (a V8 small integer, no allocation).
Napi::Value NewSlot(const Napi::CallbackInfo& info) {
  g_slots.push_back(1);
  int32_t id = static_cast<int32_t>(g_slots.size() - 1);
  if (g_slots.size() > 1024) g_slots.clear();
  return Napi::Number::New(info.Env(), id);
}

// NativeTensor::Find's checks: type, prototype identity, unwrap.
Napi::Value FindWrap(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  napi_value v = info[0];
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_object) return Napi::Boolean::New(env, false);
  napi_value proto, want;
  bool same = false;
  napi_get_prototype(env, v, &proto);
  napi_get_reference_value(env, g_proto, &want);
  napi_strict_equals(env, proto, want, &same);
  void* p = nullptr;
  if (same) napi_unwrap(env, v, &p);
  return Napi::Boolean::New(env, p != nullptr);
}

Napi::Value Live(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(g_live)); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = Handle::Define(env);
  Handle::ctor = new Napi::FunctionReference(Napi::Persistent(cls));
  napi_create_reference(env, cls.Get("prototype"), 1, &g_proto);
  exports.Set("Handle", cls);
  exports.Set("noop", Napi::Function::New(env, Noop, "noop"));
  napi_value raw;
  napi_create_function(env, "rawNoop", NAPI_AUTO_LENGTH, RawNoop, nullptr, &raw);
  exports.Set("rawNoop", raw);
  exports.Set("fourArgs", Napi::Function::New(env, FourArgs, "fourArgs"));
  exports.Set("newWrap", Napi::Function::New(env, NewWrap, "newWrap"));
  exports.Set("newObject", Napi::Function::New(env, NewObject, "newObject"));
  exports.Set("newSlot", Napi::Function::New(env, NewSlot, "newSlot"));
  exports.Set("findWrap", Napi::Function::New(env, FindWrap, "findWrap"));
  exports.Set("live", Napi::Function::New(env, Live, "live"));
  return exports;
}

}  // namespace

NODE_API_MODULE(napi_floor, Init)
