#include "layers/embedding.h"

#include "autograd/ops.h"

namespace sg {

Embedding::Embedding(int64_t vocab, int64_t dim, Generator& g, double stddev, DType dtype) {
  weight = register_parameter("weight", Tensor::zeros({vocab, dim}, dtype));
  init_normal(weight, g, stddev);
}

void Embedding::tie_weight(const Tensor& w) {
  tie_parameter("weight", w);
  weight = w;
}

Tensor Embedding::forward(const IntTensor& ids) const {
  return embedding(weight, ids);
}

}  // namespace sg
