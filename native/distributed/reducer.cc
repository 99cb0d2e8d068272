// DistributedDataParallel's gradient reduction during backward: c10d's Reducer, the C++ object
// torch.nn.parallel.DistributedDataParallel drives from Python. It hooks every parameter's
// gradient accumulator and all-reduces a bucket of gradients as soon as all of them are ready,
// while backward goes on computing the earlier layers', so communication overlaps computation.
// The buckets are averaged by a communication hook of ours (PyTorch's allreduce_hook) that also
// turns a failed collective into ERR_DISTRIBUTED where backward rethrows it.
#include <napi.h>

#include "distributed/c10d_build.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "convert.h"
#include "distributed/group.h"
#include "exports.h"
#include "guard.h"

#ifdef SIGNIN_WITH_C10D
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#endif

namespace signin {

#ifdef SIGNIN_WITH_C10D

namespace {

// What the hook saw since the last prepare: buckets are launched in index order, so the last one
// launched means every gradient of the iteration was reduced.
struct Progress {
  std::atomic<size_t> launched{0};
  std::atomic<bool> last{false};
  bool prepared = false;
};

class AverageHook : public c10d::CommHookInterface {
 public:
  AverageHook(c10::intrusive_ptr<c10d::ProcessGroup> pg, std::shared_ptr<Progress> progress)
      : pg_(std::move(pg)), progress_(std::move(progress)) {}

  c10::intrusive_ptr<c10::ivalue::Future> runHook(c10d::GradBucket& bucket) override {
    progress_->launched++;
    if (bucket.isLast()) progress_->last = true;
    at::Tensor& buffer = bucket.getBufferRef();
    // Divided before the sum, as PyTorch's allreduce_hook does, so fp16 sums stay in range.
    buffer.div_(pg_->getSize());
    std::vector<at::Tensor> tensors{buffer};
    c10::intrusive_ptr<c10::ivalue::Future> fut;
    try {
      fut = pg_->allreduce(tensors)->getFuture();
    } catch (const std::exception& e) {
      throw CollectiveError(Failed(e.what()));
    }
    return fut->then(
        [](c10::ivalue::Future& f) -> c10::IValue {
          if (f.hasError()) throw CollectiveError(Failed(f.tryRetrieveErrorMessage()));
          return f.value();
        },
        fut->elementType());
  }

  at::Tensor parseHookResult(const c10::IValue& result) override {
    return result.isTensor() ? result.toTensor() : result.toTensorVector()[0];
  }

 private:
  static std::string Failed(const std::string& why) {
    return "DistributedDataParallel: a gradient bucket's all-reduce failed during backward (a peer process may have "
           "exited or timed out): " + why;
  }

  c10::intrusive_ptr<c10d::ProcessGroup> pg_;
  std::shared_ptr<Progress> progress_;
};

// c10d's Reducer warns (once) when a gradient's strides differ from its bucket view's, comparing
// even dimensions of size 1, which libtorch's own gradient layout contract ignores. A conv weight
// with one input channel ([16, 1, 3, 3] on one-channel images) gets such a gradient from a
// channels_last backward (the Trainer's CPU default); the copy into the bucket is right and its
// cost nothing. This handler drops that one warning and passes every other on.
class LayoutWarningFilter : public c10::WarningHandler {
 public:
  explicit LayoutWarningFilter(c10::WarningHandler* next) : next_(next) {}
#if SIGNIN_TORCH_AT_LEAST(2, 0)
  void process(const c10::Warning& w) override {
    if (!Dropped(w.msg())) next_->process(w);
  }
#else
  void process(const c10::SourceLocation& where, const std::string& msg, const bool verbatim) override {
    if (!Dropped(msg)) next_->process(where, msg, verbatim);
  }
#endif

