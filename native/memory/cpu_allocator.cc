// A size-class caching allocator for CPU tensor storage, registered with c10::SetCPUAllocator.
//
// Why: with glibc malloc, a training loop's activation buffers (hundreds of KiB to tens of MiB)
// live in the same heap as the small native objects that Node frees only when it runs N-API
// finalizers from the event loop. The long-lived small objects split the freed large holes, so
// every step faulted in fresh pages: RSS grew ~115 MB per ResNet-20 step and the steps spent
// their time in page faults. Large blocks here come from mmap, never share pages with the
// heap, and are reused by size class, so a steady training loop maps nothing after its first
// step. Small requests keep glibc's fast paths.
#include "memory/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "torch_compat.h"

namespace signin {

namespace {

// c10's own alignment for CPU storage (c10::gAlignment); the header keeps it for the data.
constexpr size_t kAlign = 64;
constexpr size_t kHeader = 64;
constexpr size_t kPage = 4096;
constexpr size_t kLargeMin = 64 * 1024;
constexpr uint64_t kMagic = 0x5349474e494e4d45ULL;

struct Header {
  uint64_t magic;
  uint64_t mappedBytes;  // 0: a small block from posix_memalign
};

// Eight classes per power of two: at most 12.5% of a block is slack.
size_t SizeClass(size_t bytes) {
  size_t pages = (bytes + kPage - 1) / kPage * kPage;
  size_t pow2 = size_t{1} << (63 - __builtin_clzll(pages));
  size_t step = std::max(kPage, pow2 / 8);
  return (pages + step - 1) / step * step;
}

// A request whose size class has no idle block takes the smallest idle one up to this many times
// its class, rather than mapping a new one. Exact classes alone hold, for each class, as many
// blocks as it ever needs at once, so the blocks that only backward uses sit idle at the
// forward's peak: ResNet-50 at batch 32 peaked 3399 MiB over its model, 417 over PyTorch. Up to
// 2x (measured 1.25, 1.5, 2, 3, 4, any): 3120, with no page faults in a steady step; 4x and above
// peak higher (3874), the large blocks taken by small requests. Docs: architecture.md, "CPU memory".
constexpr size_t kLargerFit = 2;

// Above this, a fresh block is checked against the memory there is (src/tensor/size-limit.ts's
// BIG_BYTES, which checks the factories' sizes the same way).
constexpr size_t kBigBytes = size_t{1} << 30;

// A number from the first line of `path` that starts with `key` ("MemAvailable:" in kB), or the
// whole file ("memory.max"): -1 when absent or not a number ("max").
int64_t ReadNumber(const char* path, const char* key) {
  FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  char line[256];
  int64_t value = -1;
  size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, n) != 0) continue;
    char* end = nullptr;
    long long v = std::strtoll(line + n, &end, 10);
    if (end != line + n) value = v;
    break;
  }
  std::fclose(f);
  return value;
}

// The bytes a new mapping may take: SIGNIN_TORCH_MAX_TENSOR_BYTES when set, else the least of
// MemAvailable and the cgroup's room (memory.max − memory.current); -1 when none is known.
int64_t RoomBytes(std::string* source) {
  if (const char* env = std::getenv("SIGNIN_TORCH_MAX_TENSOR_BYTES")) {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (end != env && v > 0) {
      *source = "SIGNIN_TORCH_MAX_TENSOR_BYTES";
      return static_cast<int64_t>(v);
    }
  }
  *source = "the memory available now";
  int64_t kb = ReadNumber("/proc/meminfo", "MemAvailable:");
  int64_t room = kb < 0 ? -1 : kb * 1024;
  int64_t max = ReadNumber("/sys/fs/cgroup/memory.max", "");
  int64_t current = ReadNumber("/sys/fs/cgroup/memory.current", "");
  if (max > 0 && current >= 0 && (room < 0 || max - current < room)) room = std::max<int64_t>(max - current, 0);
  return room;
}

std::string Gib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g GiB", static_cast<double>(bytes) / static_cast<double>(kBigBytes));
  return buf;
}

int64_t DefaultCacheLimit() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return int64_t{4} << 30;
  return static_cast<int64_t>(pages) * pageSize / 4;
}

void Delete(void* data);

class CachingCpuAllocator final : public c10::Allocator {
 public:
  // libtorch 2.3 made allocate() non-const and added the pure virtual copy_data().
#if SIGNIN_TORCH_AT_LEAST(2, 3)
  c10::DataPtr allocate(size_t nbytes) override { return Allocate(nbytes); }
  void copy_data(void* dest, const void* src, size_t count) const override { default_copy_data(dest, src, count); }
#else
  c10::DataPtr allocate(size_t nbytes) const override { return Allocate(nbytes); }
#endif

  c10::DataPtr Allocate(size_t nbytes) const {
    if (nbytes == 0) return {nullptr, nullptr, &Delete, c10::Device(c10::DeviceType::CPU)};
    void* data = nbytes + kHeader < kLargeMin ? AllocateSmall(nbytes) : AllocateLarge(nbytes);
    return {data, data, &Delete, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }

  void Free(void* data) const {
    auto* header = reinterpret_cast<Header*>(static_cast<char*>(data) - kHeader);
    TORCH_INTERNAL_ASSERT(header->magic == kMagic, "signin-torch: freeing memory it did not allocate");
    if (header->mappedBytes == 0) {
      std::free(header);
      return;
    }
    size_t bytes = header->mappedBytes;
    std::lock_guard<std::mutex> lock(mutex_);
    inUse_ -= static_cast<int64_t>(bytes);
    if (cached_ + static_cast<int64_t>(bytes) > limit_) {
      Unmap(header, bytes);
      return;
    }
    free_[bytes].push_back(header);
    cached_ += static_cast<int64_t>(bytes);
  }

  CpuCacheStats Stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {inUse_, cached_, peak_, limit_, hits_, misses_, releases_};
  }

