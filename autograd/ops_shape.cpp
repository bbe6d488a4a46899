// Shape ops. transpose, permute, slice and broadcast_to are views (no copy); reshape is a view of
// a contiguous input; concat and contiguous copy.
#include <numeric>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace sg {

// ---- transpose: swap two dims of the view. Backward: transpose the gradient back.
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  d0 = wrap_dim(d0, x.dim(), "transpose");
  d1 = wrap_dim(d1, x.dim(), "transpose");
  Shape sh = x.shape(), st = x.strides();
  std::swap(sh[d0], sh[d1]);
  std::swap(st[d0], st[d1]);
  Tensor y = Tensor::view_of(x, sh, st, x.offset());
  return record(y, "transpose", {x}, [d0, d1](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{transpose(g, d0, d1)};
  });
}

}  // namespace sg
