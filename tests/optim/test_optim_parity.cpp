// SGD, Adam, AdamW, clip_grad_norm and the schedules against torch 1.13 fixtures
// (tests/reference/make_optim_fixtures.py): parameters must match BIT FOR BIT after every one
// of 20 steps, given the same gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "autograd/parallel.h"
#include "autograd/random.h"
#include "optim/clip.h"
#include "tests/optim/optim_fixture.h"

namespace sg {
namespace {

using namespace optim_test;

std::string hex(float x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", static_cast<double>(x));
  return buf;
}

// Empty if a and b are bitwise equal, else a description of the first difference.
std::string first_difference(const float* a, const float* b, int64_t n) {
  if (std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)) == 0) return "";
  for (int64_t i = 0; i < n; ++i)
    if (std::memcmp(a + i, b + i, sizeof(float)) != 0)
      return "element " + std::to_string(i) + ": got " + hex(a[i]) + " expected " + hex(b[i]);
  return "?";
}

const std::vector<std::string> kCases = {"adam",
                                         "adam_amsgrad",
                                         "adam_missing_grads",
                                         "adam_noam",
                                         "adam_weight_decay",
                                         "adamw",
                                         "adamw_amsgrad",
                                         "adamw_cosine",
                                         "sgd_momentum_dampening",
                                         "sgd_momentum_missing_grads",
                                         "sgd_nesterov_weight_decay",
                                         "sgd_plain"};

TEST(OptimParityFixture, HoldsExactlyTheTestedCases) {
  const H5File f = H5File::open_read(fixture_path());
  EXPECT_EQ(f.list("/cases"), kCases);
  const Fixture fx = load_fixture(f);
  ASSERT_EQ(fx.names.size(), 3u);
  for (size_t i = 0; i < fx.names.size(); ++i)
    EXPECT_EQ(fx.grads[i].size(), fx.init[i].size() * kSteps);
}

class OptimParity : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimParity, MatchesTorchBitForBitAfterEveryStep) {
  const std::string name = GetParam();
  const H5File f = H5File::open_read(fixture_path());
  const Fixture fx = load_fixture(f);
  const std::string g = "/cases/" + name;
  NamedParams params = make_params(fx, natural_order(fx));
  auto opt = make_case_optimizer(f, name, params);
  const std::string schedule = f.attr_str(g, "schedule");
  Schedule sched;
  if (schedule != "none") {
    sched.kind = parse_schedule_kind(schedule);
    sched.base_lr = f.attr_f64(g, "lr");
    sched.d_model = f.attr_i64(g, "d_model");
    sched.warmup = f.attr_i64(g, "warmup");
    sched.total_steps = f.attr_i64(g, "total_steps");
  }
  std::vector<std::vector<float>> expected;
  std::vector<std::vector<int64_t>> has_grad;
  for (const auto& pname : fx.names) {
    expected.push_back(f.read_f32(g + "/params/" + pname).data);
    const std::string gp = g + "/grad_present/" + pname;
    has_grad.push_back(f.exists(gp) ? f.read_i64(gp).data : std::vector<int64_t>(kSteps, 1));
  }
  for (int64_t s = 0; s < kSteps; ++s) {
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& p = params[i].second;
      if (has_grad[i][s] != 0)
        set_grad(p, fx.grads[i].data() + s * p.numel());
      else
        params[i].second.zero_grad();  // grad = None for this step
    }
    if (schedule != "none") opt->set_lr(schedule_lr(sched, opt->step_count() + 1));
    opt->step();
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& p = params[i].second;
      const std::string diff =
          first_difference(p.data<float>(), expected[i].data() + s * p.numel(), p.numel());
      ASSERT_EQ(diff, "") << name << ": parameter " << params[i].first << " after step " << s + 1;
    }
  }
  EXPECT_EQ(opt->step_count(), kSteps);
}

INSTANTIATE_TEST_SUITE_P(Torch, OptimParity, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return param_info.param; });

// ---------------------------------------------------------------- clip_grad_norm

struct ClipCase {
  NamedParams params;
  std::vector<std::vector<float>> input;
};

ClipCase load_clip_case(const H5File& f, const std::string& name) {
  ClipCase c;
  for (int i = 0; f.exists("/clip/" + name + "/grads/g" + std::to_string(i)); ++i) {
    const std::string pname = "g" + std::to_string(i);
    auto g = f.read_f32("/clip/" + name + "/grads/" + pname);
    Tensor p = Tensor::zeros(g.shape);
    set_grad(p, g.data.data());
    c.params.emplace_back(pname, p);
    c.input.push_back(std::move(g.data));
  }
  return c;
}

class ClipParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ClipParity, TotalNormAndClippedGradientsMatchTorch) {
  const std::string name = GetParam();
  const H5File f = H5File::open_read(fixture_path());
  ClipCase c = load_clip_case(f, name);
  ASSERT_FALSE(c.params.empty());
  const double max_norm = f.attr_f64("/clip/" + name, "max_norm");
  const float expected_norm = f.read_f32("/clip/" + name + "/total_norm").data[0];
  const ClipResult r = clip_grad_norm(c.params, max_norm);
  EXPECT_EQ(hex(r.total_norm), hex(expected_norm));
  EXPECT_TRUE(r.finite);
  EXPECT_EQ(r.clipped, name != "inactive");
  for (size_t i = 0; i < c.params.size(); ++i) {
    const auto want = f.read_f32("/clip/" + name + "/clipped/" + c.params[i].first).data;
    const Tensor g = c.params[i].second.grad();
    EXPECT_EQ(first_difference(g.data<float>(), want.data(), g.numel()), "")
        << name << ": gradient " << c.params[i].first;
  }
}

INSTANTIATE_TEST_SUITE_P(Torch, ClipParity,
                         ::testing::Values("active", "inactive", "single", "tiny_max_norm"),
                         [](const auto& param_info) { return param_info.param; });

TEST(ClipNonFinite, ReportsTheNormAndLeavesGradientsUntouched) {
  const H5File f = H5File::open_read(fixture_path());
  for (const auto& [name, bad] :
       {std::pair<std::string, std::string>{"nonfinite_inf", "g1"}, {"nonfinite_nan", "g2"}}) {
    ClipCase c = load_clip_case(f, name);
    const float torch_norm = f.read_f32("/clip/" + name + "/total_norm").data[0];
    const ClipResult r = clip_grad_norm(c.params, f.attr_f64("/clip/" + name, "max_norm"));
    EXPECT_FALSE(r.finite) << name;
    EXPECT_FALSE(r.clipped) << name;
    EXPECT_EQ(std::isnan(r.total_norm), std::isnan(torch_norm)) << name;
    EXPECT_EQ(std::isinf(r.total_norm), std::isinf(torch_norm)) << name;
    EXPECT_EQ(r.nonfinite_param, bad);
    for (size_t i = 0; i < c.params.size(); ++i) {
      const Tensor g = c.params[i].second.grad();
      EXPECT_EQ(std::memcmp(g.data<float>(), c.input[i].data(), c.input[i].size() * 4), 0)
          << name << ": gradient " << c.params[i].first << " was modified";
    }
    try {
      clip_grad_norm(c.params, 1.0, NonFinite::error);
      ADD_FAILURE() << name << ": expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("'" + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(ClipNonFinite, OverflowingSquaresAreReportedWithoutAParameter) {
  Tensor p = Tensor::zeros({4});
  const std::vector<float> big = {3e38f, 3e38f, 1.0f, 2.0f};
  set_grad(p, big.data());
  const ClipResult r = clip_grad_norm({{"w", p}}, 1.0);
  EXPECT_FALSE(r.finite);
  EXPECT_TRUE(std::isinf(r.total_norm));
  EXPECT_EQ(r.nonfinite_param, "w");  // its own norm already overflows
  EXPECT_EQ(p.grad().to_floats(), big);
}

TEST(Clip, NoGradientsGiveZeroAndSkipParametersWithoutGrad) {
  Tensor a = Tensor::zeros({3}), b = Tensor::zeros({2});
  EXPECT_EQ(clip_grad_norm({{"a", a}, {"b", b}}, 1.0).total_norm, 0.0f);
  const std::vector<float> g = {3.0f, 4.0f};
  set_grad(b, g.data());
  const ClipResult r = clip_grad_norm({{"a", a}, {"b", b}}, 10.0);
  EXPECT_EQ(r.total_norm, 5.0f);
  EXPECT_FALSE(a.grad().defined());
  EXPECT_THROW(clip_grad_norm({{"b", b}}, 0.0), std::invalid_argument);
}

// The trainer clips with ClipApply::defer and hands the factor to step(): every optimizer
// must then land on the parameters, state and step counts that scaling first gives, bit for bit.
TEST(Clip, DeferredFactorInTheStepEqualsScalingFirst) {
  const std::vector<std::pair<std::string, Hyper>> kinds = {
      {"sgd", {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 0.01}}},
      {"adam", {{"lr", 1e-2}, {"weight_decay", 0.01}}},
      {"adam", {{"lr", 1e-2}, {"amsgrad", 1}}},
      {"adamw", {{"lr", 1e-2}}}};
  for (const auto& [type, hyper] : kinds) {
    Generator g(7);
    NamedParams scaled, deferred;
    for (const Shape& shape : {Shape{5, 33}, Shape{7}}) {
      const Tensor init = Tensor::randn(shape, g);
      scaled.emplace_back("p" + std::to_string(scaled.size()), init.clone());
      deferred.emplace_back("p" + std::to_string(deferred.size()), init.clone());
    }
    auto a = make_optimizer(type, scaled, hyper), b = make_optimizer(type, deferred, hyper);
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < scaled.size(); ++i) {
        const Tensor grad = Tensor::randn(scaled[i].second.shape(), g);
        set_grad(scaled[i].second, grad.data<float>());
        set_grad(deferred[i].second, grad.data<float>());
      }
      const ClipResult ra = clip_grad_norm(scaled, 0.5);
      const ClipResult rb = clip_grad_norm(deferred, 0.5, NonFinite::report, ClipApply::defer);
      ASSERT_TRUE(ra.clipped && rb.clipped) << type;
      EXPECT_EQ(hex(ra.coef), hex(rb.coef)) << type;
      EXPECT_LT(rb.coef, 1.0f) << type;
      a->step();
      b->step(rb.coef);
      for (size_t i = 0; i < scaled.size(); ++i)
        EXPECT_EQ(first_difference(deferred[i].second.data<float>(), scaled[i].second.data<float>(),
                                   scaled[i].second.numel()),
                  "")
            << type << " step " << step << " " << scaled[i].first;
    }
    const OptimizerState sa = a->export_state(), sb = b->export_state();
    for (const auto& [name, ps] : sa.params)
      for (const auto& [buf, t] : ps.buffers)
        EXPECT_EQ(first_difference(sb.params.at(name).buffers.at(buf).data<float>(),
                                   t.data<float>(), t.numel()),
                  "")
            << type << " " << buf << " of " << name;
  }
}

