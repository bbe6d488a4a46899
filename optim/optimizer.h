// Optimizer base: a list of named float32 leaf parameters, step() / zero_grad(), and
// per-parameter state that is exported and imported BY PARAMETER NAME for checkpoints.
//
// Update rules follow torch 1.13's single-tensor (foreach=False) code exactly, in float32, so
// parameters match torch.optim bit for bit (compiled without FP contraction, torch run with
// ATEN_CPU_CAPABILITY=default). Like torch, a parameter whose .grad is undefined is skipped by
// step() and its own update count does not advance.
//
// State is allocated once (at construction, or when an import changes which buffers exist):
// step() allocates nothing and makes one pass over each parameter, threaded over elements with a
// static partition (results do not depend on the thread count).
//
// The optimizer knows nothing of files: export_state() hands out its state as named tensors and
// scalars (PyTorch's state_dict()), and train/checkpoint/state_io.h writes and reads it.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace sg {

using NamedParams = std::vector<std::pair<std::string, Tensor>>;
// Hyper-parameters by name; booleans are 0 or 1.
using Hyper = std::map<std::string, double>;

// One parameter's state.
struct ParamState {
  int64_t step = 0;                       // updates applied to this parameter
  std::map<std::string, Tensor> buffers;  // float32, shaped like the parameter
};

// Everything an exact resume needs, as plain values (tensors are deep copies).
struct OptimizerState {
  std::string type;
  Hyper hyper;
  int64_t step = 0;                          // step() calls
  std::map<std::string, ParamState> params;  // by parameter name
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual const char* type() const = 0;
  // Every hyper-parameter, including lr.
  virtual Hyper hyper() const = 0;

  // Applies one update to every parameter that has a gradient, reading each gradient element g
  // as g * grad_scale in float32: with clip_grad_norm's deferred factor, bit for bit what
  // scaling the gradients first and then stepping gives, in one pass fewer.
  void step(float grad_scale = 1.0f);
  // Zeroes gradients in place (torch 1.13's default); with set_to_none, drops them.
  void zero_grad(bool set_to_none = false);

  double lr() const { return lr_; }
  void set_lr(double lr);
  int64_t step_count() const { return step_count_; }
  const NamedParams& params() const { return params_; }

  // Names of the per-parameter buffers that hyper-parameters `h` call for (Adam: exp_avg and
  // exp_avg_sq, plus max_exp_avg_sq with amsgrad; SGD: momentum_buffer when momentum != 0).
  virtual std::vector<std::string> buffers_for(const Hyper& h) const = 0;

  // The state as plain values, like PyTorch's state_dict(); the checkpoint code stores it.
  OptimizerState export_state() const;
  // Restores hyper-parameters, step counts and buffers. Every parameter must have its state
  // (matched by name, in any order) with the right shapes; state for a parameter this optimizer
  // does not hold is an error. Throws std::invalid_argument and changes nothing on failure.
  void import_state(const OptimizerState& state);

 protected:
  Optimizer(NamedParams params, double lr);

  // Checks every hyper-parameter in `h` (all must be present) and adopts them; throws
  // std::invalid_argument before changing anything.
  virtual void apply_hyper(const Hyper& h) = 0;

  struct Slot {
    std::string name;
    Tensor param;
    int64_t step = 0;             // updates applied to this parameter
    std::vector<Tensor> buffers;  // aligned with buffer_names_
  };
  // Applies one update to `s` given its contiguous float32 gradient, each element read as
  // grad[i] * scale (exact for scale 1); s.step already counts it.
  virtual void update(Slot& s, const float* grad, float scale) = 0;

  // (Re)allocates zeroed buffers when the names change; called by constructors and imports.
  void define_buffers(const std::vector<std::string>& names);
  // Reads hyper-parameter `key` from `h`; throws naming it when absent.
  double need(const Hyper& h, const char* key) const;

  double lr_ = 0;

 private:
  NamedParams params_;
  std::vector<Slot> slots_;
  std::vector<std::string> buffer_names_;
  int64_t step_count_ = 0;
};

// Checks a learning rate (finite, >= 0); throws std::invalid_argument naming `who`.
void check_lr(double lr, const char* who);

}  // namespace sg
