// C (m, n) = alpha op(A) op(B) + beta C on CBLAS, row-major with leading dims, op(A): (m, k),
// op(B): (k, n): the one GEMM call of the matrix-product and attention ops, in float32 and
// float64. OpenBLAS (its OpenMP build) threads a large product itself and runs single-threaded
// when called inside a parallel region.
#pragma once

#include <cblas.h>

#include <cstdint>
#include <type_traits>

namespace sg {

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // C = beta C (BLAS leaves C as is for beta 1, and beta 0 ignores what C holds)
    if (beta != T(1))
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  const CBLAS_TRANSPOSE fa = ta ? CblasTrans : CblasNoTrans, fb = tb ? CblasTrans : CblasNoTrans;
  const auto M = static_cast<blasint>(m), N = static_cast<blasint>(n), K = static_cast<blasint>(k);
  const auto LA = static_cast<blasint>(lda), LB = static_cast<blasint>(ldb),
             LC = static_cast<blasint>(ldc);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, fa, fb, M, N, K, alpha, a, LA, b, LB, beta, c, LC);
  else
    cblas_dgemm(CblasRowMajor, fa, fb, M, N, K, alpha, a, LA, b, LB, beta, c, LC);
}

}  // namespace sg
