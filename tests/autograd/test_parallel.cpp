// use_threads(n): our parallel loops run on n threads and OpenBLAS on one. With Debian's OpenMP
// build of OpenBLAS, openblas_set_num_threads(k) also sets OpenMP's thread count to k, so the
// order of the two settings decides whether gemm() and the elementwise loops run in parallel at
// all; these tests fail if they ever undo each other again.
#include <gtest/gtest.h>

#include <cblas.h>

#include <algorithm>
#include <array>
#include <vector>

#include "autograd/gemm.h"
#include "autograd/parallel.h"
#include "autograd/random.h"

namespace sg {
namespace {

// Restores the test binary's thread setting whatever a test did.
struct ThreadsGuard {
  int before = num_threads();
  ~ThreadsGuard() { use_threads(before); }
};

TEST(Parallel, UseThreadsRunsLoopsOnThatManyThreadsAndBlasOnOne) {
  ThreadsGuard guard;
  for (const int n : {1, 2, 3}) {
    use_threads(n);
    EXPECT_EQ(num_threads(), n);
    EXPECT_EQ(openblas_get_num_threads(), 1);
    std::vector<int> seen(static_cast<size_t>(n), -1);
    parallel_for(n, 0, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)] = omp_thread_id();
    });
    std::vector<int> want(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) want[static_cast<size_t>(i)] = n == 1 ? 0 : i;
    EXPECT_EQ(seen, want) << "item i runs on thread i";
  }
}

// OpenBLAS rounds differently for different row counts unless the split falls on its register
// tiles, and its OpenMP build threads a call by itself unless told otherwise (gemm.h); random
// operands make any such difference show. The last shape has too few rows to split.
TEST(Parallel, GemmSplitOverThreadsEqualsOneThreadBitForBit) {
  ThreadsGuard guard;
  Generator g(5);
  for (const auto [m, n, k] : {std::array<int64_t, 3>{704, 192, 64},
                               {1000, 130, 77},
                               {192, 512, 96},
                               {256, 2048, 512},
                               {100, 2048, 512}}) {
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        std::vector<float> a(m * k), b(k * n);
        for (float& v : a) v = static_cast<float>(g.uniform() - 0.5);
        for (float& v : b) v = static_cast<float>(g.uniform() - 0.5);
        const int64_t lda = ta ? m : k, ldb = tb ? k : n;
        std::vector<float> c1(m * n, 0.25f), c2 = c1;
        use_threads(1);
        gemm(ta, tb, m, n, k, 1.f, a.data(), lda, b.data(), ldb, 0.5f, c1.data(), n);
        use_threads(2);
        ASSERT_EQ(num_threads(), 2);
        gemm(ta, tb, m, n, k, 1.f, a.data(), lda, b.data(), ldb, 0.5f, c2.data(), n);
        EXPECT_TRUE(c1 == c2) << m << "x" << n << "x" << k << " ta " << ta << " tb " << tb;
      }
    }
  }
}

}  // namespace
}  // namespace sg
