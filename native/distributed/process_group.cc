// Data-parallel collectives on libtorch's own c10d: one process group per process (torch's
// default group), Gloo (CPU tensors) or NCCL (CUDA builds; CUDA tensors) over a TCPStore
// (MASTER_ADDR/PORT, like torchrun) or a FileStore. The calls block the JS thread until the
// collective completes or fails: a dead or stuck peer surfaces as an error after at most the
// group's timeout, never as a hang.
//
// Gloo of libtorch 1.13 has no AVG reduction (NCCL only), so "avg" is a sum followed by a
// division. Many small tensors are reduced as flat buckets: one collective per bucket, not per
// tensor. Gradients during backward go through c10d's Reducer instead (reducer.cc).
#include <napi.h>

#include "distributed/c10d_build.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include "convert.h"
#include "distributed/group.h"
#include "exports.h"
#include "guard.h"
#include "tensor.h"

namespace signin {

namespace {

// The collective backends compiled in: Gloo where its headers were found, NCCL in CUDA builds with nccl.h.
const std::vector<std::string>& BuiltBackends() {
  static const std::vector<std::string> list{
#ifdef SIGNIN_WITH_GLOO
      "gloo",
#endif
#ifdef SIGNIN_WITH_NCCL
      "nccl",
#endif
  };
  return list;
}

#ifdef SIGNIN_WITH_C10D

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<C10dGroup> pg;
  std::string backend;
  // Where the backend's collectives run: CPU for Gloo, the rank's CUDA device for NCCL.
  c10::Device device{c10::kCPU};
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};
#if SIGNIN_TORCH_AT_LEAST(2, 0)
  // What c10d's Reducer takes since libtorch 2.0: a ProcessGroup dispatching to `pg`, made once.
  c10::intrusive_ptr<c10d::ProcessGroup> dispatcher;
#endif
};

// Never destroyed at process exit: the group's destructor joins Gloo's threads, which must not
// run from exit() while a collective may still be pending. destroyProcessGroup() frees it.
Group* group = nullptr;

Group& Current(const char* what) {
  if (!group) {
    throw ArgError(std::string(what) + ": no process group; call initProcessGroup() first");
  }
  return *group;
}

std::string Str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw ArgError(std::string("Expected a string for options.") + key + " but received " + DescribeJs(v));
  return v.As<Napi::String>().Utf8Value();
}

// Waits for a collective; the group's timeout bounds the wait, a failed peer becomes
// ERR_DISTRIBUTED, also where backward rethrows it (SyncBatchNorm's and allReduceWithGrad's).
void Wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const c10::Error& e) {
    throw CollectiveError(std::string(what) + " failed (a peer process may have exited or timed out): " +
                          e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw CollectiveError(std::string(what) + " failed (a peer process may have exited or timed out): " + e.what());
  }
}

c10d::ReduceOp ParseOp(const std::string& op) {
  if (op == "sum" || op == "avg") return c10d::ReduceOp::SUM;
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  if (op == "product") return c10d::ReduceOp::PRODUCT;
  throw ArgError("Expected op to be one of 'sum', 'avg', 'max', 'min', 'product' but received '" + op + "'");
}

void CheckCollectiveTensor(const at::Tensor& t, const std::string& name) {
  if (!t.is_contiguous()) throw ArgError(name + " must be contiguous for a collective");
  if (t.is_sparse()) throw ArgError(name + " must be dense for a collective");
}

// The tensor itself when it lives where the backend runs, else a copy there (NCCL reduces only
// CUDA tensors; callers such as the evaluation means hold CPU ones). Results are copied back.
at::Tensor OnGroupDevice(const Group& g, const at::Tensor& t) {
  return t.device() == g.device ? t : t.to(g.device);
}

void AllReduceOne(Group& g, at::Tensor t, const std::string& op) {
  std::vector<at::Tensor> ts{OnGroupDevice(g, t)};
  c10d::AllreduceOptions o;
  o.reduceOp = ParseOp(op);
  Wait(g.pg->allreduce(ts, o), "allReduce");
  if (!ts[0].is_same(t)) t.copy_(ts[0]);
  if (op == "avg") t.div_(g.size);
}

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string Text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// The rendezvous keys of the job-agreement check, beside the group's own.
const std::string kJobKeys = "signin/job/";

std::string RankKey(int rank) { return kJobKeys + "rank_" + std::to_string(rank); }
// Set once a rank's claim stands: libtorch 1.13's store wakes no wait() on a compareSet.
std::string JoinedKey(int rank) { return kJobKeys + "joined_" + std::to_string(rank); }

