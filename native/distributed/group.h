// The default process group's sum, for code outside process_group.cc (autograd_collectives.cc).
#pragma once

#include <ATen/core/Tensor.h>

namespace signin {

// Sums `t` over the ranks in place, on the group's device and back; `what` names the caller in
// errors (no group, a peer gone or timed out). Builds without c10d throw.
void GroupAllReduceSum(at::Tensor& t, const char* what);

// What every collective of a build without c10d throws (process_group.cc).
[[noreturn]] void NoC10d();

}  // namespace signin
