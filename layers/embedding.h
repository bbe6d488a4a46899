// Embedding: a (vocab, dim) table; rows looked up by token id. Initialized N(0, stddev).
#pragma once

#include "layers/module.h"

namespace sg {

class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, Generator& g, double stddev = 1.0,
            DType dtype = DType::f32);
  Tensor forward(const IntTensor& ids) const;  // ids: (B, T) -> (B, T, dim)
  // Uses `w` (vocab, dim) as the table from now on (Module::tie_parameter).
  void tie_weight(const Tensor& w);
  Tensor weight;
};

}  // namespace sg
