// Fused, mask-aware SGD: one native call updates every parameter of every group (architecture.md
// decisions 1 and 2). Exactly torch.optim.SGD (momentum, dampening, nesterov, weight decay),
// in place under no-grad; with a mask, the gradient, the decay term, the momentum buffer and the
// weight are masked, so dropped elements of all three are exactly 0 after every step. Entries of
// a registered update kind (optim/sgd.h; Sign-In registers "signin") listed in a group are
// updated by that kind's fused step in the same call.
//
// First step: like PyTorch, the first momentum update of a tensor sets buf = d (no dampening).
// The TS optimizer keeps a per-parameter count of applied updates and passes it as `steps`
// (0 = first); the call returns which parameters were updated so that it can count them.
#include "optim/sgd.h"

#include <ATen/MemoryOverlap.h>
#include <ATen/core/grad_mode.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "convert.h"
#include "exports.h"
#include "guard.h"
#include "tensor.h"

namespace signin {

namespace k = kernels;

namespace {

// Update kinds by group key, ordered so that every call visits them in the same order.
std::map<std::string, EntryParser>& UpdateKinds() {
  static std::map<std::string, EntryParser> kinds;
  return kinds;
}

}  // namespace

bool RegisterUpdateKind(const std::string& key, EntryParser parse) {
  UpdateKinds()[key] = std::move(parse);
  return true;
}

// The values' ranges are checked once, in TypeScript (sgdHyper, src/optim/native.ts), at the SGD
// and signinStep: out-of-range values give wrong numbers, never unsafe memory accesses.
SgdHyper ParseSgdHyper(const Napi::Object& obj, const std::string& where) {
  SgdHyper h;
  h.lr = NumberProp(obj, "lr", where, true, 0);
  h.momentum = NumberProp(obj, "momentum", where, false, 0);
  h.dampening = NumberProp(obj, "dampening", where, false, 0);
  h.weightDecay = NumberProp(obj, "weightDecay", where, false, 0);
  h.nesterov = BoolProp(obj, "nesterov", where, false);
  return h;
}

void BumpVersion(const at::Tensor& t) {
  if (t.defined()) t.unsafeGetTensorImpl()->bump_version();
}

bool FusedLayout(std::initializer_list<const at::Tensor*> ts) {
  const at::Tensor& first = **ts.begin();
  if (first.scalar_type() != at::kFloat && first.scalar_type() != at::kDouble) return false;
  const bool cpu = first.is_cpu();
  if (first.is_cuda()) {
#ifndef SIGNIN_WITH_CUDA
    throw ArgError("Received a CUDA tensor (" + first.device().str() +
                   ") but this build of signin-torch has no CUDA kernels: rebuild it against a libtorch with CUDA");
#endif
  } else if (!cpu) {
    return false;
  }
  for (const at::Tensor* t : ts) {
    if (!t->defined()) continue;
    if (t->layout() != at::kStrided || !t->is_contiguous() || t->is_neg() || t->is_conj()) return false;
    if (at::has_internal_overlap(*t) != at::MemOverlap::No) return false;
  }
  return true;
}

k::MaskKind MaskKindOf(const at::Tensor& mask) {
  if (!mask.defined()) return k::MaskKind::kNone;
  return mask.scalar_type() == at::kBool ? k::MaskKind::kBool : k::MaskKind::kSame;
}

at::Tensor SgdDirectionOps(const at::Tensor& grad, const at::Tensor& p, const at::Tensor& buf, const at::Tensor& drop,
                        const SgdHyper& h, bool first) {
  at::Tensor d = h.weightDecay != 0 ? grad.add(p, h.weightDecay) : grad.clone();
  if (drop.defined()) d.masked_fill_(drop, 0);
  if (h.momentum == 0) return d;
  if (first) {
    buf.copy_(d);
  } else {
    buf.mul_(h.momentum).add_(d, 1.0 - h.dampening);
    if (drop.defined()) buf.masked_fill_(drop, 0);
  }
  return h.nesterov ? d.add(buf, h.momentum) : buf.clone();
}

namespace {

struct SgdItem {
  at::Tensor p, g, mask, buf;
  bool first = true;
};

struct GroupWork {
  SgdHyper h;
  std::vector<SgdItem> params;  // g undefined: skipped (no gradient)
  std::vector<std::pair<std::string, std::vector<EntryUpdate>>> kinds;  // per update kind, its entries
};

Napi::Array OptionalArray(const Napi::Object& group, const char* key, const std::string& where, uint32_t length,
                          bool required, const std::string& why) {
  Napi::Value v = group.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) {
      throw ArgError("Expected an array of " + std::to_string(length) + " entries for " + where + key + " (" + why +
                     ") but received " + DescribeJs(v));
    }
    return Napi::Array();
  }
  if (!v.IsArray() || v.As<Napi::Array>().Length() != length) {
    throw ArgError("Expected an array of " + std::to_string(length) + " entries (one per parameter) for " + where +
                   key + " but received " +
                   (v.IsArray() ? "one of " + std::to_string(v.As<Napi::Array>().Length()) : DescribeJs(v)));
  }
  return v.As<Napi::Array>();
}

