// Float64 central-difference gradient checks, PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3).
// A case builds float64 leaf inputs and a function of them; the check draws a random upstream
// gradient g, compares the engine's gradient of <f(x), g> with (f(x+eps) - f(x-eps)) / 2eps . g for
// every element of every input, and passes when |analytic - numeric| <= atol + rtol * |numeric|.
// Op cases live here, by group; layers/gradcheck_table.h adds the layer cases and assembles the
// table that drives `seqgrad gradcheck` and the GoogleTest gradient tests. A user's own op gets
// checked the same way: a GradCase of it, run by run_gradchecks (examples/custom_op).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "autograd/random.h"
#include "autograd/tensor.h"

namespace sg {

struct GradProblem {
  std::vector<Tensor> inputs;  // float64 leaves requiring grad; each is perturbed in place
  std::function<Tensor()> fn;  // recomputes the output from the inputs' current values
};

struct GradCase {
  std::string name;  // starts with the op's or layer's name, e.g. "matmul_batched_broadcast"
  std::string kind;  // "op" or "layer"
  std::function<GradProblem(Generator&)> make;
};

struct GradTolerance {
  double eps = 1e-6, atol = 1e-5, rtol = 1e-3;
};

struct GradResult {
  std::string name, kind;
  double max_abs_err = 0, max_rel_err = 0;
  bool passed = false;
  std::string error;  // set when the case threw, or produced a non-finite value
};

GradResult check_gradients(const GradCase& c, uint64_t seed = 0, const GradTolerance& tol = {});

struct GradTableOptions {
  uint64_t seed = 0;  // of every case's inputs and upstream gradient
  bool json = false;  // one JSON object per case instead of the table
  GradTolerance tol;
};

// Checks `cases` in order and prints what `seqgrad gradcheck` prints: a header line, one row per
// case as soon as it is checked (name, kind, max_abs_err, max_rel_err, "ok" or "FAIL" and the
// error), and a line counting the cases that passed and failed; with opt.json, one JSON object
// per case instead (name, kind, max_abs_err, max_rel_err, passed, and error when there is one).
// Returns the number of cases that failed.
int run_gradchecks(const std::vector<GradCase>& cases, std::ostream& out,
                   const GradTableOptions& opt = {});

// Every op case, in a fixed order: the groups below, one per gradcheck_cases_*.cpp.
std::vector<GradCase> op_grad_cases();
std::vector<GradCase> elementwise_grad_cases();
std::vector<GradCase> reduce_grad_cases();
std::vector<GradCase> shape_grad_cases();
std::vector<GradCase> matmul_grad_cases();
std::vector<GradCase> nn_grad_cases();
std::vector<GradCase> attention_grad_cases();

// Helpers for writing cases: a float64 leaf requiring grad, and a random ids/mask tensor.
Tensor grad_input(const Shape& shape, Generator& g, double lo = -1.0, double hi = 1.0);
IntTensor random_ids(const Shape& shape, int64_t n, Generator& g);

// An "op" case of f(x), x of `shape` uniform in [lo, hi].
GradCase unary_case(const std::string& name, const Shape& shape,
                    std::function<Tensor(const Tensor&)> f, double lo = -1.0, double hi = 1.0);
// An "op" case of f(a, b), a and b uniform in [lo, hi].
GradCase binary_case(const std::string& name, const Shape& sa, const Shape& sb,
                     std::function<Tensor(const Tensor&, const Tensor&)> f, double lo = -1.0,
                     double hi = 1.0);

}  // namespace sg