 private:
  static bool Dropped(const std::string& msg) { return msg.rfind("Grad strides do not match bucket view strides", 0) == 0; }
  c10::WarningHandler* next_;
};

// On the calling thread, where the CPU backward runs its hooks; once.
void FilterLayoutWarning() {
#if SIGNIN_TORCH_AT_LEAST(2, 0)
  namespace handlers = c10::WarningUtils;
#else
  namespace handlers = c10::Warning;
#endif
  thread_local LayoutWarningFilter* filter = nullptr;
  if (filter) return;
  filter = new LayoutWarningFilter(handlers::get_warning_handler());
  handlers::set_warning_handler(filter);
}

struct Entry {
  std::shared_ptr<c10d::Reducer> reducer;
  std::shared_ptr<Progress> progress;
};

// Never destroyed at exit: a Reducer holds the group, whose destructor joins Gloo's threads.
// destroyProcessGroup() frees them all first (FreeReducers).
std::map<int64_t, Entry>& Reducers() {
  static auto* reducers = new std::map<int64_t, Entry>();
  return *reducers;
}
int64_t nextId = 1;

Entry& Get(const Napi::Value& v) {
  const int64_t id = ToInt(v, "reducer");
  auto it = Reducers().find(id);
  if (it == Reducers().end()) throw CollectiveError("DistributedDataParallel: its reducer was freed (close() or destroyProcessGroup())");
  return it->second;
}

using Indices = std::vector<std::vector<size_t>>;
using Names = std::unordered_map<size_t, std::string>;

// The Reducer's constructor of the libtorch at hand. A template, so that only the matching form
// is compiled: 1.13 takes the per-bucket size limits; 2.x added skipping unused parameters' all-
// reduce and the Python reducer, then dropped the limits for a list of rebuilt bucket sizes.
template <class R = c10d::Reducer>
std::shared_ptr<R> MakeReducer(const std::vector<at::Tensor>& params, const Indices& indices, const std::vector<size_t>& limits,
                               const c10::intrusive_ptr<c10d::ProcessGroup>& pg, int64_t cap, bool findUnused,
                               const Names& names, int64_t firstCap) {
  using PG = c10::intrusive_ptr<c10d::ProcessGroup>;
  using P = std::vector<at::Tensor>;
  using L = std::vector<size_t>;
  using S = std::vector<bool>;
  const S sparse(params.size(), false);
  if constexpr (std::is_constructible_v<R, P, Indices, L, PG, S, int64_t, bool, bool, Names, int64_t>) {
    return std::make_shared<R>(params, indices, limits, pg, sparse, cap, findUnused, false, names, firstCap);
  } else if constexpr (std::is_constructible_v<R, P, Indices, L, PG, S, int64_t, bool, bool, Names, int64_t, bool, bool>) {
    return std::make_shared<R>(params, indices, limits, pg, sparse, cap, findUnused, false, names, firstCap, false, false);
  } else if constexpr (std::is_constructible_v<R, P, Indices, PG, S, int64_t, bool, bool, Names, int64_t, bool, bool>) {
    return std::make_shared<R>(params, indices, pg, sparse, cap, findUnused, false, names, firstCap, false, false);
  } else if constexpr (std::is_constructible_v<R, P, Indices, PG, S, int64_t, bool, bool, Names, int64_t, bool, bool,
                                               std::vector<int64_t>>) {
    return std::make_shared<R>(params, indices, pg, sparse, cap, findUnused, false, names, firstCap, false, false,
                               std::vector<int64_t>{});
  } else {
#ifdef SIGNIN_REQUIRE_KNOWN_REDUCER
    // scripts/libtorch2-check.sh sets it: there an unknown form must fail the check, not the run.
    static_assert(sizeof(R) == 0, "c10d::Reducer has a constructor this file does not know");
#endif
    throw AddonError("DistributedDataParallel: this libtorch's c10d::Reducer has a constructor the addon does not "
                             "know; pass { overlap: false }");
  }
}

}  // namespace

// distReducerNew(params, names, bucketBytes, findUnused): a Reducer over the group, as DDP's
// constructor makes it; returns its handle.
Napi::Value DistReducerNew(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pg = ReducerProcessGroup("DistributedDataParallel");
  const std::vector<at::Tensor> params = ToTensorList(env, info[0], "parameters");
  if (params.empty()) throw ArgError("DistributedDataParallel: the module has no parameter that requires grad");
  Names names;
  const Napi::Array nameList = info[1].As<Napi::Array>();
  for (size_t i = 0; i < params.size(); i++) {
    const std::string name = i < nameList.Length() ? nameList.Get(i).ToString().Utf8Value() : std::to_string(i);
    const at::Tensor& p = params[i];
    if (!p.requires_grad() || !p.is_leaf()) throw ArgError("DistributedDataParallel: parameter " + name + " must be a leaf that requires grad");
    if (p.is_sparse()) throw ArgError("DistributedDataParallel: parameter " + name + " must be dense");
    if (p.device() != params[0].device()) throw ArgError("DistributedDataParallel: the parameters must be on one device (" + name + " is not)");
    names[i] = name;
  }
  const int64_t cap = ToInt(info[2], "bucketBytes");
  if (cap < 1) throw ArgError("bucketBytes: expected a positive byte count");
  const bool findUnused = ToBool(info[3], "findUnusedParameters");
  // As DDP: the first iteration reduces one bucket (the order gradients become ready is not known
  // yet, unless unused parameters must be found); from the second, the Reducer rebuilds buckets in
  // that order, the first of them 1 MiB so that the last layers' gradients start reducing early.
  const int64_t firstCap = std::min<int64_t>(1 << 20, cap);
  const std::vector<size_t> limits = findUnused ? std::vector<size_t>{static_cast<size_t>(firstCap), static_cast<size_t>(cap)}
                                                : std::vector<size_t>{std::numeric_limits<size_t>::max()};
  auto assigned = c10d::compute_bucket_assignment_by_size(params, limits, std::vector<bool>(params.size(), false));
  Indices indices = std::get<0>(assigned);
  std::vector<size_t> perBucket = std::get<1>(assigned);
  std::reverse(indices.begin(), indices.end());
  std::reverse(perBucket.begin(), perBucket.end());
  FilterLayoutWarning();
  Entry e;
  e.progress = std::make_shared<Progress>();
  e.reducer = MakeReducer(params, indices, perBucket, pg, cap, findUnused, names, firstCap);
  e.reducer->register_comm_hook(std::make_unique<AverageHook>(pg, e.progress));
  const int64_t id = nextId++;
  Reducers().emplace(id, std::move(e));
  return Napi::Number::New(env, static_cast<double>(id));
}

// distReducerPrepare(reducer, outputs): what DDP's forward does before backward may run; outputs
// are searched for unused parameters only when the reducer finds them.
Napi::Value DistReducerPrepare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Entry& e = Get(info[0]);
  const std::vector<at::Tensor> outputs = ToTensorList(env, info[1], "outputs");
  e.reducer->prepare_for_forward();
  e.reducer->rebuild_buckets();
  e.progress->launched = 0;
  e.progress->last = false;
  e.progress->prepared = true;
  e.reducer->prepare_for_backward(outputs);
  return env.Undefined();
}

