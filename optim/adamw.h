// AdamW: Adam with decoupled weight decay, torch.optim.AdamW (1.13, foreach=False), bit for
// bit: each update first scales the parameter by (1 - lr * weight_decay), then applies the Adam
// step without an L2 term (see adam.h for the full rule).
#pragma once

#include "optim/adam.h"

namespace sg {

class AdamW : public Adam {
 public:
  AdamW(NamedParams params, const AdamOptions& options);
};

}  // namespace sg
