#include "convert.h"

#include <ATen/MemoryOverlap.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/empty.h>
#include <ATen/core/jit_type.h>
#include <c10/core/Device.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "guard.h"
#include "tensor.h"

namespace signin {

namespace {

struct DtypeEntry {
  const char* name;
  at::ScalarType type;
};

constexpr DtypeEntry kDtypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf},
    {"bfloat16", at::kBFloat16}, {"int64", at::kLong}, {"int32", at::kInt},
    {"int16", at::kShort}, {"int8", at::kChar}, {"uint8", at::kByte}, {"bool", at::kBool},
};

std::string ArgName(const c10::Argument& arg, const std::string& op) {
  return "'" + arg.name() + "' of " + op;
}

[[noreturn]] void Expected(const std::string& expected, const std::string& name, const Napi::Value& v) {
  throw ArgError("Expected " + expected + " for " + name + " but received " + DescribeJs(v));
}

}  // namespace

at::ScalarType ParseDtype(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  std::string names;
  for (const auto& d : kDtypes) names += std::string(names.empty() ? "" : ", ") + d.name;
  throw ArgError("Expected one of " + names + " for dtype but received '" + name + "'");
}

std::string DtypeName(at::ScalarType t) {
  for (const auto& d : kDtypes) {
    if (d.type == t) return d.name;
  }
  return c10::toString(t);
}

std::string DescribeJs(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return std::string(v.As<Napi::Boolean>() ? "true" : "false") + " of type boolean";
    case napi_number: return v.ToString().Utf8Value() + " of type number";
    case napi_string: return "'" + v.As<Napi::String>().Utf8Value() + "' of type string";
    case napi_bigint: return "a bigint";
    case napi_function: return "a function";
    case napi_object: return v.IsArray() ? "an array" : "an object";
    default: return "a value of unsupported type";
  }
}

int64_t ToInt(const Napi::Value& v, const std::string& name) {
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t r = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) Expected("an int64", name, v);
    return r;
  }
  if (!v.IsNumber()) Expected("an integer", name, v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0) {
    Expected("an integer", name, v);
  }
  return static_cast<int64_t>(d);
}

double ToDouble(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) Expected("a number", name, v);
  return v.As<Napi::Number>().DoubleValue();
}

bool ToBool(const Napi::Value& v, const std::string& name) {
  if (!v.IsBoolean()) Expected("a boolean", name, v);
  return v.As<Napi::Boolean>().Value();
}

size_t ReserveFor(uint32_t length) { return std::min<size_t>(length, 1024); }

std::vector<int64_t> ToIntList(const Napi::Value& v, const std::string& name) {
  if (!v.IsArray()) Expected("an array of integers", name, v);
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out;
  out.reserve(ReserveFor(arr.Length()));
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(ToInt(arr.Get(i), name + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<at::Tensor> ToTensorList(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsArray()) Expected("an array of tensors", name, v);
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(ReserveFor(arr.Length()));
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    out.push_back(NativeTensor::From(env, arr.Get(i), name + "[" + std::to_string(i) + "]"));
  }
  return out;
}

Napi::Array FromTensorList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    arr.Set(i, ts[i].defined() ? Napi::Value(NativeTensor::Wrap(env, ts[i])) : env.Undefined());
  }
  return arr;
}

namespace {

c10::IValue ScalarValue(const Napi::Value& v, const std::string& name) {
  if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
  if (v.IsBigInt()) return c10::IValue(ToInt(v, name));
  if (!v.IsNumber()) Expected("a number", name, v);
  double d = v.As<Napi::Number>().DoubleValue();
  // Integral numbers stay integral so that integer tensors keep their dtype.
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0) {
    return c10::IValue(static_cast<int64_t>(d));
  }
  return c10::IValue(d);
}

