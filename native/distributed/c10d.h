// c10d's pieces that both collective backends share. libtorch 2.0 split ProcessGroup into a
// dispatching wrapper over per-device Backends: Gloo and NCCL derive from c10d::Backend there and
// from c10d::ProcessGroup before, with the same collective signatures.
#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

#include "torch_compat.h"

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#if SIGNIN_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/distributed/c10d/Backend.hpp>
#endif

namespace signin {

#if SIGNIN_TORCH_AT_LEAST(2, 0)
using C10dGroup = c10d::Backend;
#else
using C10dGroup = c10d::ProcessGroup;
#endif

// The current group as c10d's Reducer takes it (process_group.cc); throws without a group.
c10::intrusive_ptr<c10d::ProcessGroup> ReducerProcessGroup(const char* what);
// Frees every Reducer before the group they reduce over goes (reducer.cc).
void FreeReducers();

#ifdef SIGNIN_WITH_NCCL
// A ProcessGroupNCCL whose collectives run on CUDA device `device` (native/distributed/nccl.cc).
c10::intrusive_ptr<C10dGroup> MakeNcclGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            std::chrono::milliseconds timeout, int device);
#endif

}  // namespace signin
