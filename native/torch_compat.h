// The libtorch API differences this addon meets, decided at compile time. Debian's libtorch is
// 1.13; the GPU machine's (PyTorch's pip package) is 2.x. Keep each difference to one #if here or
// at its single use, so that a reader sees which versions take which path.
#pragma once

#include <torch/csrc/api/include/torch/version.h>

// An undefined macro reads as 0 in #if, which would silently take every 1.13 path (2.x moved the
// definitions to torch/headeronly/version.h, which this header still reaches).
#ifndef TORCH_VERSION_MAJOR
#error "signin-torch: the libtorch headers define no TORCH_VERSION_MAJOR"
#endif

// True when the libtorch being compiled against is at least major.minor.
#define SIGNIN_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))