// "pid 123 on host": who claimed a rank, for the error that names a duplicate.
std::string ThisProcess() {
  char host[256] = {0};
  const bool named = gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0';
  return "pid " + std::to_string(getpid()) + " on " + (named ? std::string(host) : std::string("an unnamed host"));
}

// Ranks told different things about the job (a node given another --nnodes or --nproc, or the
// --node-rank of another node) would otherwise wait in Gloo for ranks that never come, or pair
// with the wrong peer: each rank claims its number in the store, and checks the world size of
// the first rank to claim, so that a disagreeing rank fails at once saying what disagrees.
// The same process joining again (destroyProcessGroup, then initProcessGroup) finds its own claim.
void CheckJobAgreement(c10d::Store& store, int rank, int size) {
  const std::string me = ThisProcess();
  const std::string mine = std::to_string(size) + " (rank " + std::to_string(rank) + ", " + me + ")";
  const std::string first = Text(store.compareSet(kJobKeys + "world_size", {}, Bytes(mine)));
  if (first.substr(0, first.find(' ')) != std::to_string(size)) {
    throw CollectiveError("initProcessGroup: this rank (" + std::to_string(rank) + ", " + me + ") was given WORLD_SIZE " +
                          std::to_string(size) + " but another was given " + first +
                          ": every node needs the same --nnodes and --nproc (torchrun's --nnodes and --nproc_per_node)");
  }
  // Claimed only once the size agrees: a rank that disagrees stays absent from the store.
  const std::string holder = Text(store.compareSet(RankKey(rank), {}, Bytes(me)));
  if (holder != me) {
    throw CollectiveError("initProcessGroup: rank " + std::to_string(rank) + " was also given to " + holder +
                          ": two nodes have the same --node-rank (torchrun's --node_rank), or two processes the same RANK");
  }
  store.set(JoinedKey(rank), Bytes(me));
}

// " [ranks absent from the store: 2,3]": the ranks that never claimed their number (they did not
// start, or were given another address); " [every rank reached the store]"; "" when the store
// cannot tell (its host is gone).
std::string AbsentRanks(c10d::Store& store, int size) {
  std::string list;
  try {
    for (int r = 0; r < size; ++r) {
      if (!store.check({JoinedKey(r)})) list += (list.empty() ? "" : ",") + std::to_string(r);
    }
  } catch (const std::exception&) {
    return "";
  }
  return list.empty() ? " [every rank reached the store]" : " [ranks absent from the store: " + list + "]";
}

// Rank 0's verdict on the wait for the others: "joined", or the note of who was absent.
const std::string kVerdictKey = kJobKeys + "verdict";
// Set by a rank once it read a failed verdict, so that rank 0's store outlives the reading.
std::string ReadKey(int rank) { return kJobKeys + "read_" + std::to_string(rank); }

// The one wait for late ranks, at most `timeout`, so that Gloo's own rendezvous, on a shorter
// timeout (GlooGroup), finds every peer there. Rank 0 waits until every rank joined
// (CheckJobAgreement; a FileStore's ranks only say they are there) and gives its verdict; the
// others wait for it (up to 1.5 × the timeout). Rank 0 starts first where it hosts the store, so
// its wait ends first: had every rank waited for the others, a rank's wait would end on a closed
// store, rank 0 gone, with no word of who was missing.
void WaitForRanks(c10d::Store& store, int rank, int size, std::chrono::milliseconds timeout) {
  if (rank == 0) {
    std::vector<std::string> keys;
    for (int r = 0; r < size; ++r) keys.push_back(JoinedKey(r));
    try {
      store.wait(keys, timeout);
    } catch (const std::exception&) {
      const std::string absent = AbsentRanks(store, size);
      store.set(kVerdictKey, Bytes(absent));
      std::vector<std::string> readers;
      for (int r = 1; r < size; ++r) {
        if (store.check({JoinedKey(r)})) readers.push_back(ReadKey(r));
      }
      try {
        store.wait(readers, std::min(timeout, std::chrono::milliseconds(2000)));
      } catch (const std::exception&) {
      }
      throw std::runtime_error("rank 0's wait for the others timed out after " + std::to_string(timeout.count()) + " ms" + absent);
    }
    store.set(kVerdictKey, Bytes("joined"));
    return;
  }
  // Half as long again: rank 0's verdict must come first, for a wait that times out leaves its
  // answer, when the key comes, to be read as the reply to the next request (AbsentRanks' checks).
  store.wait({kVerdictKey}, timeout + timeout / 2);
  const std::string verdict = Text(store.get(kVerdictKey));
  if (verdict == "joined") return;
  store.set(ReadKey(rank), Bytes("1"));
  throw std::runtime_error("rank 0's wait for the others timed out" + verdict);
}

