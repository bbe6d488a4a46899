// Dropout with probability p in training mode, identity in eval mode. Draws its masks from a
// generator it does not own (the model's), so one saved generator state restores every mask.
#pragma once

#include "layers/module.h"

namespace sg {

class Dropout : public Module {
 public:
  Dropout(double p, Generator* g);
  Tensor forward(const Tensor& x) const;
  double p;

 private:
  Generator* gen_;
};

}  // namespace sg
