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

// ---- Argument objects of the fused kernels (optim/, signin/) ----
// Errors name `where + key` ("Expected a Tensor for groups[0].signin[2].m but received ...",
// "Expected a live Tensor for m but received a disposed one ...").

// A tensor property of an argument object: a live NativeTensor or (optional) undefined/null.
at::Tensor TensorProp(Napi::Env env, const Napi::Object& obj, const std::string& key,
                      const std::string& where, bool optional);
at::Tensor TensorValue(Napi::Env env, const Napi::Value& v, const std::string& name, bool optional);
// A finite number property (required, or `fallback` when undefined).
double NumberProp(const Napi::Object& obj, const std::string& key, const std::string& where, bool required,
                  double fallback);
bool BoolProp(const Napi::Object& obj, const std::string& key, const std::string& where, bool fallback);
// A plain object argument (not an array).
Napi::Object ObjectArg(const Napi::Value& v, const std::string& name);
std::string FormatNumber(double d);
std::string ShapeString(at::IntArrayRef sizes);

// Checks that t has the shape, dtype and device of ref:
// "Expected m with the shape of theta [64, 3, 3, 3] but received [64, 3, 3]".
void CheckLike(const at::Tensor& t, const std::string& name, const at::Tensor& ref,
               const std::string& refName, bool sameDtype = true);
// A mask: the shape and device of ref, dtype of ref or bool.
void CheckMask(const at::Tensor& mask, const std::string& name, const at::Tensor& ref,
               const std::string& refName);
// Fails unless t (when defined) is strided with no internal overlap, so in-place writes cannot
// fail after others were done.
void CheckWritable(const at::Tensor& t, const std::string& name);
// Fails when a and b share memory (the fused kernels write through non-aliased pointers).
void CheckNoOverlap(const at::Tensor& a, const std::string& aName, const at::Tensor& b,
                    const std::string& bName);

}  // namespace signin
