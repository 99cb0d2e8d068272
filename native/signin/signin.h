// Tensor-level entry points of the fused Sign-In kernels (signin.cc): the addon's signinStep,
// signinReset and signinSplit, and the SGD's "signin" update kind (optim/sgd.h).
// Argument objects come from JS; every check names the argument as the caller spelled it.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <string>

#include "convert.h"
#include "optim/sgd.h"

namespace signin {

// One Sign-In factor pair: theta = mask * m * w.
struct SigninEntry {
  at::Tensor theta, m, w, mask, bufM, bufW;  // mask, bufM, bufW may be undefined
  int64_t step = 0;                          // updates already applied (0: buf = d, like PyTorch)
};

// Parses and validates {theta, m, w, mask?, bufM?, bufW?, step?} (buffers required when
// momentum != 0). Names are `where + key`.
SigninEntry ParseSigninEntry(Napi::Env env, const Napi::Object& obj, const std::string& where,
                             const SgdHyper& h);

// Checks theta's gradient g: the shape, dtype and device of theta, no memory shared with the
// tensors the step writes.
void CheckSigninGrad(const SigninEntry& e, const at::Tensor& g, const std::string& where);

// One fused Sign-In step: reads theta.grad; returns false (nothing done) when it is undefined.
bool SigninStepTensors(const SigninEntry& e, const SgdHyper& h, const std::string& where);

// The split m = sqrt((beta + sqrt(beta^2 + 4 theta^2)) / 2), w = theta / m into m and w.
// writeTheta (reset): theta = m * w, dropped elements 0; buffers (if defined) are zeroed when
// zeroMomentum, otherwise only their dropped elements.
void SigninSplitTensors(const at::Tensor& theta, const at::Tensor& m, const at::Tensor& w,
                        const at::Tensor& mask, const at::Tensor& bufM, const at::Tensor& bufW,
                        double beta, bool writeTheta, bool zeroMomentum);

}  // namespace signin
