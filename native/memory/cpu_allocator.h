// The process-wide CPU allocator behind every libtorch tensor the addon creates (see
// cpu_allocator.cc and docs/architecture.md, "CPU memory").
#pragma once

#include <cstddef>
#include <cstdint>

namespace signin {

struct CpuCacheStats {
  int64_t inUseBytes;     // large blocks handed out and not yet freed
  int64_t cachedBytes;    // large blocks freed and kept for reuse
  int64_t peakInUseBytes;
  int64_t cacheLimitBytes;
  int64_t hits;           // large requests served from the cache
  int64_t misses;         // large requests that mapped fresh memory
  int64_t releases;       // blocks returned to the OS
};

// Makes the caching allocator libtorch's CPU allocator. Idempotent; safe from any thread.
void InstallCachingCpuAllocator();
CpuCacheStats GetCpuCacheStats();
// Returns every cached block to the OS; blocks in use are untouched.
void EmptyCpuCache();
// Cached bytes above this limit are returned to the OS as they are freed.
void SetCpuCacheLimit(int64_t bytes);

}  // namespace signin
