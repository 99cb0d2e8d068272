// The fused Sign-In kernels as addon functions (architecture.md decision 3): argument objects,
// validation with messages that name the argument, and dispatch to the CPU loops
// (signin_cpu.cc), the CUDA kernels (signin_cuda.cu, CUDA builds) or an ATen-op fallback for
// other layouts and devices. The math and its conventions are documented in signin_kernels.h.
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
#include <sstream>

#include "convert.h"
#include "exports.h"
#include "guard.h"
#include "signin/signin_kernels.h"
#include "tensor.h"

namespace signin {

namespace k = kernels;

// ---------------------------------------------------------------------------------------------
// Argument helpers (also used by optim/sgd.cc)

std::string ShapeString(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << "]";
  return out.str();
}

at::Tensor TensorValue(Napi::Env env, const Napi::Value& v, const std::string& name, bool optional) {
  if (v.IsUndefined() || v.IsNull()) {
    if (optional) return at::Tensor();
    throw ArgError("Expected a Tensor for " + name + " but received " + DescribeJs(v));
  }
  if (!NativeTensor::Is(env, v)) throw ArgError("Expected a Tensor for " + name + " but received " + DescribeJs(v));
  try {
    return NativeTensor::From(env, v, name);
  } catch (const DisposedError&) {
    throw CodedError(env,
                     "Expected a live Tensor for " + name +
                         " but received a disposed one (released by dispose() or by the tidy() scope that created it)",
                     "ERR_TENSOR_DISPOSED");
  }
}

at::Tensor TensorProp(Napi::Env env, const Napi::Object& obj, const std::string& key, const std::string& where,
                      bool optional) {
  return TensorValue(env, obj.Get(key), where + key, optional);
}

void CheckLike(const at::Tensor& t, const std::string& name, const at::Tensor& ref, const std::string& refName,
               bool sameDtype) {
  if (!t.sizes().equals(ref.sizes())) {
    throw ArgError("Expected " + name + " with the shape of " + refName + " " + ShapeString(ref.sizes()) +
                   " but received " + ShapeString(t.sizes()));
  }
  if (sameDtype && t.scalar_type() != ref.scalar_type()) {
    throw ArgError("Expected " + name + " with the dtype of " + refName + " (" + DtypeName(ref.scalar_type()) +
                   ") but received " + DtypeName(t.scalar_type()));
  }
  if (t.device() != ref.device()) {
    throw ArgError("Expected " + name + " on the device of " + refName + " (" + ref.device().str() +
                   ") but received a tensor on " + t.device().str());
  }
}

void CheckMask(const at::Tensor& mask, const std::string& name, const at::Tensor& ref, const std::string& refName) {
  CheckLike(mask, name, ref, refName, /*sameDtype=*/false);
  if (mask.scalar_type() != ref.scalar_type() && mask.scalar_type() != at::kBool) {
    throw ArgError("Expected " + name + " with the dtype of " + refName + " (" + DtypeName(ref.scalar_type()) +
                   ") or bool but received " + DtypeName(mask.scalar_type()));
  }
}

void CheckWritable(const at::Tensor& t, const std::string& name) {
  if (!t.defined()) return;
  if (t.layout() != at::kStrided) {
    throw ArgError("Expected a dense (strided) tensor for " + name + " but received a sparse or other non-strided one");
  }
  // An expanded tensor (stride 0) cannot be written in place; finding out midway through a step
  // would leave the tensors written before it updated and the rest not.
  if (at::has_internal_overlap(t) == at::MemOverlap::Yes) {
    throw ArgError("Expected " + name + " whose elements do not share memory (no stride 0, e.g. not from expand()) " +
                   "but received one with strides " + ShapeString(t.strides()));
  }
}

void CheckNoOverlap(const at::Tensor& a, const std::string& aName, const at::Tensor& b, const std::string& bName) {
  if (!a.defined() || !b.defined()) return;
  auto status = at::get_overlap_status(a, b);
  if (status == at::MemOverlapStatus::Full || status == at::MemOverlapStatus::Partial) {
    throw ArgError("Expected " + bName + " not to share memory with " + aName + " but it does");
  }
}

namespace {

double NumberProp(const Napi::Object& obj, const std::string& key, const std::string& where, bool required,
                  double fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() && !required) return fallback;
  double d = ToDouble(v, where + key);
  if (!std::isfinite(d)) throw ArgError("Expected a finite number for " + where + key + " but received " + DescribeJs(v));
  return d;
}

bool BoolProp(const Napi::Object& obj, const std::string& key, const std::string& where, bool fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return fallback;
  return ToBool(v, where + key);
}

std::string Num(double d) {
  std::ostringstream out;
  out << d;
  return out.str();
}

void NonNegative(double v, const std::string& name) {
  if (v < 0) throw ArgError("Expected a non-negative number for " + name + " but received " + Num(v) + " of type number");
}

Napi::Object ObjectArg(const Napi::Value& v, const std::string& name) {
  if (!v.IsObject() || v.IsArray()) throw ArgError("Expected an object for " + name + " but received " + DescribeJs(v));
  return v.As<Napi::Object>();
}

}  // namespace