#ifdef SIGNIN_WITH_GLOO
// Gloo waits up to 5 × its timeout for a pair's first connection (gloo/transport/tcp/pair.h), and
// c10d gives it one timeout for connecting and for collectives: a peer whose connection never
// came (an unreachable address, a firewall) held the join for 5 × the timeout. The group is built
// on a fifth of it, so that connecting ends within the timeout, and each Gloo context gets the
// full timeout back before any collective reads it (gloo's collective options take it from there).
class GlooGroup : public c10d::ProcessGroupGloo {
 public:
  GlooGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, c10::intrusive_ptr<Options> opts,
            std::chrono::milliseconds timeout)
      : ProcessGroupGloo(store, rank, size, std::move(opts)) {
    for (auto& context : contexts_) context->setTimeout(timeout);
    options_->timeout = timeout;
  }
};

c10::intrusive_ptr<C10dGroup> MakeGlooGroup(const Napi::Object& o, const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                            int size, std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupGloo::Options::create(std::max(timeout / 5, std::chrono::milliseconds(1)));
  Napi::Value dev = o.Get("interface");
  if (dev.IsString()) {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(dev.As<Napi::String>().Utf8Value()));
  } else if (o.Get("hostname").IsString()) {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(Str(o, "hostname")));
  } else {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  opts->threads = 2;
  return c10::make_intrusive<GlooGroup>(store, rank, size, opts, timeout);
}
#endif

#endif

}  // namespace

#ifdef SIGNIN_WITH_C10D

// distInit({ backend, rank, worldSize, timeoutMs, store: 'tcp'|'file', host?, port?, isServer?, prefix?,
//            path?, device? }). isServer: this rank hosts the TCPStore (rank 0, unless torchrun's
// agent hosts it); prefix: the keys' namespace in a store that outlives the group (torchrun's
// agent store keeps every restart attempt's keys).
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (group) throw ArgError("initProcessGroup: a process group already exists; call destroyProcessGroup() first");
  if (info.Length() < 1 || !info[0].IsObject()) throw ArgError("initProcessGroup: expected an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  const std::string backend = Str(o, "backend");
  const auto& built = BuiltBackends();
  if (std::find(built.begin(), built.end(), backend) == built.end()) {
    std::string list;
    for (const auto& b : built) list += (list.empty() ? "'" : ", '") + b + "'";
    throw ArgError("initProcessGroup: backend '" + backend + "' is not available in this build (it has " + list + ")");
  }
  const int rank = static_cast<int>(ToInt(o.Get("rank"), "options.rank"));
  const int size = static_cast<int>(ToInt(o.Get("worldSize"), "options.worldSize"));
  if (size < 1 || rank < 0 || rank >= size) {
    throw ArgError("initProcessGroup: expected 0 <= rank < worldSize but got rank " + std::to_string(rank) +
                   ", worldSize " + std::to_string(size));
  }
  const std::chrono::milliseconds timeout(ToInt(o.Get("timeoutMs"), "options.timeoutMs"));
  const std::string kind = Str(o, "store");
  auto g = std::make_unique<Group>();
  g->rank = rank;
  g->size = size;
  g->timeout = timeout;
  // The group's keys go under `prefix` in a store shared with others (torchrun's agent store).
  const auto scoped = [&o](const c10::intrusive_ptr<c10d::Store>& store) -> c10::intrusive_ptr<c10d::Store> {
    if (!o.Get("prefix").IsString()) return store;
    return c10::make_intrusive<c10d::PrefixStore>(Str(o, "prefix"), store);
  };
  if (kind == "file") {
    g->store = c10::make_intrusive<c10d::FileStore>(Str(o, "path"), size);
    // Not claimed, only there: a file left by a killed job would hold its claims.
    scoped(g->store)->set(JoinedKey(rank), Bytes(ThisProcess()));
  } else if (kind == "tcp") {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(ToInt(o.Get("port"), "options.port"));
    so.isServer = ToBool(o.Get("isServer"), "options.isServer");
    // No numWorkers: the constructor's own wait for the workers is an add whose reply a client
    // awaits without a socket timeout (a port held by anything but a store hung it for good), and
    // rank 0's gave up silently after the timeout, leaving Gloo to wait as long again. The ranks
    // wait for each other's claims instead (WaitForRanks). wait() on no keys sets the socket
    // timeout first and needs a store's answer.
    so.waitWorkers = false;
    so.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(Str(o, "host"), so);
    tcp->wait({}, timeout);
    // Every rank claims as it arrives, rank 0 (the store's host) first: a rank told another world
    // size is then the one that fails, naming rank 0's.
    CheckJobAgreement(*scoped(tcp), rank, size);
    g->store = tcp;
  } else {
    throw ArgError("initProcessGroup: expected store 'tcp' or 'file' but received '" + kind + "'");
  }
  g->store->setTimeout(timeout);
  g->backend = backend;
  const c10::intrusive_ptr<c10d::Store> scope = scoped(g->store);
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("signin/default_pg", scope);
  try {
    WaitForRanks(*scope, rank, size, timeout);
#ifdef SIGNIN_WITH_NCCL
    if (backend == "nccl") {
      const int device = static_cast<int>(ToInt(o.Get("device"), "options.device"));
      g->device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device));
      g->pg = MakeNcclGroup(prefixed, rank, size, timeout, device);
    }
