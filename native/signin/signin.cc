// The fused Sign-In kernels as addon functions (architecture.md decision 3) and as the SGD's
// "signin" update kind (optim/sgd.h): argument objects, validation with messages that name the
// argument, and dispatch to the CPU loops (signin_cpu.cc), the CUDA kernels (signin_cuda.cu, CUDA
// builds) or the ATen-op fallback for other layouts and devices (StepOps, SplitOps: the one other
// place the split formula is written). The math and its conventions are in signin_kernels.h.
#include "signin/signin.h"

#include <ATen/MemoryOverlap.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/sqrt.h>

#ifdef SIGNIN_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <cmath>

#include "convert.h"
#include "exports.h"
#include "guard.h"
#include "signin/signin_kernels.h"
#include "tensor.h"

namespace signin {

namespace k = kernels;

namespace {

template <class T>
T* Ptr(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

const void* MaskPtr(const at::Tensor& mask) { return mask.defined() ? mask.data_ptr() : nullptr; }

#ifdef SIGNIN_WITH_CUDA
void CudaCheck(const char* err, const char* what) {
  if (err) throw AddonError(std::string(what) + " failed on the GPU: " + err);
}
#endif

template <class T>
void StepFused(const SigninEntry& e, const at::Tensor& g, const SgdHyper& h) {
  k::SigninStepArgs<T> a;
  a.n = e.theta.numel();
  a.grad = g.data_ptr<T>();
  a.theta = e.theta.data_ptr<T>();
  a.m = e.m.data_ptr<T>();
  a.w = e.w.data_ptr<T>();
  a.bufM = h.momentum != 0 ? Ptr<T>(e.bufM) : nullptr;
  a.bufW = h.momentum != 0 ? Ptr<T>(e.bufW) : nullptr;
  a.mask = MaskPtr(e.mask);
  a.maskKind = MaskKindOf(e.mask);
  a.c = Coeffs<T>(h, e.step <= 0);
  if (a.n == 0) return;
  if (e.theta.is_cuda()) {
#ifdef SIGNIN_WITH_CUDA
    c10::cuda::CUDAGuard guard(e.theta.device());
    CudaCheck(k::SigninStepCuda(a, c10::cuda::getCurrentCUDAStream().stream()), "signinStep");
#endif
    return;
  }
  k::SigninStepCpu(a);
}

template <class T>
void SplitFused(const at::Tensor& theta, const at::Tensor& m, const at::Tensor& w, const at::Tensor& mask,
                const at::Tensor& bufM, const at::Tensor& bufW, double beta, bool writeTheta, bool zeroMomentum) {
  k::SigninSplitArgs<T> a;
  a.n = theta.numel();
  a.theta = theta.data_ptr<T>();
  a.m = m.data_ptr<T>();
  a.w = w.data_ptr<T>();
  a.bufM = Ptr<T>(bufM);
  a.bufW = Ptr<T>(bufW);
  a.mask = MaskPtr(mask);
  a.maskKind = MaskKindOf(mask);
  a.beta = static_cast<T>(beta);
  a.writeTheta = writeTheta;
  a.zeroMomentum = zeroMomentum;
  if (a.n == 0) return;
  if (theta.is_cuda()) {
#ifdef SIGNIN_WITH_CUDA
    c10::cuda::CUDAGuard guard(theta.device());
    CudaCheck(k::SigninSplitCuda(a, c10::cuda::getCurrentCUDAStream().stream()), "signinReset");
#endif
    return;
  }
  k::SigninSplitCpu(a);
}

void StepOps(const SigninEntry& e, const at::Tensor& g, const SgdHyper& h) {
  at::Tensor drop = e.mask.defined() ? e.mask.eq(0) : at::Tensor();
  const bool first = e.step <= 0;
  // Both directions from the old m and w; the updates come after.
  at::Tensor dm = SgdDirectionOps(e.w.mul(g), e.m, e.bufM, drop, h, first);
  at::Tensor dw = SgdDirectionOps(e.m.mul(g), e.w, e.bufW, drop, h, first);
  e.m.add_(dm, -h.lr);
  e.w.add_(dw, -h.lr);
  if (drop.defined()) e.w.masked_fill_(drop, 0);
  e.theta.copy_(e.m.mul(e.w));
  if (drop.defined()) e.theta.masked_fill_(drop, 0);
}

void SplitOps(const at::Tensor& theta, const at::Tensor& m, const at::Tensor& w, const at::Tensor& mask,
              const at::Tensor& bufM, const at::Tensor& bufW, double beta, bool writeTheta, bool zeroMomentum) {
  at::Tensor s = at::sqrt(theta.mul(theta).mul_(4.0).add_(beta * beta));
  at::Tensor mm = at::sqrt(s.add(beta).mul_(0.5));
  at::Tensor ww = theta.div(mm);
  m.copy_(mm);
  w.copy_(ww);
  at::Tensor drop = mask.defined() ? mask.eq(0) : at::Tensor();
  if (drop.defined()) {
    m.masked_fill_(drop, std::sqrt(beta));
    w.masked_fill_(drop, 0);
  }
  if (writeTheta) {
    theta.copy_(m.mul(w));
    if (drop.defined()) theta.masked_fill_(drop, 0);
  }
  for (const at::Tensor* b : {&bufM, &bufW}) {
    if (!b->defined()) continue;
    if (zeroMomentum) {
      b->zero_();
    } else if (drop.defined()) {
      b->masked_fill_(drop, 0);
    }
  }
}

}  // namespace

SigninEntry ParseSigninEntry(Napi::Env env, const Napi::Object& obj, const std::string& where, const SgdHyper& h) {
  SigninEntry e;
  e.theta = TensorProp(env, obj, "theta", where, false);
  e.m = TensorProp(env, obj, "m", where, false);
  e.w = TensorProp(env, obj, "w", where, false);
  e.mask = TensorProp(env, obj, "mask", where, true);
  const bool needBuffers = h.momentum != 0;
  e.bufM = TensorProp(env, obj, "bufM", where, !needBuffers);
  e.bufW = TensorProp(env, obj, "bufW", where, !needBuffers);
  Napi::Value step = obj.Get("step");
  e.step = step.IsUndefined() ? 0 : ToInt(step, where + "step");
  if (needBuffers && step.IsUndefined()) {
    throw ArgError("Expected the number of updates already applied (0 on the first step) for " + where +
                   "step but received undefined");
  }
  const std::string theta = where + "theta";
  const auto st = e.theta.scalar_type();
  if (st != at::kFloat && st != at::kDouble) {
    throw ArgError("Expected " + theta + " with dtype float32 or float64 but received " + DtypeName(st));
  }
  CheckLike(e.m, where + "m", e.theta, theta);
  CheckLike(e.w, where + "w", e.theta, theta);
  if (e.mask.defined()) CheckMask(e.mask, where + "mask", e.theta, theta);
  if (e.bufM.defined()) CheckLike(e.bufM, where + "bufM", e.theta, theta);
  if (e.bufW.defined()) CheckLike(e.bufW, where + "bufW", e.theta, theta);
  if (e.mask.defined() && e.mask.layout() != at::kStrided) {
    throw ArgError("Expected a dense (strided) tensor for " + where + "mask but received layout " +
                   c10::toString(e.mask.layout()));
  }
  const std::pair<const at::Tensor*, const char*> written[] = {
      {&e.theta, "theta"}, {&e.m, "m"}, {&e.w, "w"}, {&e.bufM, "bufM"}, {&e.bufW, "bufW"}};
  for (const auto& [t, name] : written) CheckWritable(*t, where + name);
  for (size_t i = 0; i < 5; ++i) {
    for (size_t j = i + 1; j < 5; ++j) {
      CheckNoOverlap(*written[i].first, where + written[i].second, *written[j].first, where + written[j].second);
    }
  }
  return e;
}

void CheckSigninGrad(const SigninEntry& e, const at::Tensor& g, const std::string& where) {
  CheckLike(g, where + "theta.grad", e.theta, where + "theta");
  if (g.layout() != at::kStrided) {
    throw ArgError("Expected a dense (strided) tensor for " + where + "theta.grad but received layout " +
                   c10::toString(g.layout()));
  }
  for (const auto& [t, name] : {std::pair<const at::Tensor*, const char*>{&e.theta, "theta"}, {&e.m, "m"}, {&e.w, "w"},
                                {&e.bufM, "bufM"}, {&e.bufW, "bufW"}}) {
    CheckNoOverlap(*t, where + name, g, where + "theta.grad");
  }
}

bool SigninStepTensors(const SigninEntry& e, const SgdHyper& h, const std::string& where) {
  at::Tensor g = e.theta.grad();
  if (!g.defined()) return false;
  CheckSigninGrad(e, g, where);
  at::NoGradGuard noGrad;
  const at::Tensor bufM = h.momentum != 0 ? e.bufM : at::Tensor();
  const at::Tensor bufW = h.momentum != 0 ? e.bufW : at::Tensor();
  if (FusedLayout({&e.theta, &g, &e.m, &e.w, &e.mask, &bufM, &bufW})) {
    if (e.theta.scalar_type() == at::kFloat) {
      StepFused<float>(e, g, h);
    } else {
      StepFused<double>(e, g, h);
    }
  } else {
    StepOps(e, g, h);
  }
  for (const at::Tensor* t : {&e.theta, &e.m, &e.w, &bufM, &bufW}) BumpVersion(*t);
  return true;
}

void SigninSplitTensors(const at::Tensor& theta, const at::Tensor& m, const at::Tensor& w, const at::Tensor& mask,
                        const at::Tensor& bufM, const at::Tensor& bufW, double beta, bool writeTheta,
                        bool zeroMomentum) {
  at::NoGradGuard noGrad;
  // The fused loops take both momentum buffers or neither.
  if (bufM.defined() == bufW.defined() && FusedLayout({&theta, &m, &w, &mask, &bufM, &bufW})) {
    if (theta.scalar_type() == at::kFloat) {
      SplitFused<float>(theta, m, w, mask, bufM, bufW, beta, writeTheta, zeroMomentum);
    } else {
      SplitFused<double>(theta, m, w, mask, bufM, bufW, beta, writeTheta, zeroMomentum);
    }
  } else {
    SplitOps(theta, m, w, mask, bufM, bufW, beta, writeTheta, zeroMomentum);
  }
  for (const at::Tensor* t : {&m, &w, &bufM, &bufW}) BumpVersion(*t);
  if (writeTheta) BumpVersion(theta);
}

// The SGD's "signin" update kind: entries {theta, m, w, mask?, bufM?, bufW?, step} of a group.
namespace {

const bool kSigninUpdateKind = RegisterUpdateKind(
    "signin", [](Napi::Env env, const Napi::Object& obj, const std::string& where, const SgdHyper& h) -> EntryUpdate {
      SigninEntry e = ParseSigninEntry(env, obj, where, h);
      const at::Tensor& g = e.theta.grad();
      if (g.defined()) CheckSigninGrad(e, g, where);
      return [e, h, where]() { return SigninStepTensors(e, h, where); };
    });

}  // namespace

// ---------------------------------------------------------------------------------------------
// Exports

namespace {

// beta's range (finite, > 0) is checked once, in TypeScript (checkBeta, src/signin/kernels.ts).
double ParseBeta(const Napi::Object& obj) { return NumberProp(obj, "beta", "", false, 1.0); }

}  // namespace

// signinStep({theta, m, w, mask?, bufM?, bufW?, lr, momentum?, dampening?, nesterov?, weightDecay?, step?})
// -> true when theta had a gradient and the step was applied, false otherwise.
Napi::Value SigninStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object obj = ObjectArg(info[0], "args");
  SgdHyper h = ParseSgdHyper(obj, "");
  SigninEntry e = ParseSigninEntry(env, obj, "", h);
  return Napi::Boolean::New(env, SigninStepTensors(e, h, ""));
}

// signinReset({theta, m, w, mask?, beta?, zeroMomentum?, bufM?, bufW?}): re-splits m and w with
// m^2 - w^2 = beta, theta unchanged (dropped elements: theta = 0, m = sqrt(beta), w = 0).
Napi::Value SigninReset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object obj = ObjectArg(info[0], "args");
  SgdHyper none;
  SigninEntry e = ParseSigninEntry(env, obj, "", none);
  double beta = ParseBeta(obj);
  bool zeroMomentum = BoolProp(obj, "zeroMomentum", "", false);
  SigninSplitTensors(e.theta, e.m, e.w, e.mask, e.bufM, e.bufW, beta, /*writeTheta=*/true, zeroMomentum);
  return env.Undefined();
}

// signinSplit({theta, mask?, beta?}) -> {m, w}: new tensors, theta is not modified.
Napi::Value SigninSplit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object obj = ObjectArg(info[0], "args");
  at::Tensor theta = TensorProp(env, obj, "theta", "", false);
  at::Tensor mask = TensorProp(env, obj, "mask", "", true);
  const auto st = theta.scalar_type();
  if (st != at::kFloat && st != at::kDouble) {
    throw ArgError("Expected theta with dtype float32 or float64 but received " + DtypeName(st));
  }
  if (mask.defined()) CheckMask(mask, "mask", theta, "theta");
  double beta = ParseBeta(obj);
  at::Tensor m = at::empty_like(theta, at::MemoryFormat::Contiguous);
  at::Tensor w = at::empty_like(theta, at::MemoryFormat::Contiguous);
  SigninSplitTensors(theta, m, w, mask, at::Tensor(), at::Tensor(), beta, /*writeTheta=*/false, false);
  Napi::Object out = Napi::Object::New(env);
  out.Set("m", NativeTensor::Wrap(env, m));
  out.Set("w", NativeTensor::Wrap(env, w));
  return out;
}

}  // namespace signin
