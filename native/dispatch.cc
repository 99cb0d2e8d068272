// Calls any registered ATen operator by name through the c10 dispatcher (the route TorchScript
// takes): autograd, device dispatch and every op's own checks come with it, and the schema tells
// how to convert each JS argument.
#include "exports.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <ATen/ops/add.h>
#include <ATen/ops/add_cpu_dispatch.h>
#include <ATen/ops/div.h>
#include <ATen/ops/div_cpu_dispatch.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/mul_cpu_dispatch.h>
#include <ATen/ops/sub.h>
#include <ATen/ops/sub_cpu_dispatch.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <string>

#include "convert.h"
#include "guard.h"
#include "slots.h"
#include "tensor.h"

namespace signin {

Napi::Value OpHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw ArgError("Expected an operator name such as 'aten::add' for name but received " + DescribeJs(info[0]));
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    Napi::Error err = CodedError(env, "Unknown operator " + name + (overload.empty() ? "" : "." + overload), "ERR_UNKNOWN_NAME");
    throw err;
  }
  auto& ops = Data(env).ops;
  ops.push_back(*handle);
  return Napi::Number::New(env, static_cast<double>(ops.size() - 1));
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  auto& ops = Data(info.Env()).ops;
  int64_t id = ToInt(info[0], "id");
  if (id < 0 || id >= static_cast<int64_t>(ops.size())) throw ArgError("Expected a known operator id for id");
  return Napi::String::New(info.Env(), c10::toString(ops[id].schema()));
}