#endif
#ifdef SIGNIN_WITH_GLOO
    if (backend == "gloo") g->pg = MakeGlooGroup(o, prefixed, rank, size, timeout);
#endif
  } catch (const std::exception& e) {
    // Gloo's own transport errors (a peer's address refused, or its connect timed out) are
    // gloo::IoExceptions, not c10::Errors: they need the same note of who reached the store.
    const auto* c10 = dynamic_cast<const c10::Error*>(&e);
    const std::string what = c10 ? c10->what_without_backtrace() : e.what();
    const bool noted = what.find(" [ranks absent") != std::string::npos || what.find(" [every rank") != std::string::npos;
    const std::string absent = kind == "tcp" && !noted ? AbsentRanks(*scope, size) : "";
    throw CollectiveError("initProcessGroup: connecting the ranks failed: " + what + absent);
  }
  group = g.release();
  return env.Undefined();
}

Napi::Value DistInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!group) return env.Null();
  Napi::Object r = Napi::Object::New(env);
  r.Set("rank", group->rank);
  r.Set("worldSize", group->size);
  r.Set("backend", group->backend);
  return r;
}

// distAllReduce(tensors, op, bucketBytes): in place; tensors of one dtype are reduced in flat
// buckets of at most bucketBytes (a tensor larger than that is its own bucket).
Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = Current("allReduce");
  std::vector<at::Tensor> ts = ToTensorList(env, info[0], "tensors");
  const std::string op = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "sum";
  ParseOp(op);
  const int64_t bucketBytes = info.Length() > 2 && info[2].IsNumber() ? ToInt(info[2], "bucketBytes") : 25 << 20;
  for (size_t i = 0; i < ts.size(); i++) CheckCollectiveTensor(ts[i], "tensors[" + std::to_string(i) + "]");
  at::NoGradGuard noGrad;
  size_t i = 0;
  while (i < ts.size()) {
    std::vector<at::Tensor> bucket{ts[i]};
    int64_t bytes = ts[i].nbytes();
    size_t j = i + 1;
    while (j < ts.size() && ts[j].scalar_type() == ts[i].scalar_type() && ts[j].device() == ts[i].device() &&
           bytes + static_cast<int64_t>(ts[j].nbytes()) <= bucketBytes) {
      bytes += ts[j].nbytes();
      bucket.push_back(ts[j++]);
    }
    if (bucket.size() == 1) {
      AllReduceOne(g, bucket[0], op);
    } else {
      std::vector<at::Tensor> flat;
      flat.reserve(bucket.size());
      for (auto& t : bucket) flat.push_back(t.reshape({-1}));
      at::Tensor buf = at::cat(flat);
      AllReduceOne(g, buf, op);
      int64_t off = 0;
      for (auto& t : bucket) {
        t.copy_(buf.narrow(0, off, t.numel()).view(t.sizes()));
        off += t.numel();
      }
    }
    i = j;
  }
  return env.Undefined();
}