SgdHyper ParseSgdHyper(const Napi::Object& obj, const std::string& where) {
  SgdHyper h;
  h.lr = NumberProp(obj, "lr", where, true, 0);
  h.momentum = NumberProp(obj, "momentum", where, false, 0);
  h.dampening = NumberProp(obj, "dampening", where, false, 0);
  h.weightDecay = NumberProp(obj, "weightDecay", where, false, 0);
  h.nesterov = BoolProp(obj, "nesterov", where, false);
  NonNegative(h.lr, where + "lr");
  NonNegative(h.momentum, where + "momentum");
  NonNegative(h.weightDecay, where + "weightDecay");
  if (h.nesterov && (h.momentum <= 0 || h.dampening != 0)) {
    throw ArgError("Expected momentum > 0 and dampening = 0 for " + where + "nesterov but received momentum " +
                   Num(h.momentum) + " and dampening " + Num(h.dampening));
  }
  return h;
}

void BumpVersion(const at::Tensor& t) {
  if (t.defined()) t.unsafeGetTensorImpl()->bump_version();
}

bool FusedLayout(std::initializer_list<const at::Tensor*> ts) {
  const at::Tensor& first = **ts.begin();
  if (first.scalar_type() != at::kFloat && first.scalar_type() != at::kDouble) return false;
  const bool cpu = first.is_cpu();
  if (first.is_cuda()) {
#ifndef SIGNIN_WITH_CUDA
    throw ArgError("Received a CUDA tensor (" + first.device().str() +
                   ") but this build of signin-torch has no CUDA kernels: rebuild it against a libtorch with CUDA");
#endif
  } else if (!cpu) {
    return false;
  }
  for (const at::Tensor* t : ts) {
    if (!t->defined()) continue;
    if (t->layout() != at::kStrided || !t->is_contiguous() || t->is_neg() || t->is_conj()) return false;
    if (at::has_internal_overlap(*t) != at::MemOverlap::No) return false;
  }
  return true;
}

namespace {

template <class T>
k::SgdCoeffs<T> Coeffs(const SgdHyper& h, bool first) {
  k::SgdCoeffs<T> c;
  c.lr = static_cast<T>(h.lr);
  c.momentum = static_cast<T>(h.momentum);
  c.oneMinusDampening = static_cast<T>(1.0 - h.dampening);
  c.weightDecay = static_cast<T>(h.weightDecay);
  c.nesterov = h.nesterov;
  c.first = first;
  return c;
}

k::MaskKind MaskKindOf(const at::Tensor& mask) {
  if (!mask.defined()) return k::MaskKind::kNone;
  return mask.scalar_type() == at::kBool ? k::MaskKind::kBool : k::MaskKind::kSame;
}

template <class T>
T* Ptr(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

const void* MaskPtr(const at::Tensor& mask) { return mask.defined() ? mask.data_ptr() : nullptr; }

#ifdef SIGNIN_WITH_CUDA
void CudaCheck(const char* err, const char* what) {
  if (err) throw std::runtime_error(std::string(what) + " failed on the GPU: " + err);
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

}  // namespace

at::Tensor SgdDirectionOps(const at::Tensor& grad, const at::Tensor& p, const at::Tensor& buf, const at::Tensor& drop,
                        const SgdHyper& h, bool first) {
  at::Tensor d = h.weightDecay != 0 ? grad.add(p, h.weightDecay) : grad.clone();
  if (drop.defined()) d.masked_fill_(drop, 0);
  if (h.momentum == 0) return d;
  if (first) {
    buf.copy_(d);
  } else {
    buf.mul_(h.momentum).add_(d, 1.0 - h.dampening);
    if (drop.defined()) buf.masked_fill_(drop, 0);
  }
  return h.nesterov ? d.add(buf, h.momentum) : buf.clone();
}

namespace {

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
    if (writeTheta) theta.masked_fill_(drop, 0);
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
  if (writeTheta && mask.defined()) BumpVersion(theta);
}

// ---------------------------------------------------------------------------------------------
// Exports

namespace {

double ParseBeta(const Napi::Object& obj) {
  double beta = NumberProp(obj, "beta", "", false, 1.0);
  if (!(beta > 0)) throw ArgError("Expected a positive number for beta but received " + Num(beta) + " of type number");
  return beta;
}

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