namespace {

std::string OpName(const c10::FunctionSchema& schema) {
  return schema.name() + (schema.overload_name().empty() ? "" : "." + schema.overload_name());
}

bool IntegralDouble(double d) {
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740991.0;
}

// The common argument kinds, converted without building the argument's name: that string only
// serves error messages, so a value that does not fit is left to ToIValue, which names it.
bool FastConvert(Napi::Env env, const Napi::Value& v, const c10::Type& type, c10::optional<int32_t> n,
                 c10::IValue* out) {
  using K = c10::TypeKind;
  const napi_valuetype t = v.Type();
  switch (type.kind()) {
    case K::OptionalType:
      if (t == napi_undefined || t == napi_null) {
        *out = c10::IValue();
        return true;
      }
      return FastConvert(env, v, *type.castRaw<c10::OptionalType>()->getElementType(), n, out);
    case K::TensorType: {
      if (t != napi_object) return false;
      NativeTensor* nt = NativeTensor::Find(env, v);
      if (!nt) return false;
      *out = nt->tensor();
      return true;
    }
    case K::FloatType:
      if (t != napi_number) return false;
      *out = v.As<Napi::Number>().DoubleValue();
      return true;
    case K::BoolType:
      if (t != napi_boolean) return false;
      *out = v.As<Napi::Boolean>().Value();
      return true;
    case K::IntType: {
      if (t != napi_number) return false;
      double d = v.As<Napi::Number>().DoubleValue();
      if (!IntegralDouble(d)) return false;
      *out = static_cast<int64_t>(d);
      return true;
    }
    case K::NumberType: {
      if (t != napi_number) return false;
      double d = v.As<Napi::Number>().DoubleValue();
      // Integral numbers stay integral so that integer tensors keep their dtype (as ToIValue).
      if (IntegralDouble(d)) {
        *out = static_cast<int64_t>(d);
      } else {
        *out = d;
      }
      return true;
    }
    case K::ListType: {
      if (type.castRaw<c10::ListType>()->getElementType()->kind() != K::IntType) return false;
      if (t == napi_number && n) {
        double d = v.As<Napi::Number>().DoubleValue();
        if (!IntegralDouble(d)) return false;
        *out = std::vector<int64_t>(*n, static_cast<int64_t>(d));
        return true;
      }
      if (!v.IsArray()) return false;
      auto arr = v.As<Napi::Array>();
      const uint32_t len = arr.Length();
      std::vector<int64_t> list;
      list.reserve(ReserveFor(len));
      for (uint32_t i = 0; i < len; ++i) {
        Napi::Value e = arr.Get(i);
        if (!e.IsNumber()) return false;
        double d = e.As<Napi::Number>().DoubleValue();
        if (!IntegralDouble(d)) return false;
        list.push_back(static_cast<int64_t>(d));
      }
      *out = std::move(list);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData& data = Data(env);
  int64_t id = ToInt(info[0], "id");
  if (id < 0 || id >= static_cast<int64_t>(data.ops.size())) throw ArgError("Expected a known operator id for id");
  // A copy: converting an argument can run JS (a getter) that registers another operator, and
  // the vector may reallocate under a reference.
  const c10::OperatorHandle op = data.ops[id];
  const auto& schema = op.schema();
  const auto& params = schema.arguments();
  if (!info[1].IsArray()) throw ArgError("Expected an array for args but received " + DescribeJs(info[1]));
  auto args = info[1].As<Napi::Array>();
  Napi::Object kwargs = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object();
  const uint32_t nargs = args.Length();
  if (nargs > params.size()) {
    throw ArgError(OpName(schema) + " takes " + std::to_string(params.size()) + " arguments but received " +
                   std::to_string(nargs));
  }
  torch::jit::Stack stack;
  stack.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    Napi::Value v = i < nargs ? args.Get(static_cast<uint32_t>(i)) : env.Undefined();
    if (v.IsUndefined() && !kwargs.IsEmpty() && kwargs.Has(p.name())) v = kwargs.Get(p.name());
    if (v.IsUndefined()) {
      if (p.default_value()) {
        stack.push_back(*p.default_value());
        continue;
      }
      if (p.type()->kind() != c10::TypeKind::OptionalType) {
        throw ArgError("Missing argument '" + p.name() + "' of " + OpName(schema) + " (" + c10::toString(schema) + ")");
      }
    }
    c10::IValue iv;
    if (!FastConvert(env, v, *p.type(), p.N(), &iv)) iv = ToIValue(env, v, p, OpName(schema));
    stack.push_back(std::move(iv));
  }
  op.callBoxed(&stack);
  if (stack.empty()) return env.Undefined();
  if (stack.size() == 1) return FromIValue(env, stack[0]);
  auto out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(i, FromIValue(env, stack[i]));
  return out;
}

namespace {

// A JS number as a Scalar: integral numbers stay integral so that integer tensors keep their
// dtype (as FastConvert does for a schema's Scalar).
c10::Scalar ScalarOf(double d) {
  if (IntegralDouble(d)) return c10::Scalar(static_cast<int64_t>(d));
  return c10::Scalar(d);
}

const char* const kBinaryNames[] = {"aten::add", "aten::sub", "aten::mul", "aten::div"};

// Whether at::cpu::add and its kin may run the CPU kernel directly, skipping the dispatcher and
// the autograd and ADInplaceOrView kernels that only pass such a call through (~20% of a
// 16-element add). Only for plain dense CPU tensors (the key set of a fresh at::empty: no
// conjugate or negative bit, no zero tensor, no Python or functionalization key) with no autograd
// metadata at all (nothing requires grad, no forward-mode tangent, not a view that autograd
// tracks), and only out of place: an in-place op must also bump the version counter that the
// ADInplaceOrView kernel keeps.
bool Direct(const at::Tensor& a, const at::Tensor& b) {
  static const c10::DispatchKeySet plain = [] {
    c10::InferenceMode normal(false);
    return at::empty({0}).key_set();
  }();
  return a.key_set() == plain && b.key_set() == plain && a.unsafeGetTensorImpl()->autograd_meta() == nullptr &&
         b.unsafeGetTensorImpl()->autograd_meta() == nullptr;
}

at::Tensor DirectBinary(int kind, const at::Tensor& self, const at::Tensor& other, const c10::Scalar& alpha) {
  switch (kind) {
    case 0: return at::cpu::add(self, other, alpha);
    case 1: return at::cpu::sub(self, other, alpha);
    case 2: return at::cpu::mul(self, other);
    default: return at::cpu::div(self, other);
  }
}

}  // namespace

// The hottest elementwise ops, called unboxed: at::add and the others enter the dispatcher
// through their typed signature, as PyTorch eager does, with no schema walk, IValue stack or
// argument conversion by type. TS (dispatch.ts) sends only the shapes it checked: a live Tensor
// self, a Tensor or number other and a number alpha (or undefined); any other call goes to CallOp,
// whose messages name the argument. The checks here are the last line for callers of the raw addon.
// code: bits 0-1 the op, bit 2 in place, bits 3 and 4 self and other given as slot numbers
// (SlotTable) rather than NativeTensors. The result is a new slot's number (a NativeTensor only
// when every slot is in use).
Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double code = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(code >= 0 && code < 32 && std::floor(code) == code)) {
    throw ArgError("Expected an integer in [0, 31] (the op, in place, and which operands are slots) for code but received " +
                   DescribeJs(info[0]));
  }
  const int bits = static_cast<int>(code);
  const int kind = bits & 3;
  const bool inPlace = (bits & 4) != 0;
  const char* name = kBinaryNames[kind];
  SlotTable& slots = Slots();
  const at::Tensor* self;
  if (bits & 8) {
    self = &slots.Get(info[1], "self");
  } else {
    NativeTensor* t = NativeTensor::Find(env, info[1]);
    if (!t) throw ArgError(std::string("Expected a Tensor for 'self' of ") + name + " but received " + DescribeJs(info[1]));
    self = &t->tensor();
  }
  const at::Tensor* other = nullptr;
  if (bits & 16) {
    other = &slots.Get(info[2], "other");
  } else if (!info[2].IsNumber()) {
    NativeTensor* t = NativeTensor::Find(env, info[2]);
    if (!t) {
      throw ArgError(std::string("Expected a Tensor or a number for 'other' of ") + name + " but received " + DescribeJs(info[2]));
    }
    other = &t->tensor();
  }
  c10::Scalar alpha(int64_t{1});
  if (!info[3].IsUndefined()) {
    if (kind > 1 || !info[3].IsNumber()) {
      throw ArgError(std::string(kind > 1 ? "Expected undefined (the op has no alpha)" : "Expected a number") +
                     " for 'alpha' of " + name + " but received " + DescribeJs(info[3]));
    }
    alpha = ScalarOf(info[3].As<Napi::Number>().DoubleValue());
  }
  const c10::Scalar scalar = other ? c10::Scalar() : ScalarOf(info[2].As<Napi::Number>().DoubleValue());
  if (inPlace) {
    const at::Tensor& t = *self;
    switch (kind) {
      case 0: other ? t.add_(*other, alpha) : t.add_(scalar, alpha); break;
      case 1: other ? t.sub_(*other, alpha) : t.sub_(scalar, alpha); break;
      case 2: other ? t.mul_(*other) : t.mul_(scalar); break;
      default: other ? t.div_(*other) : t.div_(scalar); break;
    }
    return env.Undefined();
  }
  at::Tensor out;
  if (other && Direct(*self, *other)) {
    out = DirectBinary(kind, *self, *other, alpha);
  } else {
    switch (kind) {
      case 0: out = other ? at::add(*self, *other, alpha) : at::add(*self, scalar, alpha); break;
      case 1: out = other ? at::sub(*self, *other, alpha) : at::sub(*self, scalar, alpha); break;
      case 2: out = other ? at::mul(*self, *other) : at::mul(*self, scalar); break;
      default: out = other ? at::div(*self, *other) : at::div(*self, scalar); break;
    }
  }
  const int32_t slot = slots.Put(out);
  if (slot >= 0) return Napi::Number::New(env, slot);
  return NativeTensor::Wrap(env, std::move(out));
}

}  // namespace signin
