// Dropout with probability p in training mode, identity in eval mode. Draws its masks from a
// generator it does not own (the model's), so one saved generator state restores every mask.
#pragma once

#include <cstdint>

#include "layers/module.h"

namespace sg {

class Dropout : public Module {
 public:
  Dropout(double p, Generator* g);
  Tensor forward(const Tensor& x) const;
  // Whether forward() would drop anything (training and p > 0).
  bool active() const { return is_training() && p > 0.0; }
  // One 64-bit seed from the generator, for a mask that an op generates itself (attention's
  // probabilities, dropped inside the fused op: autograd/ops.h).
  uint64_t draw_seed() const;
  double p;

 private:
  Generator* gen_;
};

}  // namespace sg
