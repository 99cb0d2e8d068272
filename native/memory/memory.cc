// The CPU allocator's controls and counters, for memory benchmarks, leak tests and users who
// want cached memory back (see cpu_allocator.h).
#include <napi.h>

#include "convert.h"
#include "exports.h"
#include "guard.h"
#include "memory/cpu_allocator.h"

namespace signin {

Napi::Value CpuMemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CpuCacheStats s = GetCpuCacheStats();
  auto out = Napi::Object::New(env);
  auto set = [&](const char* key, int64_t v) { out.Set(key, Napi::Number::New(env, static_cast<double>(v))); };
  set("inUseBytes", s.inUseBytes);
  set("cachedBytes", s.cachedBytes);
  set("peakInUseBytes", s.peakInUseBytes);
  set("cacheLimitBytes", s.cacheLimitBytes);
  set("hits", s.hits);
  set("misses", s.misses);
  set("releases", s.releases);
  return out;
}

Napi::Value EmptyCpuCacheExport(const Napi::CallbackInfo& info) {
  EmptyCpuCache();
  return info.Env().Undefined();
}

Napi::Value SetCpuCacheLimitExport(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw ArgError("Expected a number of bytes for limit but received " + DescribeJs(info[0]));
  double bytes = info[0].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 0 && bytes <= 9007199254740991.0) || bytes != static_cast<double>(static_cast<int64_t>(bytes))) {
    throw ArgError("Expected limit to be an integer number of bytes in [0, 2^53) but received " + DescribeJs(info[0]));
  }
  SetCpuCacheLimit(static_cast<int64_t>(bytes));
  return info.Env().Undefined();
}

}  // namespace signin
