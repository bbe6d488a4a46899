#include "layers/module.h"

#include <cmath>
#include <stdexcept>
#include <unordered_set>

#include "autograd/random.h"

namespace sg {

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

void Module::register_module(const std::string& name, Module& child) {
  children_.emplace_back(name, &child);
}

void Module::collect(const std::string& prefix, NamedTensors& out) const {
  for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  for (const auto& [n, c] : children_) c->collect(n.empty() ? prefix : prefix + n + ".", out);
}

void Module::tie_parameter(const std::string& name, const Tensor& t) {
  for (auto& [n, p] : params_) {
    if (n != name) continue;
    if (p.shape() != t.shape() || p.dtype() != t.dtype())
      throw std::invalid_argument("cannot tie parameter '" + name + "' " + shape_str(p.shape()) +
                                  " to a tensor " + shape_str(t.shape()) +
                                  " of another shape or type");
    p = t;
    return;
  }
  throw std::out_of_range("no parameter named '" + name + "' to tie");
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", out);
  return out;
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  for (auto& [n, t] : state_dict())
    if (seen.insert(t.impl()).second) out.emplace_back(n, t);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> v;
  for (auto& [n, t] : named_parameters()) v.push_back(t);
  return v;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

Tensor Module::parameter(const std::string& name) const {
  for (auto& [n, t] : state_dict())
    if (n == name) return t;
  throw std::out_of_range("no parameter named '" + name + "'");
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (auto& [n, t] : named_parameters()) t.zero_grad();
}

void init_uniform(Tensor& t, Generator& g, double bound) {
  t.copy_from(Tensor::uniform(t.shape(), g, -bound, bound, t.dtype()));
}

void init_normal(Tensor& t, Generator& g, double stddev) {
  t.copy_from(Tensor::randn(t.shape(), g, t.dtype(), stddev));
}

void init_xavier_uniform(Tensor& t, Generator& g) {
  if (t.dim() < 2) throw std::invalid_argument("xavier_uniform: needs a matrix");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.shape()[d];
  const double fan_in = double(t.shape()[1]) * receptive,
               fan_out = double(t.shape()[0]) * receptive;
  init_uniform(t, g, std::sqrt(6.0 / (fan_in + fan_out)));
}

void init_constant(Tensor& t, double value) {
  t.copy_from(Tensor::full(t.shape(), value, t.dtype()));
}

}  // namespace sg
