// Module: named parameters with PyTorch's dotted names, child modules, train/eval mode.
// A child registered under a dotted name ("transformer.encoder.layers.0") contributes its
// parameters under that prefix; a child registered under "" shares its parent's namespace.
// A parameter may be tied (one tensor under several names, as PyTorch's
// `b.weight = a.weight`): named_parameters() lists it once, state_dict() under every name.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace sg {

class Generator;
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its children, in registration order, a tied one once
  // (under its first name): what optimizers, clipping and gradchecks see.
  NamedTensors named_parameters() const;
  // Every parameter under every name it has, tied ones included (PyTorch's state_dict keys):
  // what a checkpoint holds.
  NamedTensors state_dict() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;
  // Looks a parameter up by any of its full dotted names; throws std::out_of_range naming it.
  Tensor parameter(const std::string& name) const;

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

 protected:
  // Registers `t` (a float leaf) as a parameter; returns it with requires_grad set.
  Tensor register_parameter(const std::string& name, Tensor t);
  void register_module(const std::string& name, Module& child);
  // Makes this module's parameter `name` the tensor `t` (same shape, else
  // std::invalid_argument): the two names then share values and gradient.
  void tie_parameter(const std::string& name, const Tensor& t);

 private:
  void collect(const std::string& prefix, NamedTensors& out) const;
  NamedTensors params_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
};

// Initializers (PyTorch's formulas; values come from our Generator, not PyTorch's).
void init_uniform(Tensor& t, Generator& g, double bound);  // U(-bound, bound)
void init_normal(Tensor& t, Generator& g, double stddev);  // N(0, stddev)
void init_xavier_uniform(Tensor& t, Generator& g);         // bound sqrt(6 / (fan_in + fan_out))
void init_constant(Tensor& t, double value);

}  // namespace sg
