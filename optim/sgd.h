// SGD with momentum, dampening, Nesterov and L2 weight decay: torch.optim.SGD (1.13,
// foreach=False), bit for bit in float32. Per element, with g the gradient:
//   d = g + wd * p                                   (if weight_decay != 0)
//   buf = d on a parameter's first update, else buf * momentum + (1 - dampening) * d
//   d = nesterov ? d + momentum * buf : buf          (if momentum != 0)
//   p = p + (-lr) * d
#pragma once

#include "optim/optimizer.h"

namespace sg {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
  double weight_decay = 0;
};

class Sgd : public Optimizer {
 public:
  Sgd(NamedParams params, const SgdOptions& options);
  const char* type() const override { return "sgd"; }
  Hyper hyper() const override;
  std::vector<std::string> buffers_for(const Hyper& h) const override;
  const SgdOptions& options() const { return opt_; }

 protected:
  void apply_hyper(const Hyper& h) override;
  void update(Slot& s, const float* grad, float scale) override;

 private:
  static void check(const SgdOptions& o);
  SgdOptions opt_;
};

}  // namespace sg
