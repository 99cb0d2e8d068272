// The per-element math of the fused optimizer kernels (mask-aware SGD and Sign-In), shared by the
// CPU loops (signin_cpu.cc) and the CUDA kernels (signin_cuda.cu), plus the raw-pointer entry
// points of both. Plain C++17: no torch or CUDA headers, so g++ and nvcc both compile it as is.
//
// Conventions:
// - SGD is exactly torch.optim.SGD: d = g + wd*p; buf = d on the first update of a tensor, else
//   buf = momentum*buf + (1 - dampening)*d; d = nesterov ? d + momentum*buf : buf; p -= lr*d.
//   `first` says the buffer has never been updated (the caller passes a per-tensor step count):
//   this is PyTorch's `buf = clone(d)` when the state has no momentum_buffer yet.
// - A mask entry != 0 keeps the element, == 0 drops it. Dropped elements: gradient, decay term,
//   momentum buffer and weight become exactly 0 (a select, not a product, so NaN and inf in a
//   dropped element cannot leak into the result).
// - Sign-In step (theta = mask*m*w): g_m = w*g and g_w = m*g with the OLD m and w, the SGD above on
//   m and w, then theta = m*w. Dropped elements: theta = 0, w = 0, both buffers 0, m unchanged
//   (the split leaves it at sqrt(beta)); g is not written.
// - Sign-In split / reset: m = sqrt((beta + sqrt(beta^2 + 4 theta^2)) / 2), w = theta / m, theta
//   unchanged, so that m^2 - w^2 = beta. Dropped elements: m = sqrt(beta), w = 0, and in a reset
//   theta = 0 and the buffers 0 (all of a buffer when zeroMomentum).
//
// The loops are written so that every flag is a compile-time constant (Flags<F>, mask policies)
// and the body has no data-dependent branch: g++ -O3 -fno-math-errno vectorizes them.
#pragma once

#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__)
#define SIGNIN_HD __host__ __device__ __forceinline__
#else
#define SIGNIN_HD inline __attribute__((always_inline))
#endif
#define SIGNIN_RESTRICT __restrict__

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
  bool first;  // no momentum update has been applied to this tensor yet
};

// Compile-time form of the uniform flags of one call.
template <int F>
struct Flags {
  static constexpr bool decay = (F & 1) != 0;
  static constexpr bool momentum = (F & 2) != 0;
  static constexpr bool first = (F & 4) != 0;
  static constexpr bool nesterov = (F & 8) != 0;
};

// Calls fn(Flags<F>{}) with the F that matches the coefficients (10 variants).
template <class T, class Fn>
void DispatchFlags(const SgdCoeffs<T>& c, Fn&& fn) {
  const bool decay = c.weightDecay != T(0);
  if (c.momentum == T(0)) {
    if (decay) fn(Flags<1>{}); else fn(Flags<0>{});
    return;
  }
  const int f = 2 | (decay ? 1 : 0) | (c.first ? 4 : 0) | (c.nesterov ? 8 : 0);
  switch (f) {
    case 2: fn(Flags<2>{}); break;
    case 3: fn(Flags<3>{}); break;
    case 6: fn(Flags<6>{}); break;
    case 7: fn(Flags<7>{}); break;
    case 10: fn(Flags<10>{}); break;
    case 11: fn(Flags<11>{}); break;
    case 14: fn(Flags<14>{}); break;
    default: fn(Flags<15>{}); break;
  }
}

// The descent direction of torch.optim.SGD for one element; b is the momentum buffer (in/out).
template <class F, class T>
SIGNIN_HD T Direction(T g, T p, T& b, const SgdCoeffs<T>& c) {
  T d = g;
  if constexpr (F::decay) d = d + c.weightDecay * p;
  if constexpr (F::momentum) {
    if constexpr (F::first) {
      b = d;
    } else {
      b = c.momentum * b + c.oneMinusDampening * d;
    }
    if constexpr (F::nesterov) {
      d = d + c.momentum * b;
    } else {
      d = b;
    }
  }
  return d;
}

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

// k ? a : b. On the CPU as a bitwise blend: g++ turns a run of ternaries on one condition into
// branches with stores in both arms, which blocks vectorization; the blend keeps the loop
// straight-line. The result is bit-exact either way (no arithmetic on the dropped value).
template <class T>
SIGNIN_HD T Pick(bool k, T a, T b) {
#if defined(__CUDA_ARCH__)
  return k ? a : b;
#else
  using U = typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type;
  static_assert(sizeof(T) == sizeof(U), "Pick needs float or double");
  U ua, ub;
  __builtin_memcpy(&ua, &a, sizeof(T));
  __builtin_memcpy(&ub, &b, sizeof(T));
  const U km = U(0) - U(k);
  const U r = (ua & km) | (ub & ~km);
  T out;
  __builtin_memcpy(&out, &r, sizeof(T));
  return out;
#endif
}

// ---- mask policies ----
enum class MaskKind : int { kNone = 0, kSame = 1, kBool = 2 };  // absent / element dtype / bool

struct NoMask {
  static constexpr bool present = false;
  SIGNIN_HD bool keep(int64_t) const { return true; }
};
template <class T>
struct SameMask {
  static constexpr bool present = true;
  const T* p;
  SIGNIN_HD bool keep(int64_t i) const { return p[i] != T(0); }
};
struct BoolMask {  // bool tensors: one byte per element, 0 or 1
  static constexpr bool present = true;
  const uint8_t* p;
  SIGNIN_HD bool keep(int64_t i) const { return p[i] != 0; }
};

template <class T, class Fn>
void DispatchMask(MaskKind kind, const void* mask, Fn&& fn) {
  switch (kind) {
    case MaskKind::kSame: fn(SameMask<T>{static_cast<const T*>(mask)}); break;
    case MaskKind::kBool: fn(BoolMask{static_cast<const uint8_t*>(mask)}); break;
    default: fn(NoMask{}); break;
  }
}

// ---- Raw-pointer argument blocks (contiguous memory, n elements each) ----

template <class T>
struct SgdArgs {
  int64_t n;
  T* param;
  T* grad;            // written (dropped elements -> 0) when a mask is present
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
SIGNIN_HD void SgdAt(int64_t i, T* SIGNIN_RESTRICT param, T* SIGNIN_RESTRICT grad,
                     T* SIGNIN_RESTRICT buf, const M& mask, const SgdCoeffs<T>& c) {
  const T g = grad[i];
  const T p = param[i];
  T b = T(0);
  if constexpr (F::momentum && !F::first) b = buf[i];
  const T d = Direction<F>(g, p, b, c);
  const T p1 = p - c.lr * d;
  if constexpr (M::present) {
    const bool k = mask.keep(i);
    param[i] = Pick(k, p1, T(0));
    grad[i] = Pick(k, g, T(0));
    if constexpr (F::momentum) buf[i] = Pick(k, b, T(0));
  } else {
    param[i] = p1;
    if constexpr (F::momentum) buf[i] = b;
  }
}

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
  if constexpr (M::present) {
    if (writeTheta) theta[i] = Pick(k, t, T(0));
  }
  if constexpr (B) {
    const bool kb = k && !zeroMomentum;
    bufM[i] = Pick(kb, bufM[i], T(0));
    bufW[i] = Pick(kb, bufW[i], T(0));
  }
}

// ---- CPU (at::parallel_for over contiguous memory; signin_cpu.cc) ----
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
