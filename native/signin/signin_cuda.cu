// CUDA kernels of the fused Sign-In step and split/reset: the element math of signin_kernels.h
// over raw device pointers, one grid-stride loop per call. No torch headers: nvcc compiles this
// file anywhere (scripts/check-cuda.sh), and signin.cc passes pointers, sizes and the stream.
#include <cuda_runtime.h>

#include "signin/signin_kernels.h"

namespace signin {
namespace kernels {

namespace {

constexpr int kThreads = 256;

int BlocksFor(int64_t n) {
  int device = 0;
  int sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0) {
    sms = 80;
  }
  const int64_t wanted = (n + kThreads - 1) / kThreads;
  const int64_t cap = static_cast<int64_t>(sms) * 8;  // grid-stride beyond ~8 blocks per SM
  return static_cast<int>(wanted < cap ? (wanted > 0 ? wanted : 1) : cap);
}

const char* LastError() {
  cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

template <class F, class T, class M>
__global__ void SigninStepKernel(int64_t n, const T* __restrict__ grad, T* __restrict__ theta,
                                 T* __restrict__ m, T* __restrict__ w, T* __restrict__ bufM,
                                 T* __restrict__ bufW, M mask, SgdCoeffs<T> c) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    SigninStepAt<F>(i, grad, theta, m, w, bufM, bufW, mask, c);
  }
}

template <bool B, class T, class M>
__global__ void SigninSplitKernel(int64_t n, T* __restrict__ theta, T* __restrict__ m, T* __restrict__ w,
                                  T* __restrict__ bufM, T* __restrict__ bufW, M mask, T beta, T sqrtBeta,
                                  bool writeTheta, bool zeroMomentum) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    SigninSplitAt<B>(i, theta, m, w, bufM, bufW, mask, beta, sqrtBeta, writeTheta, zeroMomentum);
  }
}

template <class T>
const char* StepImpl(const SigninStepArgs<T>& a, void* stream) {
  if (a.n == 0) return nullptr;
  const int blocks = BlocksFor(a.n);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  DispatchMask<T>(a.maskKind, a.mask, [&](auto mask) {
    DispatchFlags(a.c, [&](auto flags) {
      using F = decltype(flags);
      SigninStepKernel<F><<<blocks, kThreads, 0, s>>>(a.n, a.grad, a.theta, a.m, a.w, a.bufM, a.bufW, mask, a.c);
    });
  });
  return LastError();
}

template <class T>
const char* SplitImpl(const SigninSplitArgs<T>& a, void* stream) {
  if (a.n == 0) return nullptr;
  const int blocks = BlocksFor(a.n);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const T sqrtBeta = static_cast<T>(sqrt(static_cast<double>(a.beta)));
  DispatchMask<T>(a.maskKind, a.mask, [&](auto mask) {
    if (a.bufM != nullptr) {
      SigninSplitKernel<true><<<blocks, kThreads, 0, s>>>(a.n, a.theta, a.m, a.w, a.bufM, a.bufW, mask, a.beta,
                                                          sqrtBeta, a.writeTheta, a.zeroMomentum);
    } else {
      SigninSplitKernel<false><<<blocks, kThreads, 0, s>>>(a.n, a.theta, a.m, a.w, a.bufM, a.bufW, mask, a.beta,
                                                           sqrtBeta, a.writeTheta, a.zeroMomentum);
    }
  });
  return LastError();
}

}  // namespace

const char* SigninStepCuda(const SigninStepArgs<float>& a, void* stream) { return StepImpl(a, stream); }
const char* SigninStepCuda(const SigninStepArgs<double>& a, void* stream) { return StepImpl(a, stream); }
const char* SigninSplitCuda(const SigninSplitArgs<float>& a, void* stream) { return SplitImpl(a, stream); }
const char* SigninSplitCuda(const SigninSplitArgs<double>& a, void* stream) { return SplitImpl(a, stream); }

}  // namespace kernels
}  // namespace signin