int64_t EnumValue(const Napi::Value& v, const c10::TypePtr& real, const std::string& name) {
  if (!v.IsString()) return ToInt(v, name);
  std::string s = v.As<Napi::String>().Utf8Value();
  switch (real->kind()) {
    case c10::TypeKind::ScalarTypeType: return static_cast<int64_t>(ParseDtype(s));
    case c10::TypeKind::MemoryFormatType:
      if (s == "contiguous") return static_cast<int64_t>(at::MemoryFormat::Contiguous);
      if (s == "preserve") return static_cast<int64_t>(at::MemoryFormat::Preserve);
      if (s == "channels_last") return static_cast<int64_t>(at::MemoryFormat::ChannelsLast);
      Expected("'contiguous', 'preserve' or 'channels_last'", name, v);
    case c10::TypeKind::LayoutType:
      if (s == "strided") return static_cast<int64_t>(at::kStrided);
      Expected("'strided'", name, v);
    default:
      Expected("an integer", name, v);
  }
}

c10::IValue Convert(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const c10::TypePtr& real,
                    c10::optional<int32_t> n, const std::string& name) {
  using K = c10::TypeKind;
  switch (type->kind()) {
    case K::OptionalType: {
      if (v.IsUndefined() || v.IsNull()) return c10::IValue();
      auto elem = type->castRaw<c10::OptionalType>()->getElementType();
      auto relem = real->kind() == K::OptionalType ? real->castRaw<c10::OptionalType>()->getElementType() : elem;
      return Convert(env, v, elem, relem, n, name);
    }
    case K::TensorType: return c10::IValue(NativeTensor::From(env, v, name));
    case K::IntType: return c10::IValue(EnumValue(v, real, name));
    case K::FloatType: return c10::IValue(ToDouble(v, name));
    case K::BoolType: return c10::IValue(ToBool(v, name));
    case K::NumberType: return ScalarValue(v, name);
    case K::StringType:
      if (!v.IsString()) Expected("a string", name, v);
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case K::DeviceObjType:
      if (!v.IsString()) Expected("a device string such as 'cpu' or 'cuda:0'", name, v);
      return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
    case K::GeneratorType:
      return c10::IValue(NativeGenerator::From(env, v));
    case K::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      // PyTorch accepts a single int for fixed-size int lists (stride=2 means [2, 2]).
      if (elem->kind() == K::IntType && (v.IsNumber() || v.IsBigInt()) && n) {
        return c10::IValue(std::vector<int64_t>(*n, ToInt(v, name)));
      }
      if (!v.IsArray()) Expected("an array", name, v);
      auto arr = v.As<Napi::Array>();
      auto item = [&](uint32_t i) { return name + "[" + std::to_string(i) + "]"; };
      switch (elem->kind()) {
        case K::IntType: return c10::IValue(ToIntList(v, name));
        case K::FloatType: {
          std::vector<double> out;
          out.reserve(ReserveFor(arr.Length()));
          for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(ToDouble(arr.Get(i), item(i)));
          return c10::IValue(out);
        }
        case K::BoolType: {
          c10::List<bool> out;
          for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(ToBool(arr.Get(i), item(i)));
          return c10::IValue(out);
        }
        case K::TensorType: return c10::IValue(ToTensorList(env, v, name));
        case K::OptionalType: {
          c10::List<c10::optional<at::Tensor>> out;
          for (uint32_t i = 0; i < arr.Length(); ++i) {
            auto e = arr.Get(i);
            if (e.IsUndefined() || e.IsNull()) {
              out.push_back(c10::nullopt);
            } else {
              out.push_back(NativeTensor::From(env, e, item(i)));
            }
          }
          return c10::IValue(out);
        }
        default: break;
      }
      break;
    }
    default: break;
  }
  throw ArgError("Unsupported argument type " + type->str() + " for " + name);
}

}  // namespace

c10::IValue ToIValue(Napi::Env env, const Napi::Value& v, const c10::Argument& arg, const std::string& op) {
  return Convert(env, v, arg.type(), arg.real_type(), arg.N(), ArgName(arg, op));
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isNone()) return env.Undefined();
  if (v.isTensor()) {
    const auto& t = v.toTensor();
    return t.defined() ? Napi::Value(NativeTensor::Wrap(env, t)) : env.Undefined();
  }
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTensorList()) return FromTensorList(env, v.toTensorVector());
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) arr.Set(i, FromIValue(env, elems[i]));
    return arr;
  }
  if (v.isList()) {
    auto list = v.toListRef();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(i, FromIValue(env, list[i]));
    return arr;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw ArgError("Unsupported return type " + v.tagKind());
}

