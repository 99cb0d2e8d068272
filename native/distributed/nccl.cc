// ProcessGroupNCCL, in CUDA builds where CMake found nccl.h (SIGNIN_WITH_NCCL). Kept in its own
// file so that a CUDA build can drop it (-DSIGNIN_NCCL=OFF) without touching the Gloo path.
#ifdef SIGNIN_WITH_NCCL

// libtorch's CMake config does not pass this to its users, and c10d's NCCL header compiles to
// nothing without it.
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif

#include "distributed/c10d.h"

#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <cstdlib>

namespace signin {

c10::intrusive_ptr<C10dGroup> MakeNcclGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            std::chrono::milliseconds timeout, int device) {
  // The addon's collectives are synchronous: with blocking waits a dead or stuck peer becomes an
  // exception after the timeout instead of NCCL's watchdog aborting the process. The group reads
  // the variable when it is constructed; a user's own setting wins.
#if SIGNIN_TORCH_AT_LEAST(2, 2)
  setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
#else
  setenv("NCCL_BLOCKING_WAIT", "1", 0);
#endif
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;
  auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts);
#if SIGNIN_TORCH_AT_LEAST(2, 3)
  // Without a bound device, barrier() guesses one from the rank.
  pg->setBoundDeviceId(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device)));
#endif
  return pg;
}

}  // namespace signin

#endif
