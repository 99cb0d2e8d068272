// CPU loops of the mask-aware SGD: at::parallel_for over contiguous memory, one pass, no
// temporaries. The element math lives in sgd_kernels.h; this translation unit is compiled with
// -O3 -fno-math-errno so that the loops vectorize.
#include "optim/sgd_kernels.h"

#include <ATen/Parallel.h>

namespace signin {
namespace kernels {

namespace {

template <class F, class T, class M>
SIGNIN_LOOP void SgdLoop(int64_t begin, int64_t end, T* SIGNIN_RESTRICT param, T* SIGNIN_RESTRICT grad,
             T* SIGNIN_RESTRICT buf, M mask, SgdCoeffs<T> c) {
  for (int64_t i = begin; i < end; ++i) SgdAt<F>(i, param, grad, buf, mask, c);
}

template <class T>
void SgdImpl(const SgdArgs<T>& a) {
  DispatchMask<T>(a.maskKind, a.mask, [&](auto mask) {
    DispatchFlags(a.c, [&](auto flags) {
      using F = decltype(flags);
      at::parallel_for(0, a.n, kGrain, [&](int64_t begin, int64_t end) {
        SgdLoop<F>(begin, end, a.param, a.grad, a.buf, mask, a.c);
      });
    });
  });
}

}  // namespace

void SgdCpu(const SgdArgs<float>& a) { SgdImpl(a); }
void SgdCpu(const SgdArgs<double>& a) { SgdImpl(a); }

}  // namespace kernels
}  // namespace signin
