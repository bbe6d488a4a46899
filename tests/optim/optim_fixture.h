// Shared by the optimizer tests: loads tests/reference/optim_fixtures.h5 (written by
// tests/reference/make_optim_fixtures.py) and builds parameters, gradients and optimizers from it.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "optim/make_optimizer.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/checkpoint/hdf5.h"

namespace sg::optim_test {

constexpr int64_t kSteps = 20;

inline std::string fixture_path() {
  return std::string(SEQGRAD_SOURCE_DIR) + "/tests/reference/optim_fixtures.h5";
}

struct Fixture {
  std::vector<std::string> names;  // parameter names, in the order used here
  std::vector<Shape> shapes;
  std::vector<std::vector<float>> init;   // initial values
  std::vector<std::vector<float>> grads;  // [kSteps * numel], step-major
};

inline Fixture load_fixture(const H5File& f) {
  Fixture fx;
  fx.names = f.list("/params");
  for (const auto& name : fx.names) {
    auto p = f.read_f32("/params/" + name);
    auto g = f.read_f32("/grads/" + name);
    fx.shapes.push_back(p.shape);
    fx.init.push_back(std::move(p.data));
    fx.grads.push_back(std::move(g.data));
  }
  return fx;
}

// Fresh float32 leaf parameters holding the initial values, in `order` (indices into fx.names).
inline NamedParams make_params(const Fixture& fx, const std::vector<size_t>& order) {
  NamedParams params;
  for (size_t i : order)
    params.emplace_back(fx.names[i], Tensor::from_floats(fx.init[i], fx.shapes[i]));
  return params;
}

inline std::vector<size_t> natural_order(const Fixture& fx) {
  std::vector<size_t> order(fx.names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  return order;
}

// Sets p.grad to a copy of `src` (reusing the gradient's storage when it exists).
inline void set_grad(const Tensor& p, const float* src) {
  TensorImpl* impl = p.impl();
  if (!impl->grad) impl->grad = Tensor::zeros(p.shape()).impl_ptr();
  Tensor g(impl->grad);
  std::memcpy(g.data<float>(), src, static_cast<size_t>(g.numel()) * sizeof(float));
}

// Gives every parameter its fixture gradient for step `s`.
inline void set_step_grads(const Fixture& fx, const NamedParams& params, int64_t s) {
  for (const auto& [name, p] : params)
    for (size_t i = 0; i < fx.names.size(); ++i)
      if (fx.names[i] == name) set_grad(p, fx.grads[i].data() + s * p.numel());
}

// The optimizer type and hyper-parameters stored as attributes of /cases/<name>.
inline std::unique_ptr<Optimizer> make_case_optimizer(const H5File& f, const std::string& name,
                                                      NamedParams params) {
  const std::string g = "/cases/" + name;
  Hyper h;
  for (const auto& key : f.attr_names(g)) {
    if (key == "optimizer" || key == "schedule" || key == "d_model" || key == "warmup" ||
        key == "total_steps")
      continue;
    h[key] = f.attr_f64(g, key);
  }
  return make_optimizer(f.attr_str(g, "optimizer"), std::move(params), h);
}

}  // namespace sg::optim_test
