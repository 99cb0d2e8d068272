// Debian's libtorch-dev ships torch/csrc/distributed/c10d/reducer.hpp without this header, which
// reducer.hpp includes for two names: the distributed-autograd (RPC) context's pointer type, held
// by a Reducer member, and its gradient-callback type, checked by a static_assert. The addon never
// uses distributed autograd; that member is a shared_ptr and an atomic pointer whatever the
// context's definition, and every Reducer function runs inside libtorch, so these two names are
// all reducer.hpp needs. The build puts this folder on the include path only when libtorch's own
// header is missing (CMakeLists.txt, scripts/libtorch-paths.cjs).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