// distBroadcast(tensors, root): in place, one flat buffer per dtype run like allReduce.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = Current("broadcast");
  std::vector<at::Tensor> ts = ToTensorList(env, info[0], "tensors");
  const int root = static_cast<int>(ToInt(info[1], "root"));
  if (root < 0 || root >= g.size) throw ArgError("broadcast: root " + std::to_string(root) + " is not a rank of the group");
  for (size_t i = 0; i < ts.size(); i++) CheckCollectiveTensor(ts[i], "tensors[" + std::to_string(i) + "]");
  at::NoGradGuard noGrad;
  size_t i = 0;
  while (i < ts.size()) {
    size_t j = i + 1;
    while (j < ts.size() && ts[j].scalar_type() == ts[i].scalar_type() && ts[j].device() == ts[i].device()) j++;
    std::vector<at::Tensor> flat;
    for (size_t k = i; k < j; k++) flat.push_back(ts[k].reshape({-1}));
    std::vector<at::Tensor> buf{OnGroupDevice(g, at::cat(flat))};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    Wait(g.pg->broadcast(buf, o), "broadcast");
    int64_t off = 0;
    for (size_t k = i; k < j; k++) {
      ts[k].copy_(buf[0].narrow(0, off, ts[k].numel()).view(ts[k].sizes()));
      off += ts[k].numel();
    }
    i = j;
  }
  return env.Undefined();
}

// distAllGather(tensor): a new tensor per rank, in rank order.
Napi::Value DistAllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = Current("allGather");
  at::Tensor t = NativeTensor::From(env, info[0], "tensor");
  CheckCollectiveTensor(t, "tensor");
  std::vector<at::Tensor> in{OnGroupDevice(g, t)};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g.size; r++) out[0].push_back(at::empty_like(in[0]));
  Wait(g.pg->allgather(out, in), "allGather");
  if (!in[0].is_same(t)) {
    for (auto& o : out[0]) o = o.to(t.device());
  }
  return FromTensorList(env, out[0]);
}

#if SIGNIN_TORCH_AT_LEAST(2, 0)
namespace {
// A ProcessGroup whose collectives go to the group's backend. A template, so that only the
// branch of the libtorch at hand is compiled: 2.0-2.2's constructor also takes Options (with the
// backend's name) and has no setDefaultBackend.
template <class PG = c10d::ProcessGroup>
c10::intrusive_ptr<PG> MakeDispatcher(const Group& g) {
  const auto type = g.backend == "nccl" ? PG::BackendType::NCCL : PG::BackendType::GLOO;
  c10::intrusive_ptr<PG> pg;
  if constexpr (std::is_constructible_v<PG, c10::intrusive_ptr<c10d::Store>, int, int>) {
    pg = c10::make_intrusive<PG>(g.store, g.rank, g.size);
    pg->setDefaultBackend(type);
  } else {
    pg = c10::make_intrusive<PG>(g.store, g.rank, g.size, c10::make_intrusive<typename PG::Options>(g.backend));
  }
  pg->setBackend(g.device.type(), type, g.pg);
  return pg;
}
}  // namespace
#endif

c10::intrusive_ptr<c10d::ProcessGroup> ReducerProcessGroup(const char* what) {
  Group& g = Current(what);
#if SIGNIN_TORCH_AT_LEAST(2, 0)
  if (!g.dispatcher) g.dispatcher = MakeDispatcher(g);
  return g.dispatcher;
#else
  return g.pg;
#endif
}

void GroupAllReduceSum(at::Tensor& t, const char* what) {
  AllReduceOne(Current(what), t, "sum");
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  Group& g = Current("barrier");
  Wait(g.pg->barrier(), "barrier");
  return info.Env().Undefined();
}

Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  FreeReducers();
  delete group;
  group = nullptr;
  return info.Env().Undefined();
}

#else

void NoC10d() {
  throw AddonError("distributed: this build of the addon has no c10d (libtorch or Gloo headers were missing)");
}

Napi::Value DistInit(const Napi::CallbackInfo&) { NoC10d(); }
Napi::Value DistInfo(const Napi::CallbackInfo& info) { return info.Env().Null(); }
Napi::Value DistAllReduce(const Napi::CallbackInfo&) { NoC10d(); }
Napi::Value DistBroadcast(const Napi::CallbackInfo&) { NoC10d(); }
Napi::Value DistAllGather(const Napi::CallbackInfo&) { NoC10d(); }
void GroupAllReduceSum(at::Tensor&, const char*) { NoC10d(); }
Napi::Value DistBarrier(const Napi::CallbackInfo&) { NoC10d(); }
Napi::Value DistDestroy(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

#endif

Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  Napi::Array list = Napi::Array::New(info.Env());
  for (const auto& b : BuiltBackends()) list.Set(list.Length(), b);
  return list;
}

}  // namespace signin
