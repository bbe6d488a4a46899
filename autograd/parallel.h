// OpenMP helpers. Loops split their index range statically, so each output element is written by
// one thread and results do not depend on timing; below `grain` elements they run serially,
// because on 2 cores a parallel region around a tiny loop costs more than the loop.
#pragma once

#include <cstdint>

namespace sg {

constexpr int64_t kParallelGrain = 1 << 15;

int num_threads();            // threads that parallel regions use
void set_num_threads(int n);  // n >= 1
// Sets the threads of our parallel loops (0: all cores); OpenBLAS stays single-threaded, and
// gemm() splits a large product over our threads (gemm.h).
void use_threads(int threads);
bool in_parallel_region();    // true inside an active parallel region (of more than one thread)
int omp_threads_in_region();  // inside a parallel region: its size
int omp_thread_id();          // inside a parallel region: this thread's index

// Outside a parallel region, OpenMP's thread count is 1 while this lives (restored after).
class OneThreadScope {
 public:
  OneThreadScope() : before_(in_parallel_region() ? 1 : num_threads()) {
    if (before_ != 1) set_num_threads(1);
  }
  ~OneThreadScope() {
    if (before_ != 1) set_num_threads(before_);
  }
  OneThreadScope(const OneThreadScope&) = delete;
  OneThreadScope& operator=(const OneThreadScope&) = delete;

 private:
  int before_;
};

// The grain for items of `work` elements each (rows of that length, products of that many
// multiply-adds): as many items as make up about kParallelGrain elements, at least one.
inline int64_t row_grain(int64_t work) {
  const int64_t w = work > 1 ? work : 1;
  return kParallelGrain / w > 1 ? kParallelGrain / w : 1;
}

// f(begin, end) over a static partition of [0, n).
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= grain || num_threads() <= 1) {
    if (n > 0) f(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t nt = omp_threads_in_region();
    const int64_t t = omp_thread_id();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t b = t * chunk, e = b + chunk < n ? b + chunk : n;
    if (b < e) f(b, e);
  }
}

// f() and g() at the same time on two threads, when the pool has exactly two (serially
// otherwise): for two independent products of equal size, each GEMM single-threaded inside the
// region. Neither may throw.
template <class F, class G>
void parallel_invoke(F&& f, G&& g) {
  if (num_threads() != 2) {
    f();
    g();
    return;
  }
#pragma omp parallel num_threads(2)
  {
    if (omp_thread_id() == 0)
      f();
    else if (omp_thread_id() == 1)
      g();
  }
}

}  // namespace sg
