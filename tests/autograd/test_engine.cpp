// Engine semantics: shared inputs, repeated backward, no-grad mode, the gradient shape check,
// freeing the graph after backward, and a gradcheck that must reject a wrong backward and report
// it in the table `seqgrad gradcheck` prints.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {
namespace {

Tensor leaf(const std::vector<double>& v, const Shape& shape) {
  Tensor t = Tensor::from_vector(v, shape, DType::f64);
  t.set_requires_grad();
  return t;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want,
                 double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// sin as a test-only op through record(): backward is factor * cos(x) * g, right for factor 1.
Tensor sin_op(const Tensor& x, double factor) {
  std::vector<double> v = x.to_vector(), s(v.size()), c(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    s[i] = std::sin(v[i]);
    c[i] = factor * std::cos(v[i]);
  }
  const Tensor y = Tensor::from_vector(s, x.shape(), x.dtype());
  const Tensor dydx = Tensor::from_vector(c, x.shape(), x.dtype());
  return record(y, "test_sin", {x}, [dydx](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{mul(g, dydx)};
  });
}

TEST(Engine, DiamondGraphSumsBothPaths) {
  // a = x^2, b = 3x, y = sum(a + b): dy/dx = 2x + 3.
  Tensor x = leaf({1, -2, 0.5}, {3});
  const Tensor a = mul(x, x), b = mul(x, 3.0);
  sum(add(a, b)).backward();
  expect_near(x.grad().to_vector(), {5, -1, 4});
}

TEST(Engine, DiamondThroughASharedIntermediate) {
  // h = exp(x) feeds two branches: y = sum(h * h + h), dy/dx = (2h + 1) h.
  Tensor x = leaf({0.3, -1.0}, {2});
  const Tensor h = exp(x);
  sum(add(mul(h, h), h)).backward();
  std::vector<double> want;
  for (double v : {0.3, -1.0}) want.push_back((2 * std::exp(v) + 1) * std::exp(v));
  expect_near(x.grad().to_vector(), want);
}

TEST(Engine, BackwardTwiceWithRetainGraphAccumulates) {
  Tensor x = leaf({1, 2, 3}, {3});
  const Tensor y = sum(mul(x, x));
  y.backward(Tensor(), true);
  expect_near(x.grad().to_vector(), {2, 4, 6});
  y.backward(Tensor(), true);
  expect_near(x.grad().to_vector(), {4, 8, 12});
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  y.backward(Tensor(), true);
  expect_near(x.grad().to_vector(), {2, 4, 6});
}

// Slices are window nodes: their gradients go straight into windows of the input's gradient.
TEST(Engine, SliceWindowsAccumulateIntoLeafAndIntermediate) {
  Tensor x = leaf({1, 2, 3, 4}, {4});
  const Tensor h = mul(x, 2.0);  // an intermediate with three overlapping windows
  const Tensor y = add(add(sum(slice(h, 0, 0, 2)), sum(slice(h, 0, 1, 3))), sum(slice(x, 0, 3, 4)));
  y.backward(Tensor(), true);
  expect_near(x.grad().to_vector(), {2, 4, 2, 1});
  y.backward(Tensor(), true);  // onto the existing .grad of the leaf
  expect_near(x.grad().to_vector(), {4, 8, 4, 2});
  const Tensor kept = x.grad();  // a handle the user holds is updated in place, as in PyTorch
  y.backward(Tensor(), true);
  expect_near(kept.to_vector(), {6, 12, 6, 3});
}

// y = 2 x through record_accumulating; `seen` counts the calls that were handed an accumulator.
Tensor double_op(const Tensor& x, int* seen, bool also_return = false) {
  return record_accumulating(mul(x.detach(), 2.0), "test_double", {x},
                             [seen, also_return](const Tensor& g, const std::vector<bool>&,
                                                 const std::vector<Tensor>& into) {
                               if (!into[0].defined()) return std::vector<Tensor>{mul(g, 2.0)};
                               ++*seen;
                               into[0].copy_from(add(into[0], mul(g, 2.0)));
                               return std::vector<Tensor>{also_return ? mul(g, 2.0) : Tensor()};
                             });
}

TEST(Engine, AccumulatingOpAddsIntoThePendingGradientOfAnIntermediate) {
  // h = exp(x); y = sum(2h + h * 3): the engine runs the mul's backward first (reverse
  // topological order), then test_double adds into the gradient it left for h.
  Tensor x = leaf({0.3, -1.0}, {2});
  const Tensor h = exp(x);
  int seen = 0;
  sum(add(double_op(h, &seen), mul(h, 3.0))).backward();
  EXPECT_EQ(seen, 1);
  expect_near(x.grad().to_vector(), {5 * std::exp(0.3), 5 * std::exp(-1.0)});
}

TEST(Engine, AccumulatingOpReturnsALeafsGradientAndCopiesAShared) {
  // Into a leaf's .grad never: backward calls add their own gradients there. And h's pending
  // gradient is add's own upstream gradient (add passes it through), so it is copied first.
  Tensor x = leaf({1, 2}, {2});
  int seen = 0;
  sum(mul(x, 10.0)).backward();
  sum(add(double_op(x, &seen), x)).backward();
  EXPECT_EQ(seen, 0);
  expect_near(x.grad().to_vector(), {13, 13});
  Tensor z = leaf({1, 2}, {2});
  const Tensor h = mul(z, 1.0);
  const Tensor y = add(double_op(h, &seen), h);
  y.backward(Tensor::from_vector({1, 1}, {2}, DType::f64));
  EXPECT_EQ(seen, 1);
  expect_near(z.grad().to_vector(), {3, 3});
}

TEST(Engine, AccumulatingOpThatAlsoReturnsThrowsNamingTheOp) {
  Tensor x = leaf({0.5}, {1});
  const Tensor h = exp(x);
  int seen = 0;
  const std::string m =
      message_of([&] { sum(add(double_op(h, &seen, true), mul(h, 3.0))).backward(); });
  EXPECT_NE(m.find("test_double"), std::string::npos) << m;
  EXPECT_NE(m.find("both accumulated and returned"), std::string::npos) << m;
}

TEST(Engine, BackwardTwiceWithoutRetainThrowsNamingTheOp) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor y = sum(tanh(x));
  y.backward();
  const std::string m = message_of([&] { y.backward(); });
  EXPECT_NE(m.find("'sum'"), std::string::npos) << m;
  EXPECT_NE(m.find("retain_graph"), std::string::npos) << m;
}

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor x = leaf({1, 2}, {2});
  const int64_t nodes = live_node_count();
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_enabled());
    const Tensor y = mul(exp(x), x);
    EXPECT_FALSE(y.grad_fn());
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(live_node_count(), nodes);
    EXPECT_THROW(sum(y).backward(), std::invalid_argument);
  }
  EXPECT_TRUE(grad_enabled());
  const Tensor z = mul(x, x);
  ASSERT_TRUE(z.grad_fn());
  EXPECT_EQ(z.grad_fn()->name, "mul");
  EXPECT_TRUE(z.requires_grad());
}

