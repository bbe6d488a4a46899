#include "autograd/parallel.h"

#include <omp.h>

namespace sg {

int num_threads() {
  return omp_get_max_threads();
}
void set_num_threads(int n) {
  omp_set_num_threads(n < 1 ? 1 : n);
}
int omp_threads_in_region() {
  return omp_get_num_threads();
}
int omp_thread_id() {
  return omp_get_thread_num();
}

}  // namespace sg
