// The per-element math of the fused Sign-In kernels, shared by the CPU loops (signin_cpu.cc) and
// the CUDA kernels (signin_cuda.cu), plus the raw-pointer entry points of both. It builds on the
// SGD element math (optim/sgd_kernels.h): Sign-In is an update kind of the SGD. Plain C++17: no
// torch or CUDA headers, so g++ and nvcc both compile it as is.
//
// Conventions (SGD and masks: optim/sgd_kernels.h):
// - Sign-In step (theta = mask*m*w): g_m = w*g and g_w = m*g with the OLD m and w, the SGD on
//   m and w, then theta = m*w. Dropped elements: theta = 0, w = 0, both buffers 0, m unchanged
//   (the split leaves it at sqrt(beta)); g is not written.
// - Sign-In split / reset: m = sqrt((beta + sqrt(beta^2 + 4 theta^2)) / 2), w = theta / m, so that
//   m^2 - w^2 = beta and m*w = theta up to rounding. This is the only place the formula is
//   written for the fused path; signin.cc's ATen fallback is the other. A reset (writeTheta)
//   then writes theta = m*w, so that the layer invariant theta == m*w holds exactly (theta moves
//   by at most a rounding step). Dropped elements: m = sqrt(beta), w = 0, and in a reset
//   theta = 0 and the buffers 0 (all of a buffer when zeroMomentum).
#pragma once

#include <type_traits>

#include "optim/sgd_kernels.h"

namespace signin {
namespace kernels {

template <class T>
SIGNIN_HD T SqrtOf(T x) {
#if defined(__CUDA_ARCH__)
  return sqrt(x);
#else
  if constexpr (std::is_same<T, float>::value) {
    return __builtin_sqrtf(x);
  } else {
    return __builtin_sqrt(x);
  }
#endif
}

// ---- Raw-pointer argument blocks (contiguous memory, n elements each) ----

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
  T* theta;       // written (dropped elements -> 0) only when writeTheta
  T* m;
  T* w;
  T* bufM;        // may be nullptr; zeroed when zeroMomentum, else dropped elements -> 0
  T* bufW;
  const void* mask;
  MaskKind maskKind;
  T beta;
  bool writeTheta;
  bool zeroMomentum;
};

// ---- element bodies: one element i, called by the CPU chunk loops and the CUDA threads ----
// Pointers come as separate restrict arguments (not through the Args structs) so that the
// compilers know the tensors do not overlap: the CPU loops then vectorize without alias checks.

template <class F, class T, class M>
SIGNIN_HD void SigninStepAt(int64_t i, const T* SIGNIN_RESTRICT grad, T* SIGNIN_RESTRICT theta,
                            T* SIGNIN_RESTRICT m, T* SIGNIN_RESTRICT w, T* SIGNIN_RESTRICT bufM,
                            T* SIGNIN_RESTRICT bufW, const M& mask, const SgdCoeffs<T>& c) {
  const T g = grad[i];
  const T m0 = m[i];
  const T w0 = w[i];
  T bm = T(0);
  T bw = T(0);
  if constexpr (F::momentum && !F::first) {
    bm = bufM[i];
    bw = bufW[i];
  }
  const T dm = Direction<F>(w0 * g, m0, bm, c);
  const T dw = Direction<F>(m0 * g, w0, bw, c);
  const T m1 = m0 - c.lr * dm;
  const T w1 = w0 - c.lr * dw;
  const T t1 = m1 * w1;
  if constexpr (M::present) {
    const bool k = mask.keep(i);
    m[i] = Pick(k, m1, m0);
    w[i] = Pick(k, w1, T(0));
    theta[i] = Pick(k, t1, T(0));
    if constexpr (F::momentum) {
      bufM[i] = Pick(k, bm, T(0));
      bufW[i] = Pick(k, bw, T(0));
    }
  } else {
    m[i] = m1;
    w[i] = w1;
    theta[i] = t1;
    if constexpr (F::momentum) {
      bufM[i] = bm;
      bufW[i] = bw;
    }
  }
}

// B: whether the buffers are present (then zeroed, or only their dropped elements).
template <bool B, class T, class M>
SIGNIN_HD void SigninSplitAt(int64_t i, T* SIGNIN_RESTRICT theta, T* SIGNIN_RESTRICT m,
                             T* SIGNIN_RESTRICT w, T* SIGNIN_RESTRICT bufM, T* SIGNIN_RESTRICT bufW,
                             const M& mask, T beta, T sqrtBeta, bool writeTheta, bool zeroMomentum) {
  const T t = theta[i];
  const T s = SqrtOf<T>(beta * beta + T(4) * t * t);
  const T mm = SqrtOf<T>((beta + s) * T(0.5));
  const T ww = t / mm;
  const bool k = mask.keep(i);
  m[i] = Pick(k, mm, sqrtBeta);
  w[i] = Pick(k, ww, T(0));
  if (writeTheta) theta[i] = Pick(k, mm * ww, T(0));
  if constexpr (B) {
    const bool kb = k && !zeroMomentum;
    bufM[i] = Pick(kb, bufM[i], T(0));
    bufW[i] = Pick(kb, bufW[i], T(0));
  }
}

// ---- CPU (at::parallel_for over contiguous memory; signin_cpu.cc) ----
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