template <class T>
void SgdFused(const SgdItem& it, const SgdHyper& h) {
  k::SgdArgs<T> a;
  a.n = it.p.numel();
  a.param = it.p.data_ptr<T>();
  a.grad = it.g.data_ptr<T>();
  a.buf = h.momentum != 0 ? it.buf.data_ptr<T>() : nullptr;
  a.mask = it.mask.defined() ? it.mask.data_ptr() : nullptr;
  a.maskKind = MaskKindOf(it.mask);
  a.c = Coeffs<T>(h, it.first);
  if (a.n > 0) k::SgdCpu(a);
}

void SgdOps(const SgdItem& it, const SgdHyper& h) {
  at::Tensor drop = it.mask.defined() ? it.mask.eq(0) : at::Tensor();
  if (drop.defined()) it.g.masked_fill_(drop, 0);
  at::Tensor d = SgdDirectionOps(it.g, it.p, h.momentum != 0 ? it.buf : at::Tensor(), drop, h, it.first);
  it.p.add_(d, -h.lr);
  if (drop.defined()) it.p.masked_fill_(drop, 0);
}

void RunSgd(const SgdItem& it, const SgdHyper& h) {
  const at::Tensor buf = h.momentum != 0 ? it.buf : at::Tensor();
  const bool fused = it.p.is_cpu() && FusedLayout({&it.p, &it.g, &it.mask, &buf});
  if (fused) {
    if (it.p.scalar_type() == at::kFloat) {
      SgdFused<float>(it, h);
    } else {
      SgdFused<double>(it, h);
    }
  } else {
    SgdOps(it, h);
  }
  BumpVersion(it.p);
  BumpVersion(buf);
  if (it.mask.defined()) BumpVersion(it.g);
}

