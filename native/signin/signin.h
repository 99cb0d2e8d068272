// Tensor-level entry points of the fused optimizer kernels, shared by signin.cc (signinStep,
// signinReset, signinSplit) and optim/sgd.cc (sgdStep, which also runs Sign-In entries).
// Argument objects come from JS; every check names the argument as the caller spelled it.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <initializer_list>
#include <string>

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

// A tensor property of an argument object: a live NativeTensor or (optional) undefined/null.
// Errors name `where + key` ("Expected a Tensor for groups[0].signin[2].m but received ...",
// "Expected a live Tensor for m but received a disposed one ...").
at::Tensor TensorProp(Napi::Env env, const Napi::Object& obj, const std::string& key,
                      const std::string& where, bool optional);
at::Tensor TensorValue(Napi::Env env, const Napi::Value& v, const std::string& name, bool optional);

// Checks that t has the shape, dtype and device of ref:
// "Expected m with the shape of theta [64, 3, 3, 3] but received [64, 3, 3]".
void CheckLike(const at::Tensor& t, const std::string& name, const at::Tensor& ref,
               const std::string& refName, bool sameDtype = true);
// A mask: the shape and device of ref, dtype of ref or bool.
void CheckMask(const at::Tensor& mask, const std::string& name, const at::Tensor& ref,
               const std::string& refName);
// Fails unless t (when defined) is strided with no internal overlap, so in-place writes cannot
// fail after others were done.
void CheckWritable(const at::Tensor& t, const std::string& name);
// Fails when a and b share memory (the fused kernels write through non-aliased pointers).
void CheckNoOverlap(const at::Tensor& a, const std::string& aName, const at::Tensor& b,
                    const std::string& bName);

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
// writeTheta: dropped elements of theta become 0 (reset); buffers (if defined) are zeroed when
// zeroMomentum, otherwise only their dropped elements.
void SigninSplitTensors(const at::Tensor& theta, const at::Tensor& m, const at::Tensor& w,
                        const at::Tensor& mask, const at::Tensor& bufM, const at::Tensor& bufW,
                        double beta, bool writeTheta, bool zeroMomentum);

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

std::string ShapeString(at::IntArrayRef sizes);

}  // namespace signin