TEST(Engine, WrongGradientShapeThrowsNamingTheOp) {
  Tensor x = leaf({1, 2, 3}, {3});
  const Tensor y =
      record(x.detach().clone(), "bad_shape_op", {x}, [](const Tensor&, const std::vector<bool>&) {
        return std::vector<Tensor>{Tensor::zeros({4}, DType::f64)};
      });
  const std::string m = message_of([&] { sum(y).backward(); });
  EXPECT_NE(m.find("bad_shape_op"), std::string::npos) << m;
  EXPECT_NE(m.find("{4}"), std::string::npos) << m;
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, WrongGradientDtypeThrowsNamingTheOp) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor y = record(x.detach().clone(), "bad_dtype_op", {x},
                          [](const Tensor& g, const std::vector<bool>&) {
                            return std::vector<Tensor>{g.to(DType::f32)};
                          });
  const std::string m = message_of([&] { sum(y).backward(); });
  EXPECT_NE(m.find("bad_dtype_op"), std::string::npos) << m;
}

TEST(Engine, UpstreamGradientMustMatchTheOutput) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor y = mul(x, x);
  EXPECT_THROW(y.backward(), std::invalid_argument);  // non-scalar without a gradient
  EXPECT_THROW(y.backward(Tensor::zeros({3}, DType::f64)), std::logic_error);
  y.backward(Tensor::full({2}, 1.0, DType::f64));
  expect_near(x.grad().to_vector(), {2, 4});
}

