#include "optim/ema.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/parallel.h"

namespace sg {

Ema::Ema(NamedParams params, double decay) : params_(std::move(params)), decay_(decay) {
  if (!(decay > 0 && decay < 1))
    throw std::invalid_argument("ema: decay must be in (0, 1), got " + std::to_string(decay));
  for (const auto& [name, p] : params_) {
    if (p.dtype() != DType::f32)
      throw std::invalid_argument("ema: parameter " + name + " is not float32");
    averages_.emplace_back(name, p.clone());
  }
}

const Tensor* Ema::average_of(const Tensor& param) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].second.impl() == param.impl()) return &averages_[i].second;
  return nullptr;
}

void Ema::update() {
  const float d = static_cast<float>(decay_);
  const float one_minus_d = static_cast<float>(1.0 - decay_);
  for (size_t k = 0; k < params_.size(); ++k) {
    const float* p = params_[k].second.data<float>();
    float* e = averages_[k].second.data<float>();
    parallel_for(params_[k].second.numel(), kParallelGrain, [&](int64_t b, int64_t end) {
      for (int64_t i = b; i < end; ++i) e[i] = e[i] * d + p[i] * one_minus_d;
    });
  }
}

void Ema::swap() {
  for (size_t k = 0; k < params_.size(); ++k) {
    float* p = params_[k].second.data<float>();
    float* e = averages_[k].second.data<float>();
    parallel_for(params_[k].second.numel(), kParallelGrain, [&](int64_t b, int64_t end) {
      for (int64_t i = b; i < end; ++i) std::swap(p[i], e[i]);
    });
  }
}

}  // namespace sg
