// Calls any registered ATen operator by name through the c10 dispatcher (the route TorchScript
// takes): autograd, device dispatch and every op's own checks come with it, and the schema tells
// how to convert each JS argument.
#include "exports.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include "convert.h"
#include "guard.h"
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

Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& ops = Data(env).ops;
  int64_t id = ToInt(info[0], "id");
  if (id < 0 || id >= static_cast<int64_t>(ops.size())) throw ArgError("Expected a known operator id for id");
  const c10::OperatorHandle& op = ops[id];
  const auto& schema = op.schema();
  const auto& params = schema.arguments();
  if (!info[1].IsArray()) throw ArgError("Expected an array for args but received " + DescribeJs(info[1]));
  auto args = info[1].As<Napi::Array>();
  Napi::Object kwargs = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object();
  const std::string opName = schema.name() + (schema.overload_name().empty() ? "" : "." + schema.overload_name());
  if (args.Length() > params.size()) {
    throw ArgError(opName + " takes " + std::to_string(params.size()) + " arguments but received " +
                   std::to_string(args.Length()));
  }
  torch::jit::Stack stack;
  stack.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    Napi::Value v = i < args.Length() ? args.Get(static_cast<uint32_t>(i)) : env.Undefined();
    if (v.IsUndefined() && !kwargs.IsEmpty() && kwargs.Has(p.name())) v = kwargs.Get(p.name());
    if (v.IsUndefined()) {
      if (p.default_value()) {
        stack.push_back(*p.default_value());
        continue;
      }
      if (p.type()->kind() != c10::TypeKind::OptionalType) {
        throw ArgError("Missing argument '" + p.name() + "' of " + opName + " (" + c10::toString(schema) + ")");
      }
    }
    stack.push_back(ToIValue(env, v, p, opName));
  }
  op.callBoxed(&stack);
  if (stack.empty()) return env.Undefined();
  if (stack.size() == 1) return FromIValue(env, stack[0]);
  auto out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(i, FromIValue(env, stack[i]));
  return out;
}

}  // namespace signin
