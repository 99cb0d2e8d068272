// CPU loops of the fused Sign-In kernels: at::parallel_for over contiguous memory, one pass, no
// temporaries. The element math lives in signin_kernels.h (shared with the CUDA kernels); this
// translation unit is compiled with -O3 -fno-math-errno so that the loops vectorize.
#include "signin/signin_kernels.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace signin {
namespace kernels {

namespace {

template <class F, class T, class M>
SIGNIN_LOOP void SigninStepLoop(int64_t begin, int64_t end, const T* SIGNIN_RESTRICT grad, T* SIGNIN_RESTRICT theta,
                    T* SIGNIN_RESTRICT m, T* SIGNIN_RESTRICT w, T* SIGNIN_RESTRICT bufM,
                    T* SIGNIN_RESTRICT bufW, M mask, SgdCoeffs<T> c) {
  for (int64_t i = begin; i < end; ++i) SigninStepAt<F>(i, grad, theta, m, w, bufM, bufW, mask, c);
}

template <bool B, class T, class M>
SIGNIN_LOOP void SigninSplitLoop(int64_t begin, int64_t end, T* SIGNIN_RESTRICT theta, T* SIGNIN_RESTRICT m,
                     T* SIGNIN_RESTRICT w, T* SIGNIN_RESTRICT bufM, T* SIGNIN_RESTRICT bufW, M mask,
                     T beta, T sqrtBeta, bool writeTheta, bool zeroMomentum) {
  for (int64_t i = begin; i < end; ++i) {
    SigninSplitAt<B>(i, theta, m, w, bufM, bufW, mask, beta, sqrtBeta, writeTheta, zeroMomentum);
  }
}

template <class T>
void SigninStepImpl(const SigninStepArgs<T>& a) {
  DispatchMask<T>(a.maskKind, a.mask, [&](auto mask) {
    DispatchFlags(a.c, [&](auto flags) {
      using F = decltype(flags);
      at::parallel_for(0, a.n, kGrain, [&](int64_t begin, int64_t end) {
        SigninStepLoop<F>(begin, end, a.grad, a.theta, a.m, a.w, a.bufM, a.bufW, mask, a.c);
      });
    });
  });
}

template <class T>
void SigninSplitImpl(const SigninSplitArgs<T>& a) {
  const T sqrtBeta = std::sqrt(a.beta);
  DispatchMask<T>(a.maskKind, a.mask, [&](auto mask) {
    at::parallel_for(0, a.n, kGrain, [&](int64_t begin, int64_t end) {
      if (a.bufM != nullptr) {
        SigninSplitLoop<true>(begin, end, a.theta, a.m, a.w, a.bufM, a.bufW, mask, a.beta, sqrtBeta,
                              a.writeTheta, a.zeroMomentum);
      } else {
        SigninSplitLoop<false>(begin, end, a.theta, a.m, a.w, a.bufM, a.bufW, mask, a.beta, sqrtBeta,
                               a.writeTheta, a.zeroMomentum);
      }
    });
  });
}

}  // namespace

void SigninStepCpu(const SigninStepArgs<float>& a) { SigninStepImpl(a); }
void SigninStepCpu(const SigninStepArgs<double>& a) { SigninStepImpl(a); }
void SigninSplitCpu(const SigninSplitArgs<float>& a) { SigninSplitImpl(a); }
void SigninSplitCpu(const SigninSplitArgs<double>& a) { SigninSplitImpl(a); }

}  // namespace kernels
}  // namespace signin
