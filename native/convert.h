// Conversions between JS values and libtorch values (dtypes, devices, IValues, typed arrays).
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>
#include <ATen/core/function_schema.h>

#include <string>
#include <vector>

namespace signin {

at::ScalarType ParseDtype(const std::string& name);
std::string DtypeName(at::ScalarType t);
std::string DescribeJs(const Napi::Value& v);
// Capacity to reserve for a list of `length` elements: bounded, since an array's length says
// nothing about how much it holds (`new Array(2 ** 32 - 1)` is a few bytes of holes).
size_t ReserveFor(uint32_t length);

int64_t ToInt(const Napi::Value& v, const std::string& name);
double ToDouble(const Napi::Value& v, const std::string& name);
bool ToBool(const Napi::Value& v, const std::string& name);
std::vector<int64_t> ToIntList(const Napi::Value& v, const std::string& name);
std::vector<at::Tensor> ToTensorList(Napi::Env env, const Napi::Value& v, const std::string& name);
Napi::Array FromTensorList(Napi::Env env, const std::vector<at::Tensor>& ts);

// Converts one argument of an ATen operator call, guided by the operator's schema.
c10::IValue ToIValue(Napi::Env env, const Napi::Value& v, const c10::Argument& arg,
                     const std::string& op);
Napi::Value FromIValue(Napi::Env env, const c10::IValue& v);

// A copy of a tensor's values as the matching TypedArray (int64 -> BigInt64Array, bool -> Uint8Array,
// half types -> Float32Array).
Napi::Value ToTypedArray(Napi::Env env, const at::Tensor& t);
// A tensor over a TypedArray: zero-copy (keeps the JS buffer alive) or a copy.
at::Tensor FromTypedArray(Napi::Env env, const Napi::TypedArray& arr, const std::vector<int64_t>& shape,
                          bool copy, const std::string& dtype);
// Releases JS buffer references that tensors freed on other threads left behind.
void DrainReleasedBuffers(Napi::Env env);

}  // namespace signin
