#include "autograd/gradcheck.h"

#include <cmath>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <ostream>

#include "autograd/engine.h"

namespace sg {

Tensor grad_input(const Shape& shape, Generator& g, double lo, double hi) {
  Tensor t = Tensor::uniform(shape, g, lo, hi, DType::f64);
  t.set_requires_grad(true);
  return t;
}

IntTensor random_ids(const Shape& shape, int64_t n, Generator& g) {
  IntTensor t = IntTensor::zeros(shape);
  for (auto& v : t.data) v = static_cast<int64_t>(g.below(static_cast<uint64_t>(n)));
  return t;
}

GradCase unary_case(const std::string& name, const Shape& shape,
                    std::function<Tensor(const Tensor&)> f, double lo, double hi) {
  return {name, "op", [=](Generator& g) {
            Tensor x = grad_input(shape, g, lo, hi);
            return GradProblem{{x}, [=] { return f(x); }};
          }};
}

GradCase binary_case(const std::string& name, const Shape& sa, const Shape& sb,
                     std::function<Tensor(const Tensor&, const Tensor&)> f, double lo, double hi) {
  return {name, "op", [=](Generator& g) {
            Tensor a = grad_input(sa, g, lo, hi), b = grad_input(sb, g, lo, hi);
            return GradProblem{{a, b}, [=] { return f(a, b); }};
          }};
}

// <f(x), g> in float64.
static double dot_with(const Tensor& y, const Tensor& g) {
  const std::vector<double> a = y.to_vector(), b = g.to_vector();
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

static GradResult run_check(const GradCase& c, uint64_t seed, const GradTolerance& tol) {
  GradResult r;
  r.name = c.name;
  r.kind = c.kind;
  Generator gen(seed);
  GradProblem p = c.make(gen);
  for (size_t k = 0; k < p.inputs.size(); ++k) {
    const Tensor& x = p.inputs[k];
    if (x.dtype() != DType::f64 || !x.is_leaf() || !x.requires_grad() || !x.is_contiguous())
      throw std::logic_error("input " + std::to_string(k) +
                             " is not a contiguous float64 leaf that requires grad");
  }
  Tensor y = p.fn();
  if (y.dtype() != DType::f64) throw std::logic_error("the case's output is not float64");
  Tensor upstream = Tensor::randn(y.shape(), gen, DType::f64);
  for (Tensor& x : p.inputs) x.zero_grad();
  y.backward(upstream);

  NoGradGuard no_grad;
  bool ok = true;
  for (Tensor& x : p.inputs) {
    const Tensor ga = x.grad();
    const std::vector<double> analytic =
        ga.defined() ? ga.to_vector() : std::vector<double>(x.numel(), 0.0);
    double* v = x.data<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double orig = v[j];
      v[j] = orig + tol.eps;
      const double fp = dot_with(p.fn(), upstream);
      v[j] = orig - tol.eps;
      const double fm = dot_with(p.fn(), upstream);
      v[j] = orig;
      const double numeric = (fp - fm) / (2 * tol.eps);
      const double abs_err = std::fabs(analytic[j] - numeric);
      if (!std::isfinite(numeric) || !std::isfinite(analytic[j])) {
        r.error = "non-finite gradient";
        ok = false;
        continue;
      }
      r.max_abs_err = std::max(r.max_abs_err, abs_err);
      if (std::fabs(numeric) > tol.atol)
        r.max_rel_err = std::max(r.max_rel_err, abs_err / std::fabs(numeric));
      if (abs_err > tol.atol + tol.rtol * std::fabs(numeric)) ok = false;
    }
  }
  r.passed = ok;
  return r;
}

GradResult check_gradients(const GradCase& c, uint64_t seed, const GradTolerance& tol) {
  try {
    return run_check(c, seed, tol);
  } catch (const std::exception& e) {
    GradResult r;
    r.name = c.name;
    r.kind = c.kind;
    r.error = e.what();
    return r;
  }
}

int run_gradchecks(const std::vector<GradCase>& cases, std::ostream& out,
                   const GradTableOptions& opt) {
  char line[512];
  if (!opt.json) {
    std::snprintf(line, sizeof line, "%-40s %-6s %12s %12s  %s\n", "case", "kind", "max_abs_err",
                  "max_rel_err", "ok");
    out << line;
  }
  int failed = 0;
  for (const GradCase& c : cases) {
    const GradResult r = check_gradients(c, opt.seed, opt.tol);
    failed += !r.passed;
    if (opt.json) {
      nlohmann::json j = {{"name", r.name},
                          {"kind", r.kind},
                          {"max_abs_err", r.max_abs_err},
                          {"max_rel_err", r.max_rel_err},
                          {"passed", r.passed}};
      if (!r.error.empty()) j["error"] = r.error;
      out << j.dump() << std::endl;
    } else {
      std::snprintf(line, sizeof line, "%-40s %-6s %12.3e %12.3e  %s", r.name.c_str(),
                    r.kind.c_str(), r.max_abs_err, r.max_rel_err, r.passed ? "ok" : "FAIL");
      out << line << (r.error.empty() ? "" : "  ") << r.error << std::endl;
    }
  }
  if (!opt.json)
    out << cases.size() << " cases, " << cases.size() - failed << " passed, " << failed
        << " failed\n";
  return failed;
}

std::vector<GradCase> op_grad_cases() {
  std::vector<GradCase> v;
  for (auto group : {elementwise_grad_cases, reduce_grad_cases, shape_grad_cases, matmul_grad_cases,
                     nn_grad_cases, attention_grad_cases}) {
    auto cases = group();
    v.insert(v.end(), cases.begin(), cases.end());
  }
  return v;
}

}  // namespace sg