namespace {

// V8's limit on a TypedArray's length (2^32 elements on 64-bit Node 20); beyond it V8 aborts the
// process instead of throwing.
constexpr int64_t kMaxTypedArrayLength = (int64_t{1} << 32) - 1;

// An ArrayBuffer over memory we allocated: V8's own allocation failure is fatal, malloc's is not.
Napi::ArrayBuffer NewArrayBuffer(Napi::Env env, size_t nbytes) {
  if (nbytes == 0) return Napi::ArrayBuffer::New(env, 0);
  void* data = std::malloc(nbytes);
  if (!data) {
    throw AddonError("Cannot allocate " + std::to_string(nbytes) + " bytes for the values of the tensor");
  }
  return Napi::ArrayBuffer::New(env, data, nbytes, [](Napi::Env, void* p) { std::free(p); });
}

}  // namespace

Napi::Value ToTypedArray(Napi::Env env, const at::Tensor& t) {
  if (t.numel() > kMaxTypedArrayLength) {
    throw ArgError("Expected a tensor of at most " + std::to_string(kMaxTypedArrayLength) +
                   " elements (the longest TypedArray) for data() but received one with " + std::to_string(t.numel()));
  }
  at::Tensor c = t.detach().to(at::kCPU);
  if (c.scalar_type() == at::kHalf || c.scalar_type() == at::kBFloat16) c = c.to(at::kFloat);
  c = c.contiguous();
  const size_t n = static_cast<size_t>(c.numel());
  const size_t nbytes = n * c.element_size();
  auto buf = NewArrayBuffer(env, nbytes);
  if (nbytes) std::memcpy(buf.Data(), c.data_ptr(), nbytes);
  switch (c.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(env, n, buf, 0);
    case at::kDouble: return Napi::Float64Array::New(env, n, buf, 0);
    case at::kLong: return Napi::TypedArrayOf<int64_t>::New(env, n, buf, 0, napi_bigint64_array);
    case at::kInt: return Napi::Int32Array::New(env, n, buf, 0);
    case at::kShort: return Napi::Int16Array::New(env, n, buf, 0);
    case at::kChar: return Napi::Int8Array::New(env, n, buf, 0);
    case at::kByte:
    case at::kBool: return Napi::Uint8Array::New(env, n, buf, 0);
    default: throw ArgError("Cannot read values of dtype " + DtypeName(c.scalar_type()));
  }
}

namespace {

struct PendingRelease {
  napi_env env;
  napi_ref ref;
};

std::mutex g_release_mutex;
std::vector<PendingRelease> g_pending;
// g_pending's size, read without the lock: every dispose() drains, and almost always finds
// nothing to do.
std::atomic<size_t> g_pending_count{0};

struct BufferKeeper {
  napi_env env;
  napi_ref ref;
  std::thread::id thread;
};

at::ScalarType TypedArrayDtype(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_bigint64_array: return at::kLong;
    case napi_int32_array: return at::kInt;
    case napi_int16_array: return at::kShort;
    case napi_int8_array: return at::kChar;
    case napi_uint8_array: return at::kByte;
    default:
      throw ArgError("Expected a Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, "
                     "Int8Array or Uint8Array for data but received another typed array");
  }
}

// ArrayBuffer.prototype's own `resizable` getter, so that a property defined on the buffer itself
// cannot hide that it is resizable.
bool IsResizable(Napi::Env env, const Napi::ArrayBuffer& buffer) {
  Napi::Value ctor = env.Global().Get("ArrayBuffer");
  if (!ctor.IsFunction()) return false;
  Napi::Value proto = ctor.As<Napi::Object>().Get("prototype");
  if (!proto.IsObject()) return false;
  Napi::Object object = env.Global().Get("Object").As<Napi::Object>();
  Napi::Value desc = object.Get("getOwnPropertyDescriptor").As<Napi::Function>().Call(object, {proto, Napi::String::New(env, "resizable")});
  if (!desc.IsObject()) return false;
  Napi::Value getter = desc.As<Napi::Object>().Get("get");
  if (!getter.IsFunction()) return false;
  return getter.As<Napi::Function>().Call(buffer, {}).ToBoolean().Value();
}

}  // namespace