TEST(Clip, DeferLeavesTheGradientsAsTheyAre) {
  Tensor p = Tensor::zeros({2});
  const std::vector<float> g = {3.0f, 4.0f};
  set_grad(p, g.data());
  const ClipResult r = clip_grad_norm({{"w", p}}, 1.0, NonFinite::report, ClipApply::defer);
  EXPECT_TRUE(r.clipped);
  EXPECT_EQ(r.total_norm, 5.0f);
  EXPECT_NEAR(r.coef, 0.2f, 1e-6f);
  EXPECT_EQ(p.grad().to_floats(), g);
  EXPECT_EQ(clip_grad_norm({{"w", p}}, 10.0, NonFinite::report, ClipApply::defer).coef, 1.0f);
}

// ---------------------------------------------------------------- schedules

TEST(ScheduleParity, MatchesLambdaLRForTheFirst1000Steps) {
  const H5File f = H5File::open_read(fixture_path());
  const auto names = f.list("/schedule");
  EXPECT_EQ(names.size(), 6u);
  for (const auto& name : names) {
    const std::string g = "/schedule/" + name;
    Schedule s;
    s.kind = parse_schedule_kind(f.attr_str(g, "kind"));
    s.base_lr = f.attr_f64(g, "base_lr");
    s.d_model = f.attr_i64(g, "d_model");
    s.warmup = f.attr_i64(g, "warmup");
    s.total_steps = f.attr_i64(g, "total_steps");
    const auto lr = f.read_f64(g + "/lr").data;
    ASSERT_EQ(lr.size(), 1000u);
    for (int64_t step = 1; step <= 1000; ++step)
      ASSERT_EQ(schedule_lr(s, step), lr[step - 1]) << name << " at step " << step;
  }
}

TEST(Schedule, RejectsInvalidSettingsAndSteps) {
  EXPECT_THROW(noam_lr(1.0, 512, 0, 1), std::invalid_argument);
  EXPECT_THROW(cosine_lr(1.0, 10, 10, 1), std::invalid_argument);
  EXPECT_THROW(constant_lr(1.0, 0), std::invalid_argument);
  EXPECT_THROW(parse_schedule_kind("linear"), std::invalid_argument);
  EXPECT_EQ(cosine_lr(2.0, 10, 20, 25), 0.0);  // past the end: 0
  EXPECT_EQ(cosine_lr(2.0, 10, 20, 10), 2.0);  // end of warmup: the base rate
}

// ---------------------------------------------------------------- threading

// A parameter large enough to be split across threads updates exactly as with one thread.
TEST(OptimThreads, LargeParameterUpdatesIdenticallyWithAnyThreadCount) {
  Generator gen(7);
  const Shape shape = {300, 401};
  const Tensor init = Tensor::randn(shape, gen);
  std::vector<Tensor> grads;
  for (int s = 0; s < 3; ++s) grads.push_back(Tensor::randn(shape, gen));
  const int saved = num_threads();
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (const std::string type : {"adam", "adamw", "sgd"}) {
      Tensor p = init.clone();
      Hyper h = {{"lr", 0.01}, {"weight_decay", 0.1}};
      if (type == "sgd")
        h["momentum"] = 0.9;
      else
        h["amsgrad"] = 1;
      auto opt = make_optimizer(type, {{"w", p}}, h);
      for (const Tensor& g : grads) {
        set_grad(p, g.data<float>());
        clip_grad_norm({{"w", p}}, 50.0);
        opt->step();
      }
      results.push_back(p.to_floats());
    }
  }
  set_num_threads(saved);
  for (size_t k = 3; k < results.size(); ++k)
    EXPECT_EQ(std::memcmp(results[k].data(), results[k % 3].data(), results[k].size() * 4), 0)
        << "run " << k;
}

}  // namespace
}  // namespace sg
