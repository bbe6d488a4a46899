#include "layers/dropout.h"

#include <stdexcept>

#include "autograd/ops.h"
#include "autograd/random.h"

namespace sg {

Dropout::Dropout(double p_, Generator* g) : p(p_), gen_(g) {
  if (!(p >= 0.0 && p < 1.0)) throw std::invalid_argument("dropout probability must be in [0, 1)");
}

Tensor Dropout::forward(const Tensor& x) const {
  if (!is_training() || p == 0.0) return x;
  return dropout(x, p, *gen_, true);
}

uint64_t Dropout::draw_seed() const {
  return gen_->next_u64();
}

}  // namespace sg
