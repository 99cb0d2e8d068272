// The per-element math of torch.optim.SGD (momentum, dampening, nesterov, weight decay) with a
// mask, shared by the CPU loops (optim/sgd_cpu.cc) and by the fused update kinds that plug into
// the SGD (Sign-In: signin/signin_kernels.h, which builds on Direction and the mask policies).
// Plain C++17: no torch or CUDA headers, so g++ and nvcc both compile it as is.
//
// Conventions:
// - SGD is exactly torch.optim.SGD: d = g + wd*p; buf = d on the first update of a tensor, else
//   buf = momentum*buf + (1 - dampening)*d; d = nesterov ? d + momentum*buf : buf; p -= lr*d.
//   `first` says the buffer has never been updated (the caller passes a per-tensor step count):
//   this is PyTorch's `buf = clone(d)` when the state has no momentum_buffer yet.
// - A mask entry != 0 keeps the element, == 0 drops it. Dropped elements: gradient, decay term,
//   momentum buffer and weight become exactly 0 (a select, not a product, so NaN and inf in a
//   dropped element cannot leak into the result).
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

// The CPU chunk loops: not inlined (so the restrict qualifiers hold) and optimized like -O3 even in
// builds that compile their file with -O2 (node-gyp); the element bodies are always_inline.
#if defined(__GNUC__) && !defined(__clang__)
#define SIGNIN_LOOP __attribute__((noinline, optimize("O3", "no-math-errno")))
#else
#define SIGNIN_LOOP __attribute__((noinline))
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

// ---- Raw-pointer argument block (contiguous memory, n elements each) ----

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

// Elements per parallel_for chunk of the CPU loops: small tensors stay on the calling thread.
constexpr int64_t kGrain = 32768;

// ---- CPU (at::parallel_for over contiguous memory; optim/sgd_cpu.cc) ----
void SgdCpu(const SgdArgs<float>& a);
void SgdCpu(const SgdArgs<double>& a);

}  // namespace kernels
}  // namespace signin
