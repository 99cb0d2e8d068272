// Which c10d pieces this build has, decided from the headers found: SIGNIN_WITH_GLOO,
// SIGNIN_WITH_NCCL (set by the build for CUDA builds with nccl.h) and SIGNIN_WITH_C10D (either).
// Every file that touches c10d includes this first, so that all of them agree.
#pragma once

// pip's torch wheels ship no Gloo headers, so a build against one has NCCL (with CUDA) or nothing.
#if __has_include(<gloo/context.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#define SIGNIN_WITH_GLOO 1
#endif
#if defined(SIGNIN_WITH_GLOO) || defined(SIGNIN_WITH_NCCL)
#define SIGNIN_WITH_C10D 1
// libtorch's CMake config defines these for its users (Caffe2Targets.cmake); node-gyp does not,
// and c10d's Gloo header compiles to nothing without them.
#if defined(SIGNIN_WITH_GLOO) && !defined(USE_C10D_GLOO)
#define USE_C10D_GLOO
#endif
#ifndef USE_DISTRIBUTED
#define USE_DISTRIBUTED
#endif
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "distributed/c10d.h"
#ifdef SIGNIN_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#endif
