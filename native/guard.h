// Every exported native function runs inside Guarded(): libtorch errors become JS errors with a
// stable `code` and no C++ backtrace, so no input from JS can abort the process.
#pragma once

#include <napi.h>

#include <c10/util/Exception.h>

#include <exception>
#include <stdexcept>
#include <string>

namespace signin {

inline Napi::Error CodedError(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

inline const char* TorchCode(const c10::Error& e) {
  if (dynamic_cast<const c10::IndexError*>(&e)) return "ERR_TORCH_INDEX";
  if (dynamic_cast<const c10::ValueError*>(&e)) return "ERR_TORCH_VALUE";
  if (dynamic_cast<const c10::TypeError*>(&e)) return "ERR_TORCH_TYPE";
  if (dynamic_cast<const c10::NotImplementedError*>(&e)) return "ERR_TORCH_NOT_IMPLEMENTED";
  return "ERR_TORCH";
}

// Thrown by our own argument checks in the native layer (the TS layer validates first; this is
// the last line for callers that bypass it).
struct ArgError : std::exception {
  explicit ArgError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

// A collective that failed or timed out (a peer gone, a stuck rank): ERR_DISTRIBUTED, also where
// it surfaces from inside backward (process_group.cc's waits, reducer.cc's buckets).
struct CollectiveError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A failure of the addon's own code (an allocation, a CUDA kernel, a libtorch it was not built
// for): ERR_NATIVE. Not a std::runtime_error, which Guarded takes for libtorch's.
struct AddonError : std::exception {
  explicit AddonError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

struct DisposedError : std::exception {
  const char* what() const noexcept override {
    return "Tensor is disposed: it was released by dispose() or by the tidy() scope that created it";
  }
};

template <class F>
Napi::Value Guarded(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw CodedError(env, e.what_without_backtrace(), TorchCode(e));
  } catch (const CollectiveError& e) {
    throw CodedError(env, e.what(), "ERR_DISTRIBUTED");
  } catch (const ArgError& e) {
    throw CodedError(env, e.what(), "ERR_INVALID_ARG");
  } catch (const DisposedError& e) {
    throw CodedError(env, e.what(), "ERR_TENSOR_DISPOSED");
  } catch (const std::runtime_error& e) {
    // libtorch throws some of its errors as a bare std::runtime_error (reshape's infer_size,
    // requires_grad_ on a non-leaf), which PyTorch raises as RuntimeError like a c10::Error.
    throw CodedError(env, e.what(), "ERR_TORCH");
  } catch (const std::exception& e) {
    throw CodedError(env, e.what(), "ERR_NATIVE");
  } catch (...) {
    throw CodedError(env, "unknown native exception", "ERR_NATIVE");
  }
}

// Wraps a plain `Napi::Value(const Napi::CallbackInfo&)` body so that addon.cc can export it.
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Export(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Fn(info); });
}

}  // namespace signin
