// The per-element math of the fused optimizer kernels (mask-aware SGD and Sign-In), shared by the
// CPU loops (signin_cpu.cc, optim/sgd.cc) and the CUDA kernels (signin_cuda.cu), plus the raw-pointer
// entry points of both. Plain C++: no torch or CUDA headers, so nvcc and g++ both compile it as is.
//
// Conventions (see also docs in src/signin/kernels.ts):
// - SGD is exactly torch.optim.SGD: d = g + wd*p; buf = d on the first update of a tensor, else
//   buf = momentum*buf + (1 - dampening)*d; d = nesterov ? d + momentum*buf : buf; p -= lr*d.
//   `first` says the buffer has not been updated yet (the caller passes a per-tensor step count).
// - A mask entry != 0 keeps the entry, == 0 drops it. Dropped entries: gradient, decay term,
//   momentum buffer and weight become exactly 0 (a select, not a product: NaN and inf cannot leak).
// - Sign-In step (theta = mask*m*w): g_m = w*g and g_w = m*g with the OLD m and w, SGD as above
//   on m and w, theta = m*w. Dropped entries: theta = 0, w = 0, both buffers 0, m unchanged (the
//   split leaves it at sqrt(beta)).
// - Sign-In split/reset: m = sqrt((beta + sqrt(beta^2 + 4 theta^2)) / 2), w = theta / m, theta kept,
//   so that m^2 - w^2 = beta. Dropped entries: theta = 0 (reset only), m = sqrt(beta), w = 0.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define SIGNIN_HD __host__ __device__ __forceinline__
#else
#define SIGNIN_HD inline
#endif

namespace signin {
namespace kernels {

// Hyperparameters of one SGD update, already cast to the element type.
template <class T>
struct SgdCoeffs {
  T lr;
  T momentum;
  T oneMinusDampening;
  T weightDecay;
  bool nesterov;
  bool first;  // no momentum update has been applied yet: buf = d (PyTorch's clone on first step)
};

// One torch.optim.SGD update of one element. `buf` is read/written only when momentum != 0.
template <class T>
SIGNIN_HD T SgdDirection(T g, T p, T* buf, const SgdCoeffs<T>& c) {
  T d = g;
  if (c.weightDecay != T(0)) d = d + c.weightDecay * p;
  if (c.momentum != T(0)) {
    T b = c.first ? d : c.momentum * (*buf) + c.oneMinusDampening * d;
    *buf = b;
    d = c.nesterov ? d + c.momentum * b : b;
  }
  return d;
}

// Mask-aware SGD on one element: p, g and buf are updated in place.
template <class T>
SIGNIN_HD void SgdElement(bool keep, T* p, T* g, T* buf, const SgdCoeffs<T>& c) {
  if (!keep) {
    *p = T(0);
    *g = T(0);
    if (c.momentum != T(0)) *buf = T(0);
    return;
  }
  T d = SgdDirection(*g, *p, buf, c);
  *p = *p - c.lr * d;
}

// One Sign-In step on one element.
template <class T>
SIGNIN_HD void SigninStepElement(bool keep, T g, T* theta, T* m, T* w, T* bufM, T* bufW,
                                 const SgdCoeffs<T>& c) {
  if (!keep) {
    *theta = T(0);
    *w = T(0);
    if (c.momentum != T(0)) {
      *bufM = T(0);
      *bufW = T(0);
    }
    return;
  }
  const T m0 = *m;
  const T w0 = *w;
  const T dm = SgdDirection(w0 * g, m0, bufM, c);
  const T dw = SgdDirection(m0 * g, w0, bufW, c);
  const T m1 = m0 - c.lr * dm;
  const T w1 = w0 - c.lr * dw;
  *m = m1;
  *w = w1;
  *theta = m1 * w1;
}

template <class T>
SIGNIN_HD T SqrtOf(T x);
template <>
SIGNIN_HD float SqrtOf<float>(float x) {
#if defined(__CUDA_ARCH__)
  return sqrtf(x);
#else
  return __builtin_sqrtf(x);
#endif
}
template <>
SIGNIN_HD double SqrtOf<double>(double x) {
#if defined(__CUDA_ARCH__)
  return sqrt(x);
#else
  return __builtin_sqrt(x);
#endif
}

// The split of one element: m and w from theta with m^2 - w^2 = beta.
template <class T>
SIGNIN_HD void SigninSplitElement(bool keep, T theta, T beta, T sqrtBeta, T* m, T* w) {
  if (!keep) {
    *m = sqrtBeta;
    *w = T(0);
    return;
  }
  const T s = SqrtOf<T>(beta * beta + T(4) * theta * theta);
  const T mm = SqrtOf<T>((beta + s) * T(0.5));
  *m = mm;
  *w = theta / mm;
}

// ---- Raw-pointer argument blocks (contiguous memory, n elements each) ----

enum class MaskKind : int { kNone = 0, kSame = 1, kBool = 2 };  // absent / element dtype / bool

template <class T>
struct SgdArgs {
  int64_t n;
  T* param;
  T* grad;
  T* buf;             // nullptr when momentum == 0
  const void* mask;   // nullptr, const T* or const bool*
  MaskKind maskKind;
  SgdCoeffs<T> c;
};

template <class T>
struct SigninStepArgs {
  int64_t n;
  const T* grad;  // dL/dtheta
  T* theta;
  T* m;
  T* w;
  T* bufM;  // nullptr when momentum == 0
  T* bufW;
  const void* mask;
  MaskKind maskKind;
  SgdCoeffs<T> c;
};

template <class T>
struct SigninSplitArgs {
  int64_t n;
  T* theta;       // written (masked entries -> 0) only when writeTheta
  T* m;
  T* w;
  T* bufM;        // zeroed when zeroMomentum (else masked entries only); may be nullptr
  T* bufW;
  const void* mask;
  MaskKind maskKind;
  T beta;
  bool writeTheta;
  bool zeroMomentum;
};

// ---- CPU (at::parallel_for over the range; signin_cpu.cc, optim/sgd.cc) ----
void SgdCpu(const SgdArgs<float>& a);
void SgdCpu(const SgdArgs<double>& a);
void SigninStepCpu(const SigninStepArgs<float>& a);
void SigninStepCpu(const SigninStepArgs<double>& a);
void SigninSplitCpu(const SigninSplitArgs<float>& a);
void SigninSplitCpu(const SigninSplitArgs<double>& a);

// ---- CUDA (signin_cuda.cu; compiled only when SIGNIN_WITH_CUDA) ----
// `stream` is a cudaStream_t. Each returns nullptr on success or the CUDA error string.
const char* SigninStepCuda(const SigninStepArgs<float>& a, void* stream);
const char* SigninStepCuda(const SigninStepArgs<double>& a, void* stream);
const char* SigninSplitCuda(const SigninSplitArgs<float>& a, void* stream);
const char* SigninSplitCuda(const SigninSplitArgs<double>& a, void* stream);

}  // namespace kernels
}  // namespace signin
