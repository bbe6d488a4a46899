#include "autograd/parallel.h"

#include <omp.h>

#include <algorithm>
#include <thread>

#include <cblas.h>

namespace sg {

int num_threads() {
  return omp_get_max_threads();
}
void set_num_threads(int n) {
  omp_set_num_threads(n < 1 ? 1 : n);
}
void use_threads(int threads) {
  const int n =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // OpenBLAS first: its OpenMP build's openblas_set_num_threads(k) also calls
  // omp_set_num_threads(k), which would leave our own loops on one thread.
  openblas_set_num_threads(1);
  set_num_threads(n);
}
bool in_parallel_region() {
  return omp_in_parallel() != 0;
}
int omp_threads_in_region() {
  return omp_get_num_threads();
}
int omp_thread_id() {
  return omp_get_thread_num();
}

}  // namespace sg