GroupWork ParseGroup(Napi::Env env, const Napi::Value& value, uint32_t gi) {
  const std::string where = "groups[" + std::to_string(gi) + "].";
  if (!value.IsObject() || value.IsArray()) {
    throw ArgError("Expected an object for groups[" + std::to_string(gi) + "] but received " + DescribeJs(value));
  }
  Napi::Object group = value.As<Napi::Object>();
  GroupWork work;
  work.h = ParseSgdHyper(group, where);
  const bool momentum = work.h.momentum != 0;

  Napi::Value paramsValue = group.Get("params");
  if (!paramsValue.IsArray()) {
    throw ArgError("Expected an array of tensors for " + where + "params but received " + DescribeJs(paramsValue));
  }
  Napi::Array params = paramsValue.As<Napi::Array>();
  const uint32_t n = params.Length();
  Napi::Array masks = OptionalArray(group, "masks", where, n, false, "");
  Napi::Array buffers = OptionalArray(group, "momentumBuffers", where, n, momentum && n > 0, "momentum is not 0");
  Napi::Array steps = OptionalArray(group, "steps", where, n, momentum && n > 0, "momentum is not 0");
  Napi::Array names = OptionalArray(group, "names", where, n, false, "");

  work.params.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const std::string idx = "[" + std::to_string(i) + "]";
    std::string pName = where + "params" + idx;
    std::string mName = where + "masks" + idx;
    std::string bName = where + "momentumBuffers" + idx;
    if (!names.IsEmpty() && names.Get(i).IsString()) {
      const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      pName = "parameter " + name;
      mName = "the mask of " + name;
      bName = "the momentum buffer of " + name;
    }
    SgdItem& it = work.params[i];
    it.p = TensorValue(env, params.Get(i), pName, false);
    if (!masks.IsEmpty()) it.mask = TensorValue(env, masks.Get(i), mName, true);
    if (momentum) {
      it.buf = TensorValue(env, buffers.Get(i), bName, false);
      it.first = ToInt(steps.Get(i), where + "steps" + idx) <= 0;
    }
    if (!at::isFloatingType(it.p.scalar_type())) {
      throw ArgError("Expected " + pName + " with a floating dtype but received " + DtypeName(it.p.scalar_type()));
    }
    CheckWritable(it.p, pName);
    CheckWritable(it.buf, bName);
    if (it.mask.defined() && it.mask.layout() != at::kStrided) {
      throw ArgError("Expected a dense (strided) tensor for " + mName + " but received a sparse or other non-strided one");
    }
    if (it.mask.defined()) CheckMask(it.mask, mName, it.p, pName);
    if (it.buf.defined()) {
      CheckLike(it.buf, bName, it.p, pName);
      CheckNoOverlap(it.p, pName, it.buf, bName);
    }
    it.g = it.p.grad();
    if (it.g.defined()) {
      CheckLike(it.g, pName + ".grad", it.p, pName);
      // With a mask, the gradient itself is masked in place.
      if (it.mask.defined()) {
        CheckWritable(it.g, pName + ".grad");
      } else if (it.g.layout() != at::kStrided) {
        throw ArgError("Expected a dense (strided) tensor for " + pName + ".grad but received layout " +
                       c10::toString(it.g.layout()));
      }
      CheckNoOverlap(it.p, pName, it.g, pName + ".grad");
      CheckNoOverlap(it.buf, bName, it.g, pName + ".grad");
    }
  }

  for (const auto& [key, parse] : UpdateKinds()) {
    Napi::Value entriesValue = group.Get(key);
    std::vector<EntryUpdate> updates;
    if (!entriesValue.IsUndefined() && !entriesValue.IsNull()) {
      if (!entriesValue.IsArray()) {
        throw ArgError("Expected an array of " + key + " entries for " + where + key + " but received " +
                       DescribeJs(entriesValue));
      }
      Napi::Array entries = entriesValue.As<Napi::Array>();
      for (uint32_t i = 0; i < entries.Length(); ++i) {
        const std::string ew = where + key + "[" + std::to_string(i) + "]";
        Napi::Value ev = entries.Get(i);
        if (!ev.IsObject() || ev.IsArray()) throw ArgError("Expected an object for " + ew + " but received " + DescribeJs(ev));
        updates.push_back(parse(env, ev.As<Napi::Object>(), ew + ".", work.h));
      }
    }
    work.kinds.emplace_back(key, std::move(updates));
  }
  return work;
}

}  // namespace

// sgdStep(groups): groups = [{params, masks?, momentumBuffers?, steps?, names?, lr, momentum?,
// dampening?, nesterov?, weightDecay?, <kind>?}], <kind> the key of a registered update kind (an
// array of its entries). Everything is validated before anything is written. Returns
// [{params: boolean[], <kind>: boolean[]}]: true where a gradient existed and the update was applied.
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw ArgError("Expected an array of parameter groups for groups but received " + DescribeJs(info[0]));
  Napi::Array groups = info[0].As<Napi::Array>();
  std::vector<GroupWork> work;
  work.reserve(groups.Length());
  for (uint32_t gi = 0; gi < groups.Length(); ++gi) work.push_back(ParseGroup(env, groups.Get(gi), gi));

  Napi::Array out = Napi::Array::New(env, work.size());
  {
    at::NoGradGuard noGrad;
    for (size_t gi = 0; gi < work.size(); ++gi) {
      const GroupWork& gw = work[gi];
      Napi::Array updated = Napi::Array::New(env, gw.params.size());
      for (size_t i = 0; i < gw.params.size(); ++i) {
        const SgdItem& it = gw.params[i];
        if (it.g.defined()) RunSgd(it, gw.h);
        updated.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, it.g.defined()));
      }
      Napi::Object r = Napi::Object::New(env);
      r.Set("params", updated);
      for (const auto& [key, updates] : gw.kinds) {
        Napi::Array done = Napi::Array::New(env, updates.size());
        for (size_t i = 0; i < updates.size(); ++i) done.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, updates[i]()));
        r.Set(key, done);
      }
      out.Set(static_cast<uint32_t>(gi), r);
    }
  }
  return out;
}

}  // namespace signin