void DrainReleasedBuffers(Napi::Env env) {
  if (g_pending_count.load(std::memory_order_acquire) == 0) return;
  std::vector<PendingRelease> mine;
  {
    std::lock_guard<std::mutex> lock(g_release_mutex);
    auto it = std::partition(g_pending.begin(), g_pending.end(),
                             [&](const PendingRelease& p) { return p.env != static_cast<napi_env>(env); });
    mine.assign(it, g_pending.end());
    g_pending.erase(it, g_pending.end());
    g_pending_count.store(g_pending.size(), std::memory_order_release);
  }
  for (auto& p : mine) napi_delete_reference(p.env, p.ref);
}

at::Tensor FromTypedArray(Napi::Env env, const Napi::TypedArray& arr, const std::vector<int64_t>& shape,
                          bool copy, const std::string& dtype) {
  DrainReleasedBuffers(env);
  at::ScalarType st = TypedArrayDtype(arr.TypedArrayType());
  if (!dtype.empty()) {
    at::ScalarType want = ParseDtype(dtype);
    if (want == at::kBool && st == at::kByte) {
      st = at::kBool;
    } else if (want != st) {
      throw ArgError("Expected dtype '" + DtypeName(st) + "' (the typed array's) for dtype but received '" +
                     dtype + "'");
    }
  }
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ArgError("Expected non-negative sizes for shape but received a negative size");
    // A wrapped product could match the data's length and make a view far larger than the buffer.
    if (__builtin_mul_overflow(numel, d, &numel)) {
      throw ArgError("Expected shape with " + std::to_string(arr.ElementLength()) +
                     " elements (the length of data) for shape but received one whose element count overflows int64");
    }
  }
  if (numel != static_cast<int64_t>(arr.ElementLength())) {
    throw ArgError("Expected shape with " + std::to_string(arr.ElementLength()) +
                   " elements (the length of data) for shape but received one with " + std::to_string(numel));
  }
  Napi::ArrayBuffer buffer = arr.ArrayBuffer();
  if (!buffer.IsArrayBuffer()) {
    throw ArgError("Expected a TypedArray over an ArrayBuffer for data but received one over a SharedArrayBuffer");
  }
  void* data = static_cast<uint8_t*>(buffer.Data()) + arr.ByteOffset();
  auto options = at::TensorOptions().dtype(st);
  // A resizable buffer can shrink or move under a view, so it is always copied. A plain buffer
  // can still be transferred (detached): the TS layer pins it with markAsUntransferable first.
  if (IsResizable(env, buffer)) copy = true;
  if (copy || numel == 0) {
    at::Tensor out = at::empty(shape, options);
    if (numel) std::memcpy(out.data_ptr(), data, arr.ByteLength());
    return out;
  }
  napi_ref ref;
  NAPI_THROW_IF_FAILED(env, napi_create_reference(env, arr, 1, &ref), at::Tensor());
  auto keeper = std::make_shared<BufferKeeper>(BufferKeeper{env, ref, std::this_thread::get_id()});
  // The JS buffer must outlive every view of the tensor; references may only be deleted on their
  // own thread, so frees on other threads are queued and drained on the next call from JS.
  auto deleter = [keeper](void*) {
    if (std::this_thread::get_id() == keeper->thread) {
      napi_delete_reference(keeper->env, keeper->ref);
    } else {
      std::lock_guard<std::mutex> lock(g_release_mutex);
      g_pending.push_back({keeper->env, keeper->ref});
      g_pending_count.store(g_pending.size(), std::memory_order_release);
    }
  };
  return at::from_blob(data, shape, deleter, options);
}

// ---------------------------------------------------------------------------------------------
// Argument objects of the fused kernels (optim/, signin/)

std::string ShapeString(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << "]";
  return out.str();
}

