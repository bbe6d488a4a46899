// Adam / AdamW update, following torch/optim/adam.py and adamw.py (_single_tensor_adam[w])
// operation by operation: bias corrections and step_size are Python doubles, cast to float32
// where ATen casts a scalar operand; addcmul is self + (value * t1) * t2 and addcdiv is
// self + (value * t1) / t2; eps is added after dividing sqrt(v) by sqrt(bc2).
#include "optim/adam.h"

#include <cmath>
#include <stdexcept>

#include "autograd/parallel.h"

namespace sg {

void Adam::check(const AdamOptions& o) const {
  const std::string who = type();
  check_lr(o.lr, type());
  if (!(o.eps >= 0) || !std::isfinite(o.eps))
    throw std::invalid_argument(who + ": invalid eps " + std::to_string(o.eps));
  if (!(o.beta1 >= 0 && o.beta1 < 1))
    throw std::invalid_argument(who + ": invalid beta1 " + std::to_string(o.beta1) +
                                " (must be in [0, 1))");
  if (!(o.beta2 >= 0 && o.beta2 < 1))
    throw std::invalid_argument(who + ": invalid beta2 " + std::to_string(o.beta2) +
                                " (must be in [0, 1))");
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay))
    throw std::invalid_argument(who + ": invalid weight_decay " + std::to_string(o.weight_decay));
}

Adam::Adam(NamedParams params, const AdamOptions& options)
    : Adam(std::move(params), options, false) {}

Adam::Adam(NamedParams params, const AdamOptions& options, bool decoupled_weight_decay)
    : Optimizer(std::move(params), options.lr), opt_(options), decoupled_(decoupled_weight_decay) {
  check(opt_);
  define_buffers(buffers_for(hyper()));
}

Hyper Adam::hyper() const {
  return {{"lr", lr_},
          {"beta1", opt_.beta1},
          {"beta2", opt_.beta2},
          {"eps", opt_.eps},
          {"weight_decay", opt_.weight_decay},
          {"amsgrad", opt_.amsgrad ? 1.0 : 0.0}};
}

std::vector<std::string> Adam::buffers_for(const Hyper& h) const {
  if (need(h, "amsgrad") != 0) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

void Adam::apply_hyper(const Hyper& h) {
  AdamOptions o;
  o.lr = need(h, "lr");
  o.beta1 = need(h, "beta1");
  o.beta2 = need(h, "beta2");
  o.eps = need(h, "eps");
  o.weight_decay = need(h, "weight_decay");
  o.amsgrad = need(h, "amsgrad") != 0;
  check(o);
  opt_ = o;
  lr_ = o.lr;
}

namespace {

// The float32 scalars of one update (see Adam::update for how they are derived).
struct AdamScalars {
  float neg_step_size, bc2_sqrt, beta1, one_minus_beta1, beta2, one_minus_beta2, eps, wd, decay;
  float grad_scale;  // clip_grad_norm's deferred factor, 1 if none
};

// Elements [b, e) of one parameter. The flags are template arguments so the loop has no
// branches and vectorizes; every operation is still the scalar float32 one torch performs.
template <bool kL2, bool kDecoupled, bool kAmsgrad>
void adam_kernel(const AdamScalars& c, float* __restrict p, const float* __restrict grad,
                 float* __restrict m, float* __restrict v, float* __restrict vmax, int64_t b,
                 int64_t e) {
  for (int64_t i = b; i < e; ++i) {
    float g = grad[i] * c.grad_scale;
    if constexpr (kL2) g = g + c.wd * p[i];           // grad.add(param, alpha=wd)
    if constexpr (kDecoupled) p[i] = p[i] * c.decay;  // param.mul_(1 - lr * wd)
    const float mi = m[i] * c.beta1 + c.one_minus_beta1 * g;
    const float vi = v[i] * c.beta2 + (c.one_minus_beta2 * g) * g;
    m[i] = mi;
    v[i] = vi;
    float second = vi;
    if constexpr (kAmsgrad) {  // torch.maximum, which propagates NaN
      const float a = vmax[i];
      second = a != a ? a : (vi != vi ? vi : (a < vi ? vi : a));
      vmax[i] = second;
    }
    const float denom = std::sqrt(second) / c.bc2_sqrt + c.eps;
    p[i] = p[i] + (c.neg_step_size * mi) / denom;  // param.addcdiv_(m, denom, value=-step)
  }
}

template <bool kL2, bool kDecoupled, bool kAmsgrad>
void adam_pass(const AdamScalars& c, float* p, const float* grad, float* m, float* v, float* vmax,
               int64_t n) {
  parallel_for(n, kParallelGrain, [&](int64_t b, int64_t e) {
    adam_kernel<kL2, kDecoupled, kAmsgrad>(c, p, grad, m, v, vmax, b, e);
  });
}

}  // namespace

void Adam::update(Slot& s, const float* grad, float scale) {
  // Python-side scalars, in double as torch computes them ...
  const double t = static_cast<double>(s.step);
  const double bias_correction1 = 1 - std::pow(opt_.beta1, t);
  const double bias_correction2 = 1 - std::pow(opt_.beta2, t);
  const double step_size = lr_ / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  // ... and as float32 where ATen consumes them.
  AdamScalars c;
  c.neg_step_size = static_cast<float>(-step_size);
  c.bc2_sqrt = static_cast<float>(bias_correction2_sqrt);
  c.beta1 = static_cast<float>(opt_.beta1);
  c.one_minus_beta1 = static_cast<float>(1 - opt_.beta1);
  c.beta2 = static_cast<float>(opt_.beta2);
  c.one_minus_beta2 = static_cast<float>(1 - opt_.beta2);
  c.eps = static_cast<float>(opt_.eps);
  c.wd = static_cast<float>(opt_.weight_decay);
  c.decay = static_cast<float>(1 - lr_ * opt_.weight_decay);
  c.grad_scale = scale;

  float* p = s.param.data<float>();
  float* m = s.buffers[0].data<float>();
  float* v = s.buffers[1].data<float>();
  const int64_t n = s.param.numel();
  const bool l2 = !decoupled_ && opt_.weight_decay != 0;
  if (opt_.amsgrad) {
    float* vmax = s.buffers[2].data<float>();
    if (decoupled_)
      adam_pass<false, true, true>(c, p, grad, m, v, vmax, n);
    else if (l2)
      adam_pass<true, false, true>(c, p, grad, m, v, vmax, n);
    else
      adam_pass<false, false, true>(c, p, grad, m, v, vmax, n);
  } else {
    if (decoupled_)
      adam_pass<false, true, false>(c, p, grad, m, v, nullptr, n);
    else if (l2)
      adam_pass<true, false, false>(c, p, grad, m, v, nullptr, n);
    else
      adam_pass<false, false, false>(c, p, grad, m, v, nullptr, n);
  }
}

}  // namespace sg
