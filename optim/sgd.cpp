// SGD update, following torch/optim/sgd.py _single_tensor_sgd operation by operation. Python
// float hyper-parameters become float32 scalars exactly where ATen casts them.
#include "optim/sgd.h"

#include <cmath>
#include <stdexcept>

#include "autograd/parallel.h"

namespace sg {

void Sgd::check(const SgdOptions& o) {
  check_lr(o.lr, "sgd");
  if (!(o.momentum >= 0) || !std::isfinite(o.momentum))
    throw std::invalid_argument("sgd: invalid momentum " + std::to_string(o.momentum));
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay))
    throw std::invalid_argument("sgd: invalid weight_decay " + std::to_string(o.weight_decay));
  if (!std::isfinite(o.dampening))
    throw std::invalid_argument("sgd: invalid dampening " + std::to_string(o.dampening));
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw std::invalid_argument("sgd: Nesterov momentum requires a momentum and zero dampening");
}

Sgd::Sgd(NamedParams params, const SgdOptions& options)
    : Optimizer(std::move(params), options.lr), opt_(options) {
  check(opt_);
  define_buffers(buffers_for(hyper()));
}

Hyper Sgd::hyper() const {
  return {{"lr", lr_},
          {"momentum", opt_.momentum},
          {"dampening", opt_.dampening},
          {"nesterov", opt_.nesterov ? 1.0 : 0.0},
          {"weight_decay", opt_.weight_decay}};
}

std::vector<std::string> Sgd::buffers_for(const Hyper& h) const {
  if (need(h, "momentum") != 0) return {"momentum_buffer"};
  return {};
}

void Sgd::apply_hyper(const Hyper& h) {
  SgdOptions o;
  o.lr = need(h, "lr");
  o.momentum = need(h, "momentum");
  o.dampening = need(h, "dampening");
  o.nesterov = need(h, "nesterov") != 0;
  o.weight_decay = need(h, "weight_decay");
  check(o);
  opt_ = o;
  lr_ = o.lr;
}

void Sgd::update(Slot& s, const float* grad, float scale) {
  const float wd = static_cast<float>(opt_.weight_decay);
  const float momentum = static_cast<float>(opt_.momentum);
  const float one_minus_damp = static_cast<float>(1.0 - opt_.dampening);
  const float neg_lr = static_cast<float>(-lr_);
  const bool use_wd = opt_.weight_decay != 0;
  const bool use_momentum = opt_.momentum != 0;
  const bool first = s.step == 1;  // torch: no momentum_buffer yet, so buf = clone(d_p)
  const bool nesterov = opt_.nesterov;
  float* p = s.param.data<float>();
  float* buf = use_momentum ? s.buffers[0].data<float>() : nullptr;
  parallel_for(s.param.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float d = grad[i] * scale;
      if (use_wd) d = d + wd * p[i];  // d_p.add(param, alpha=wd)
      if (use_momentum) {
        buf[i] = first ? d : buf[i] * momentum + one_minus_damp * d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      p[i] = p[i] + neg_lr * d;  // param.add_(d_p, alpha=-lr)
    }
  });
}

}  // namespace sg