TEST(Engine, GraphAndSavedTensorsAreFreedAfterBackward) {
  Generator gen(3);
  Tensor x = Tensor::randn({4, 3}, gen, DType::f64).set_requires_grad();
  Tensor w = Tensor::randn({3, 2}, gen, DType::f64).set_requires_grad();
  const int64_t start = live_node_count();
  for (int i = 0; i < 1000; ++i) {
    const Tensor y = sum(tanh(matmul(x, w)));
    EXPECT_GT(live_node_count(), start);
    y.backward();
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_EQ(live_node_count(), start);

  // The only owners of h's storage are the closures of exp (its output) and mul (its inputs).
  std::weak_ptr<Storage> saved;
  Tensor y;
  {
    const Tensor h = exp(x);
    saved = h.impl()->storage;
    y = sum(mul(h, h));
  }
  EXPECT_FALSE(saved.expired());
  y.backward();
  EXPECT_TRUE(saved.expired());
  EXPECT_TRUE(y.grad_fn()->freed);
}

TEST(Engine, RetainedGraphKeepsSavedTensorsUntilDropped) {
  Tensor x = leaf({0.5}, {1});
  std::weak_ptr<Storage> saved;
  {
    Tensor y;
    {
      const Tensor h = exp(x);
      saved = h.impl()->storage;
      y = sum(mul(h, h));
    }
    y.backward(Tensor(), true);
    EXPECT_FALSE(saved.expired());
  }
  EXPECT_TRUE(saved.expired());
}

TEST(Engine, GradcheckRejectsAWrongBackward) {
  auto make_case = [](double factor) {
    return GradCase{"test_sin", "op", [factor](Generator& g) {
                      Tensor x = grad_input({3, 2}, g);
                      return GradProblem{{x}, [x, factor] { return sin_op(x, factor); }};
                    }};
  };
  const GradResult wrong = check_gradients(make_case(2.0));
  EXPECT_FALSE(wrong.passed);
  EXPECT_TRUE(wrong.error.empty()) << wrong.error;
  EXPECT_GT(wrong.max_abs_err, 1e-2);
  const GradResult right = check_gradients(make_case(1.0));
  EXPECT_TRUE(right.passed) << right.max_abs_err << " " << right.error;
  EXPECT_LT(right.max_abs_err, 1e-6);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A right and a wrong backward of the same op, and a case that throws.
std::vector<GradCase> report_cases() {
  auto sin_case = [](const std::string& name, double factor) {
    return GradCase{name, "op", [factor](Generator& g) {
                      Tensor x = grad_input({3, 2}, g);
                      return GradProblem{{x}, [x, factor] { return sin_op(x, factor); }};
                    }};
  };
  return {sin_case("sin_right", 1.0), sin_case("sin_wrong", 2.0),
          GradCase{"throws", "layer",
                   [](Generator&) -> GradProblem { throw std::runtime_error("cannot build"); }}};
}

TEST(Engine, GradcheckTablePrintsEveryRowAndCountsFailures) {
  std::ostringstream out;
  EXPECT_EQ(run_gradchecks(report_cases(), out), 2);
  const std::vector<std::string> lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 5u) << out.str();
  EXPECT_EQ(lines[0].rfind("case ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("max_abs_err"), std::string::npos);
  EXPECT_EQ(lines[1].rfind("sin_right ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[1].substr(lines[1].size() - 4), "  ok");
  EXPECT_EQ(lines[2].rfind("sin_wrong ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[2].substr(lines[2].size() - 6), "  FAIL");
  EXPECT_EQ(lines[3].rfind("throws ", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find(" layer "), std::string::npos);
  EXPECT_NE(lines[3].find("FAIL  cannot build"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[4], "3 cases, 1 passed, 2 failed");
}

TEST(Engine, GradcheckTableAsJsonLines) {
  std::ostringstream out;
  GradTableOptions opt;
  opt.seed = 3;
  opt.json = true;
  EXPECT_EQ(run_gradchecks(report_cases(), out, opt), 2);
  const std::vector<std::string> lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  const auto right = nlohmann::json::parse(lines[0]), wrong = nlohmann::json::parse(lines[1]),
             thrown = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(right["name"], "sin_right");
  EXPECT_EQ(right["kind"], "op");
  EXPECT_TRUE(right["passed"].get<bool>());
  EXPECT_LT(right["max_abs_err"].get<double>(), 1e-6);
  EXPECT_FALSE(right.contains("error"));
  EXPECT_FALSE(wrong["passed"].get<bool>());
  EXPECT_GT(wrong["max_rel_err"].get<double>(), 1e-2);
  EXPECT_EQ(thrown["error"], "cannot build");
  EXPECT_EQ(thrown["kind"], "layer");
}

}  // namespace
}  // namespace sg
