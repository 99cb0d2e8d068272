// The mask-aware SGD (optim/sgd.cc): its hyperparameters, the pieces the fused update kinds share
// with it, and its extension point, the update kinds (docs/architecture.md, "Update kinds").
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "optim/sgd_kernels.h"

namespace signin {

// Hyperparameters of torch.optim.SGD, validated.
struct SgdHyper {
  double lr = 0;
  double momentum = 0;
  double dampening = 0;
  double weightDecay = 0;
  bool nesterov = false;
};

// Reads lr, momentum, dampening, nesterov, weightDecay from obj (`where` prefixes the names in
// errors, e.g. "groups[1]."); lr is required, the rest default to 0 / false.
SgdHyper ParseSgdHyper(const Napi::Object& obj, const std::string& where);

// The hyperparameters as the element kernels take them; first: no momentum update applied yet.
template <class T>
kernels::SgdCoeffs<T> Coeffs(const SgdHyper& h, bool first) {
  kernels::SgdCoeffs<T> c;
  c.lr = static_cast<T>(h.lr);
  c.momentum = static_cast<T>(h.momentum);
  c.oneMinusDampening = static_cast<T>(1.0 - h.dampening);
  c.weightDecay = static_cast<T>(h.weightDecay);
  c.nesterov = h.nesterov;
  c.first = first;
  return c;
}

kernels::MaskKind MaskKindOf(const at::Tensor& mask);

// torch.optim.SGD's direction d for one tensor with ATen ops (the fallback path for layouts and
// devices the fused loops do not take). drop (optional): mask == 0; dropped elements of d and buf
// become 0. Updates buf (defined when momentum != 0); first: buf = d.
at::Tensor SgdDirectionOps(const at::Tensor& grad, const at::Tensor& p, const at::Tensor& buf,
                           const at::Tensor& drop, const SgdHyper& h, bool first);

// Marks a tensor as modified in place (autograd's version counter), after raw-pointer writes.
void BumpVersion(const at::Tensor& t);

// Whether the fused raw-pointer path applies: every defined tensor is strided, contiguous and
// non-overlapping, and the first is float32 or float64 on the CPU or (CUDA builds) a CUDA device.
bool FusedLayout(std::initializer_list<const at::Tensor*> ts);

// ---- Update kinds: SGD's extension point ----
// A parameter group may hold, under a kind's key, entries that are updated by that kind's fused
// step with the group's hyperparameters, in the same sgdStep call as the plain parameters.
// Parsing validates an entry (nothing is written: sgdStep checks every group before it writes)
// and returns its update, which reports whether the entry had a gradient and was updated.
using EntryUpdate = std::function<bool()>;
using EntryParser =
    std::function<EntryUpdate(Napi::Env env, const Napi::Object& entry, const std::string& where, const SgdHyper& h)>;

// Registers a kind under its group key (e.g. "signin"), from a static registrar in the kind's own
// translation unit. Returns true (so that the registrar can be a constant).
bool RegisterUpdateKind(const std::string& key, EntryParser parse);

}  // namespace signin