  void Empty() const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, blocks] : free_) {
      for (void* b : blocks) Unmap(b, bytes);
    }
    free_.clear();
    cached_ = 0;
  }

  void SetLimit(int64_t bytes) const {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
    EvictUntil(limit_);
  }

 private:
  static void* AllocateSmall(size_t nbytes) {
    void* base = nullptr;
    if (posix_memalign(&base, kAlign, nbytes + kHeader) != 0) throw std::bad_alloc();
    return Stamp(base, 0);
  }

  void* AllocateLarge(size_t nbytes) const {
    size_t bytes = SizeClass(nbytes + kHeader);
    std::unique_lock<std::mutex> lock(mutex_);
    for (auto it = free_.lower_bound(bytes); it != free_.end() && it->first <= kLargerFit * bytes; ++it) {
      if (it->second.empty()) continue;
      size_t have = it->first;
      void* base = it->second.back();
      it->second.pop_back();
      cached_ -= static_cast<int64_t>(have);
      Use(have);
      hits_++;
      return Stamp(base, have);
    }
    // Linux overcommits: a mapping larger than the memory left is granted, then filled page by
    // page until the OOM killer ends this process (or another one). An op's result is no
    // factory argument that TS could check first (x.unsqueeze(1).sub(x) of a long x), so a big
    // one is checked here, counting the idle blocks this cache can give back.
    if (bytes > kBigBytes) {
      std::string source;
      int64_t room = RoomBytes(&source);
      bool fromCache = source != "SIGNIN_TORCH_MAX_TENSOR_BYTES";
      if (room >= 0 && static_cast<int64_t>(bytes) > room + (fromCache ? cached_ : 0)) {
        TORCH_CHECK(false, "A CPU tensor of ", Gib(static_cast<int64_t>(nbytes)), " (", Gib(static_cast<int64_t>(bytes)),
                    " in the allocator's size class) does not fit in ", Gib(room + (fromCache ? cached_ : 0)), " (", source,
                    fromCache ? ", with the idle blocks of the tensor cache" : "", "): use smaller tensors or batches");
      }
      if (fromCache && static_cast<int64_t>(bytes) > room) EvictUntil(0);
    }
    // A new size: idle blocks of other sizes must not pile up beside it, so the cache may hold
    // at most as much as is in use (a smaller last batch, then the full batches again).
    EvictUntil(std::max<int64_t>(inUse_, 0));
    misses_++;
    Use(bytes);
    lock.unlock();
    void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
      std::lock_guard<std::mutex> relock(mutex_);
      inUse_ -= static_cast<int64_t>(bytes);
      throw std::bad_alloc();
    }
    return Stamp(base, bytes);
  }

  static void* Stamp(void* base, size_t mappedBytes) {
    auto* header = static_cast<Header*>(base);
    header->magic = kMagic;
    header->mappedBytes = mappedBytes;
    return static_cast<char*>(base) + kHeader;
  }

  void Use(size_t bytes) const {
    inUse_ += static_cast<int64_t>(bytes);
    peak_ = std::max(peak_, inUse_);
  }

  // Largest blocks first: the fewest unmaps to get under the bound.
  void EvictUntil(int64_t bound) const {
    while (cached_ > bound && !free_.empty()) {
      auto last = std::prev(free_.end());
      if (last->second.empty()) {
        free_.erase(last);
        continue;
      }
      Unmap(last->second.back(), last->first);
      last->second.pop_back();
      cached_ -= static_cast<int64_t>(last->first);
    }
  }

  void Unmap(void* base, size_t bytes) const {
    munmap(base, bytes);
    releases_++;
  }

  // c10::Allocator::allocate is const; the cache is the allocator's state.
  mutable std::mutex mutex_;
  mutable std::map<size_t, std::vector<void*>> free_;
  mutable int64_t inUse_ = 0;
  mutable int64_t cached_ = 0;
  mutable int64_t peak_ = 0;
  mutable int64_t limit_ = DefaultCacheLimit();
  mutable int64_t hits_ = 0;
  mutable int64_t misses_ = 0;
  mutable int64_t releases_ = 0;
};

// Never destroyed: tensors may be freed during static destruction at exit.
CachingCpuAllocator& Instance() {
  static auto* allocator = new CachingCpuAllocator();
  return *allocator;
}

void Delete(void* data) {
  if (data) Instance().Free(data);
}

}  // namespace

void InstallCachingCpuAllocator() {
  static std::once_flag once;
  // Priority above c10's default (0) and its mobile allocator; storage allocated before this
  // call keeps c10's deleter, so nothing is freed by the wrong allocator.
  // SIGNIN_TORCH_CPU_ALLOCATOR=system keeps c10's malloc-based allocator, for A/B measurements.
  std::call_once(once, [] {
    const char* choice = std::getenv("SIGNIN_TORCH_CPU_ALLOCATOR");
    if (choice && std::string(choice) == "system") return;
    c10::SetCPUAllocator(&Instance(), 10);
  });
}

CpuCacheStats GetCpuCacheStats() { return Instance().Stats(); }

void EmptyCpuCache() { Instance().Empty(); }

void SetCpuCacheLimit(int64_t bytes) { Instance().SetLimit(bytes); }

}  // namespace signin
