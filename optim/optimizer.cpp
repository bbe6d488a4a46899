// Optimizer base: parameter bookkeeping, the step loop, and state export and import.
#include "optim/optimizer.h"

#include <cmath>
#include <cstring>
#include <set>
#include <stdexcept>

namespace sg {

void check_lr(double lr, const char* who) {
  if (!std::isfinite(lr) || lr < 0)
    throw std::invalid_argument(std::string(who) + ": invalid learning rate " + std::to_string(lr) +
                                " (must be finite and >= 0)");
}

Optimizer::Optimizer(NamedParams params, double lr) : lr_(lr), params_(std::move(params)) {
  std::set<std::string> seen;
  for (const auto& [name, p] : params_) {
    if (name.empty()) throw std::invalid_argument("optimizer: a parameter has an empty name");
    if (name.find('/') != std::string::npos)
      throw std::invalid_argument("optimizer: parameter name '" + name + "' contains '/'");
    if (!seen.insert(name).second)
      throw std::invalid_argument("optimizer: parameter '" + name + "' is listed twice");
    if (!p.defined()) throw std::invalid_argument("optimizer: parameter '" + name + "' is empty");
    if (p.dtype() != DType::f32 || !p.is_contiguous() || !p.is_leaf())
      throw std::invalid_argument("optimizer: parameter '" + name +
                                  "' must be a contiguous float32 leaf tensor");
    slots_.push_back(Slot{name, p, 0, {}});
  }
}

void Optimizer::set_lr(double lr) {
  check_lr(lr, type());
  lr_ = lr;
}

double Optimizer::need(const Hyper& h, const char* key) const {
  const auto it = h.find(key);
  if (it == h.end())
    throw std::invalid_argument(std::string(type()) + ": missing hyper-parameter '" + key + "'");
  return it->second;
}

void Optimizer::define_buffers(const std::vector<std::string>& names) {
  if (names == buffer_names_) return;
  buffer_names_ = names;
  for (Slot& s : slots_) {
    s.buffers.clear();
    for (size_t b = 0; b < names.size(); ++b)
      s.buffers.push_back(Tensor::zeros(s.param.shape(), DType::f32));
  }
}

void Optimizer::step(float grad_scale) {
  for (Slot& s : slots_) {
    const TensorImpl* impl = s.param.impl();
    if (!impl->grad) continue;
    const Tensor g(impl->grad);  // shares the gradient; allocates nothing
    if (g.dtype() != DType::f32 || g.shape() != impl->shape || !g.is_contiguous())
      throw std::invalid_argument(std::string(type()) + ": gradient of '" + s.name + "' is " +
                                  dtype_name(g.dtype()) + " " + shape_str(g.shape()) +
                                  (g.is_contiguous() ? "" : " (non-contiguous)") +
                                  ", expected contiguous float32 " + shape_str(impl->shape));
    ++s.step;
    update(s, g.data<float>(), grad_scale);
  }
  ++step_count_;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (Slot& s : slots_) {
    TensorImpl* impl = s.param.impl();
    if (!impl->grad) continue;
    Tensor g(impl->grad);
    if (set_to_none || !g.is_contiguous()) {
      impl->grad.reset();
    } else {
      std::memset(g.raw_data(), 0, static_cast<size_t>(g.numel()) * dtype_size(g.dtype()));
    }
  }
}

// ---------------------------------------------------------------- export / import

OptimizerState Optimizer::export_state() const {
  OptimizerState st;
  st.type = type();
  st.hyper = hyper();
  st.step = step_count_;
  for (const Slot& s : slots_) {
    ParamState& ps = st.params[s.name];
    ps.step = s.step;
    for (size_t b = 0; b < buffer_names_.size(); ++b)
      ps.buffers[buffer_names_[b]] = s.buffers[b].clone();
  }
  return st;
}

void Optimizer::import_state(const OptimizerState& st) {
  const std::string who = std::string(type()) + " state";
  if (st.type != type())
    throw std::invalid_argument(who + ": the state is for optimizer '" + st.type + "', not '" +
                                type() + "'");
  if (st.step < 0) throw std::invalid_argument(who + ": negative step count");
  const std::vector<std::string> names = buffers_for(st.hyper);
  // Validate everything before changing anything.
  for (const auto& [pname, ps] : st.params) {
    bool known = false;
    for (const Slot& s : slots_) known = known || s.name == pname;
    if (!known) throw std::invalid_argument(who + ": state for unknown parameter '" + pname + "'");
  }
  for (const Slot& s : slots_) {
    const auto it = st.params.find(s.name);
    if (it == st.params.end())
      throw std::invalid_argument(who + ": no state for parameter '" + s.name + "'");
    if (it->second.step < 0)
      throw std::invalid_argument(who + ": negative step for parameter '" + s.name + "'");
    for (const std::string& b : names) {
      const auto bt = it->second.buffers.find(b);
      if (bt == it->second.buffers.end())
        throw std::invalid_argument(who + ": no " + b + " for parameter '" + s.name + "'");
      if (bt->second.shape() != s.param.shape())
        throw std::invalid_argument(who + ": " + b + " of '" + s.name + "' has shape " +
                                    shape_str(bt->second.shape()) + ", the parameter has " +
                                    shape_str(s.param.shape()));
    }
  }
  apply_hyper(st.hyper);  // validates, then adopts
  define_buffers(names);
  for (Slot& s : slots_) {
    const ParamState& ps = st.params.at(s.name);
    s.step = ps.step;
    for (size_t b = 0; b < names.size(); ++b) {
      const Tensor& src = ps.buffers.at(names[b]);
      s.buffers[b].copy_from(src.dtype() == DType::f32 ? src : src.to(DType::f32));
    }
  }
  step_count_ = st.step;
}

}  // namespace sg
