// C (m, n) = alpha op(A) op(B) + beta C on CBLAS, row-major with leading dims, op(A): (m, k),
// op(B): (k, n): the one GEMM call of the matrix-product and attention ops, in float32 and
// float64.
//
// The same bits at any thread count: OpenBLAS always runs single-threaded (use_threads), and a
// large product called outside a parallel region is split by our threads into blocks of output
// rows, never along k, each block one single-threaded GEMM. Row-major C is OpenBLAS's column-major
// C^T, so our rows are the columns of its N loop, which it walks in register tiles of
// GEMM_UNROLL_N from the start of each call; a block edge on a multiple of kGemmQuantum (a
// multiple of every x86-64 sgemm/dgemm GEMM_UNROLL_N: 4, 6, 8, 12, 16, 24, 32) keeps every element
// in the same kind of tile, and the k blocking depends on k alone, so every element of C is the
// same sum in the same order whatever the thread count. Splitting by output columns would not
// be: OpenBLAS's M loop blocks depend on the whole M (measured: elements differ for every split
// point tried), so gemm() never does.
#pragma once

#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "autograd/parallel.h"

namespace sg {

// Below this many multiply-adds a product runs on one thread.
constexpr int64_t kSmallGemm = 1 << 20;
constexpr int64_t kGemmQuantum = 96;

template <class T>
void gemm_serial(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // C = beta C (BLAS leaves C as is for beta 1, and beta 0 ignores what C holds)
    if (beta != T(1))
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  // The OpenMP build of OpenBLAS (Debian's default) sizes each call's threads by
  // omp_get_max_threads() outside a parallel region, whatever openblas_set_num_threads said; one
  // thread for this call, as inside a region.
  const OneThreadScope one_thread;
  const CBLAS_TRANSPOSE fa = ta ? CblasTrans : CblasNoTrans, fb = tb ? CblasTrans : CblasNoTrans;
  const auto M = static_cast<blasint>(m), N = static_cast<blasint>(n), K = static_cast<blasint>(k);
  const auto LA = static_cast<blasint>(lda), LB = static_cast<blasint>(ldb),
             LC = static_cast<blasint>(ldc);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, fa, fb, M, N, K, alpha, a, LA, b, LB, beta, c, LC);
  else
    cblas_dgemm(CblasRowMajor, fa, fb, M, N, K, alpha, a, LA, b, LB, beta, c, LC);
}

// [begin, end) of part p of `parts` equal spans of [0, n) with edges on multiples of kGemmQuantum.
inline void gemm_span(int64_t n, int64_t parts, int64_t p, int64_t& begin, int64_t& end) {
  const int64_t q = (n + kGemmQuantum - 1) / kGemmQuantum;  // quanta
  begin = std::min(n, (q * p / parts) * kGemmQuantum);
  end = std::min(n, (q * (p + 1) / parts) * kGemmQuantum);
}

// gemm_serial, split over the threads by rows of C outside a parallel region (each thread packs
// all of op(B)).
template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t nt = num_threads();
  if (nt <= 1 || in_parallel_region() || m * n * k < kSmallGemm || m < 2 * kGemmQuantum) {
    gemm_serial(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  parallel_for(nt, 1, [&](int64_t s, int64_t e) {
    for (int64_t p = s; p < e; ++p) {
      int64_t i0, i1;
      gemm_span(m, nt, p, i0, i1);
      // rows [i0, i1) of op(A) start at row i0 of A, or at its column i0 if ta
      if (i0 < i1)
        gemm_serial(ta, tb, i1 - i0, n, k, alpha, a + (ta ? i0 : i0 * lda), lda, b, ldb, beta,
                    c + i0 * ldc, ldc);
    }
  });
}

}  // namespace sg