// distReducerFinish(reducer): after backward; the number of buckets reduced. Throws when backward
// left a bucket unreduced: a parameter got no gradient, and the ranks' gradients differ.
Napi::Value DistReducerFinish(const Napi::CallbackInfo& info) {
  Entry& e = Get(info[0]);
  Progress& p = *e.progress;
  if (!p.prepared) throw ArgError("DistributedDataParallel: nothing armed the reducer for this backward: call ddp.forward() with gradients enabled, or ddp.prepareBackward(loss), before backward");
  p.prepared = false;
  if (!p.last) {
    throw CollectiveError(
        "DistributedDataParallel: backward reduced " + std::to_string(p.launched.load()) +
        " gradient bucket(s) but not all: a parameter that requires grad got no gradient (not used to compute the "
        "loss, or replaced after wrapping, e.g. by to()); pass findUnusedParameters: true, or freeze it before wrapping");
  }
  return Napi::Number::New(info.Env(), static_cast<double>(p.launched.load()));
}

Napi::Value DistReducerFree(const Napi::CallbackInfo& info) {
  Reducers().erase(ToInt(info[0], "reducer"));
  return info.Env().Undefined();
}

void FreeReducers() { Reducers().clear(); }

#else

Napi::Value DistReducerNew(const Napi::CallbackInfo&) { NoC10d(); }
Napi::Value DistReducerPrepare(const Napi::CallbackInfo&) { NoC10d(); }
Napi::Value DistReducerFinish(const Napi::CallbackInfo&) { NoC10d(); }
Napi::Value DistReducerFree(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

#endif

}  // namespace signin