at::Tensor TensorValue(Napi::Env env, const Napi::Value& v, const std::string& name, bool optional) {
  if (v.IsUndefined() || v.IsNull()) {
    if (optional) return at::Tensor();
    throw ArgError("Expected a Tensor for " + name + " but received " + DescribeJs(v));
  }
  if (!NativeTensor::Is(env, v)) throw ArgError("Expected a Tensor for " + name + " but received " + DescribeJs(v));
  try {
    return NativeTensor::From(env, v, name);
  } catch (const DisposedError&) {
    throw CodedError(env,
                     "Expected a live Tensor for " + name +
                         " but received a disposed one (released by dispose() or by the tidy() scope that created it)",
                     "ERR_TENSOR_DISPOSED");
  }
}

at::Tensor TensorProp(Napi::Env env, const Napi::Object& obj, const std::string& key, const std::string& where,
                      bool optional) {
  return TensorValue(env, obj.Get(key), where + key, optional);
}

void CheckLike(const at::Tensor& t, const std::string& name, const at::Tensor& ref, const std::string& refName,
               bool sameDtype) {
  if (!t.sizes().equals(ref.sizes())) {
    throw ArgError("Expected " + name + " with the shape of " + refName + " " + ShapeString(ref.sizes()) +
                   " but received " + ShapeString(t.sizes()));
  }
  if (sameDtype && t.scalar_type() != ref.scalar_type()) {
    throw ArgError("Expected " + name + " with the dtype of " + refName + " (" + DtypeName(ref.scalar_type()) +
                   ") but received " + DtypeName(t.scalar_type()));
  }
  if (t.device() != ref.device()) {
    throw ArgError("Expected " + name + " on the device of " + refName + " (" + ref.device().str() +
                   ") but received a tensor on " + t.device().str());
  }
}

void CheckMask(const at::Tensor& mask, const std::string& name, const at::Tensor& ref, const std::string& refName) {
  CheckLike(mask, name, ref, refName, /*sameDtype=*/false);
  if (mask.scalar_type() != ref.scalar_type() && mask.scalar_type() != at::kBool) {
    throw ArgError("Expected " + name + " with the dtype of " + refName + " (" + DtypeName(ref.scalar_type()) +
                   ") or bool but received " + DtypeName(mask.scalar_type()));
  }
}

void CheckWritable(const at::Tensor& t, const std::string& name) {
  if (!t.defined()) return;
  if (t.layout() != at::kStrided) {
    throw ArgError("Expected a dense (strided) tensor for " + name + " but received a sparse or other non-strided one");
  }
  // An expanded tensor (stride 0) cannot be written in place; finding out midway through a step
  // would leave the tensors written before it updated and the rest not.
  if (at::has_internal_overlap(t) == at::MemOverlap::Yes) {
    throw ArgError("Expected " + name + " whose elements do not share memory (no stride 0, e.g. not from expand()) " +
                   "but received one with strides " + ShapeString(t.strides()));
  }
}

void CheckNoOverlap(const at::Tensor& a, const std::string& aName, const at::Tensor& b, const std::string& bName) {
  if (!a.defined() || !b.defined()) return;
  auto status = at::get_overlap_status(a, b);
  if (status == at::MemOverlapStatus::Full || status == at::MemOverlapStatus::Partial) {
    throw ArgError("Expected " + bName + " not to share memory with " + aName + " but it does");
  }
}

double NumberProp(const Napi::Object& obj, const std::string& key, const std::string& where, bool required,
                  double fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() && !required) return fallback;
  double d = ToDouble(v, where + key);
  if (!std::isfinite(d)) throw ArgError("Expected a finite number for " + where + key + " but received " + DescribeJs(v));
  return d;
}

bool BoolProp(const Napi::Object& obj, const std::string& key, const std::string& where, bool fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return fallback;
  return ToBool(v, where + key);
}

std::string FormatNumber(double d) {
  std::ostringstream out;
  out << d;
  return out.str();
}

Napi::Object ObjectArg(const Napi::Value& v, const std::string& name) {
  if (!v.IsObject() || v.IsArray()) throw ArgError("Expected an object for " + name + " but received " + DescribeJs(v));
  return v.As<Napi::Object>();
}



}  // namespace signin
