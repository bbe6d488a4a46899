// Exponential moving average of the parameters (Polyak averaging; fairseq's --ema-decay, timm's
// ModelEmaV2, Marian's --exponential-smoothing): after every optimizer step, for every parameter,
//   ema = decay * ema + (1 - decay) * param
// in float32, as torch's `ema.mul_(decay).add_(param, alpha=1 - decay)` computes it: decay and
// 1 - decay (taken in float64) become float32 scalars, each product is rounded, then the sum.
// The averages start as copies of the parameters when the Ema is made (step 0: the initialized
// model, as fairseq and timm start theirs), so there is no bias correction and no warm-up.
// One pass over each parameter, threaded over elements with a static partition: every element is
// computed alone, so the bits do not depend on the thread count.
#pragma once

#include <vector>

#include "optim/optimizer.h"

namespace sg {

class Ema {
 public:
  // Throws std::invalid_argument unless 0 < decay < 1.
  Ema(NamedParams params, double decay);
  Ema(const Ema&) = delete;
  Ema& operator=(const Ema&) = delete;

  double decay() const { return decay_; }
  // The averaged parameters, one per entry of params() and under the same names.
  const NamedParams& averages() const { return averages_; }
  const NamedParams& params() const { return params_; }
  // The average of `param` (one of params(), matched by identity, so a tied parameter under any
  // of its names), or nullptr.
  const Tensor* average_of(const Tensor& param) const;

  // One update of every average from the current parameter values.
  void update();
  // Exchanges the values of every parameter and its average (exact; a second call undoes it):
  // evaluation runs on the averages, training goes on from the parameters.
  void swap();

 private:
  NamedParams params_, averages_;
  double decay_;
};

}  // namespace sg
