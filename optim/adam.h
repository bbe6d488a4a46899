// Adam with L2 weight decay and AMSGrad: torch.optim.Adam (1.13, foreach=False), bit for bit in
// float32. AdamW (adamw.h) shares this update with decoupled weight decay. Per element, at this
// parameter's update t (bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t in double):
//   g = g + wd * p                                   (Adam, if weight_decay != 0)
//   p = p * (1 - lr * wd)                            (AdamW, always)
//   m = m * beta1 + (1 - beta1) * g
//   v = v * beta2 + ((1 - beta2) * g) * g
//   vmax = max(vmax, v)                              (amsgrad; then used instead of v)
//   p = p + (-(lr / bc1) * m) / (sqrt(v) / sqrt(bc2) + eps)
#pragma once

#include "optim/optimizer.h"

namespace sg {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // L2 for Adam, decoupled for AdamW (torch's AdamW default: 1e-2)
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(NamedParams params, const AdamOptions& options);
  const char* type() const override { return decoupled_ ? "adamw" : "adam"; }
  Hyper hyper() const override;
  std::vector<std::string> buffers_for(const Hyper& h) const override;
  const AdamOptions& options() const { return opt_; }

 protected:
  Adam(NamedParams params, const AdamOptions& options, bool decoupled_weight_decay);
  void apply_hyper(const Hyper& h) override;
  void update(Slot& s, const float* grad, float scale) override;

 private:
  void check(const AdamOptions& o) const;
  AdamOptions opt_;
  bool decoupled_;
};

}  // namespace sg
