// Optimizer state export / import: stopping after k steps, restoring the state into a fresh
// optimizer (directly or through an HDF5 checkpoint) and continuing is bit-identical to never
// stopping; state is matched by parameter name; missing or mis-shaped state is a clear error.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstring>
#include <filesystem>

#include "optim/adam.h"
#include "optim/sgd.h"
#include "tests/optim/optim_fixture.h"
#include "train/checkpoint/state_io.h"

namespace sg {
namespace {

using namespace optim_test;
namespace fs = std::filesystem;

struct Config {
  std::string name, type;
  Hyper hyper;
};

void PrintTo(const Config& c, std::ostream* os) {
  *os << c.name;
}

const std::vector<Config> kConfigs = {
    {"sgd_nesterov",
     "sgd",
     {{"lr", 0.05}, {"momentum", 0.9}, {"nesterov", 1}, {"weight_decay", 0.01}}},
    {"sgd_dampening", "sgd", {{"lr", 0.05}, {"momentum", 0.8}, {"dampening", 0.25}}},
    {"adam_amsgrad", "adam", {{"lr", 1e-2}, {"amsgrad", 1}, {"weight_decay", 0.01}}},
    {"adam", "adam", {{"lr", 3e-3}, {"beta2", 0.98}, {"eps", 1e-9}}},
    {"adamw", "adamw", {{"lr", 3e-3}, {"weight_decay", 0.05}}},
};

// Parameter 2 has no gradient for the first 9 steps, so per-parameter step counts (and SGD's
// "no momentum buffer yet") differ across parameters when the state is exported at step 7.
bool has_grad(const std::string& name, int64_t s) {
  return !(name == "block.0.kernel" && s < 9);
}

void run(Optimizer& opt, const Fixture& fx, int64_t from, int64_t to) {
  for (int64_t s = from; s < to; ++s) {
    for (const auto& [name, p] : opt.params()) {
      for (size_t i = 0; i < fx.names.size(); ++i)
        if (fx.names[i] == name) {
          if (has_grad(name, s))
            set_grad(p, fx.grads[i].data() + s * p.numel());
          else
            Tensor(p).zero_grad();
        }
    }
    opt.step();
  }
}

// name -> values
std::map<std::string, std::vector<float>> values(const NamedParams& params) {
  std::map<std::string, std::vector<float>> v;
  for (const auto& [name, p] : params) v[name] = p.to_floats();
  return v;
}

// Fresh parameters in `order` holding the values `v` (the model part of a checkpoint).
NamedParams params_with(const Fixture& fx, const std::vector<size_t>& order,
                        const std::map<std::string, std::vector<float>>& v) {
  NamedParams params = make_params(fx, order);
  for (auto& [name, p] : params) std::memcpy(p.data<float>(), v.at(name).data(), p.numel() * 4);
  return params;
}

bool bitwise_equal(const std::map<std::string, std::vector<float>>& a,
                   const std::map<std::string, std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, v] : a) {
    const auto& w = b.at(name);
    if (v.size() != w.size() || std::memcmp(v.data(), w.data(), v.size() * 4) != 0) return false;
  }
  return true;
}

class OptimState : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    f_ = std::make_unique<H5File>(H5File::open_read(fixture_path()));
    fx_ = load_fixture(*f_);
    tmp_ = fs::temp_directory_path() /
           ("seqgrad_optim_state_" + std::to_string(::getpid()) + "_" + GetParam().name + ".h5");
  }
  void TearDown() override { fs::remove(tmp_); }

  std::unique_ptr<Optimizer> make(NamedParams params) const {
    return make_optimizer(GetParam().type, std::move(params), GetParam().hyper);
  }
  // The parameters after `kSteps` uninterrupted steps.
  std::map<std::string, std::vector<float>> straight() const {
    NamedParams params = make_params(fx_, natural_order(fx_));
    auto opt = make(params);
    run(*opt, fx_, 0, kSteps);
    return values(params);
  }

  std::unique_ptr<H5File> f_;
  Fixture fx_;
  fs::path tmp_;
};

constexpr int64_t kStop = 7;

TEST_P(OptimState, ExportImportContinuesBitIdentically) {
  const auto want = straight();
  NamedParams params = make_params(fx_, natural_order(fx_));
  auto opt = make(params);
  run(*opt, fx_, 0, kStop);
  const OptimizerState st = opt->export_state();
  EXPECT_EQ(st.step, kStop);
  EXPECT_EQ(st.params.at("block.0.kernel").step, 0);
  EXPECT_EQ(st.params.at("encoder.bias").step, kStop);

  NamedParams fresh = params_with(fx_, natural_order(fx_), values(params));
  auto resumed = make(fresh);
  resumed->import_state(st);
  EXPECT_EQ(resumed->step_count(), kStop);
  run(*resumed, fx_, kStop, kSteps);
  EXPECT_TRUE(bitwise_equal(values(fresh), want));
  // The exported copy is independent of the optimizer that keeps running.
  run(*opt, fx_, kStop, kSteps);
  EXPECT_TRUE(bitwise_equal(values(params), want));
}

TEST_P(OptimState, HdfRoundTripContinuesBitIdentically) {
  const auto want = straight();
  NamedParams params = make_params(fx_, natural_order(fx_));
  auto opt = make(params);
  run(*opt, fx_, 0, kStop);
  {
    H5File out = H5File::create(tmp_.string());
    save_optimizer_state(out, "/optimizer", *opt);
    out.close();
  }
  const H5File in = H5File::open_read(tmp_.string());
  EXPECT_EQ(in.attr_str("/optimizer", "type"), GetParam().type);
  EXPECT_EQ(in.attr_i64("/optimizer", "step"), kStop);
  EXPECT_EQ(in.attr_f64("/optimizer", "lr"), GetParam().hyper.at("lr"));
  EXPECT_EQ(in.list("/optimizer/step"), fx_.names);  // every parameter, by name
  EXPECT_EQ(in.read_i64("/optimizer/step/block.0.kernel").data, std::vector<int64_t>{0});

  NamedParams fresh = params_with(fx_, natural_order(fx_), values(params));
  auto resumed = make(fresh);
  load_optimizer_state(in, "/optimizer", *resumed);
  run(*resumed, fx_, kStop, kSteps);
  EXPECT_TRUE(bitwise_equal(values(fresh), want));
}

TEST_P(OptimState, StateIsMatchedByNameNotPosition) {
  const auto want = straight();
  NamedParams params = make_params(fx_, natural_order(fx_));
  auto opt = make(params);
  run(*opt, fx_, 0, kStop);
  {
    H5File out = H5File::create(tmp_.string());
    save_optimizer_state(out, "optimizer", *opt);
  }
  const std::vector<size_t> reversed = {2, 0, 1};
  for (bool via_file : {false, true}) {
    NamedParams fresh = params_with(fx_, reversed, values(params));
    auto resumed = make(fresh);
    if (via_file)
      load_optimizer_state(H5File::open_read(tmp_.string()), "optimizer", *resumed);
    else
      resumed->import_state(opt->export_state());
    run(*resumed, fx_, kStop, kSteps);
    EXPECT_TRUE(bitwise_equal(values(fresh), want)) << (via_file ? "via HDF5" : "direct");
  }
}

TEST_P(OptimState, ImportRestoresHyperParameters) {
  NamedParams params = make_params(fx_, natural_order(fx_));
  auto opt = make(params);
  opt->set_lr(0.125);
  run(*opt, fx_, 0, 2);
  auto other = make(make_params(fx_, natural_order(fx_)));
  other->import_state(opt->export_state());
  EXPECT_EQ(other->lr(), 0.125);
  EXPECT_EQ(other->hyper(), opt->hyper());
}

INSTANTIATE_TEST_SUITE_P(All, OptimState, ::testing::ValuesIn(kConfigs),
                         [](const auto& param_info) { return param_info.param.name; });

// ---------------------------------------------------------------- errors

// Writes `st` by hand in the checkpoint layout (so tests can damage it first).
void write_state(const std::string& path, const OptimizerState& st) {
  H5File out = H5File::create(path);
  out.create_group("/optimizer/step");
  out.set_attr_str("/optimizer", "type", st.type);
  out.set_attr_i64("/optimizer", "step", st.step);
  for (const auto& [k, v] : st.hyper) out.set_attr_f64("/optimizer", k, v);
  for (const auto& [pname, ps] : st.params) {
    out.write("/optimizer/step/" + pname, &ps.step, {});
    for (const auto& [b, t] : ps.buffers)
      out.write("/optimizer/" + b + "/" + pname, t.data<float>(), t.shape());
  }
}

class OptimStateErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    fx_ = load_fixture(H5File::open_read(fixture_path()));
    tmp_ = fs::temp_directory_path() /
           ("seqgrad_optim_errors_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".h5");
    params_ = make_params(fx_, natural_order(fx_));
    opt_ = std::make_unique<Adam>(params_, AdamOptions{});
    run(*opt_, fx_, 0, 3);
  }
  void TearDown() override { fs::remove(tmp_); }

  // import_state must throw std::invalid_argument containing `needle` and change nothing.
  void expect_import_error(const OptimizerState& st, const std::string& needle) {
    const OptimizerState before = opt_->export_state();
    try {
      opt_->import_state(st);
      ADD_FAILURE() << "expected an error containing " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    const OptimizerState after = opt_->export_state();
    EXPECT_EQ(after.step, before.step);
    EXPECT_EQ(after.hyper, before.hyper);
  }

  // Writes the current state to tmp_, lets `edit` damage a copy of it, and expects
  // load_optimizer_state to throw std::runtime_error containing `needle` and the file name.
  template <class Edit>
  void expect_load_error(Edit edit, const std::string& needle) {
    OptimizerState st = opt_->export_state();
    edit(st);
    write_state(tmp_.string(), st);
    auto fresh = std::make_unique<Adam>(make_params(fx_, natural_order(fx_)), AdamOptions{});
    try {
      load_optimizer_state(H5File::open_read(tmp_.string()), "/optimizer", *fresh);
      ADD_FAILURE() << "expected an error containing " << needle;
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
      EXPECT_NE(msg.find(tmp_.filename().string()), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }

  Fixture fx_;
  fs::path tmp_;
  NamedParams params_;
  std::unique_ptr<Adam> opt_;
};

TEST_F(OptimStateErrors, ImportRejectsMissingUnknownMisShapedAndForeignState) {
  OptimizerState st = opt_->export_state();
  st.params.erase("encoder.bias");
  expect_import_error(st, "no state for parameter 'encoder.bias'");

  st = opt_->export_state();
  st.params.at("encoder.weight").buffers.erase("exp_avg_sq");
  expect_import_error(st, "no exp_avg_sq for parameter 'encoder.weight'");

  st = opt_->export_state();
  st.params["decoder.weight"] = st.params.at("encoder.bias");
  expect_import_error(st, "unknown parameter 'decoder.weight'");

  st = opt_->export_state();
  st.params.at("encoder.weight").buffers["exp_avg"] = Tensor::zeros({5, 7});
  expect_import_error(st, "exp_avg of 'encoder.weight' has shape {5,7}");

  st = opt_->export_state();
  st.type = "sgd";
  expect_import_error(st, "'sgd'");

  st = opt_->export_state();
  st.hyper.erase("beta2");
  expect_import_error(st, "beta2");

  st = opt_->export_state();
  st.hyper["beta1"] = 1.5;
  expect_import_error(st, "beta1");

  // amsgrad in the state calls for a buffer the state does not hold.
  st = opt_->export_state();
  st.hyper["amsgrad"] = 1;
  expect_import_error(st, "no max_exp_avg_sq");
}

TEST_F(OptimStateErrors, LoadNamesTheMissingOrMisShapedObject) {
  expect_load_error(
      [](OptimizerState& st) { st.params.at("encoder.bias").buffers.erase("exp_avg"); },
      "/optimizer/exp_avg/encoder.bias");
  expect_load_error([](OptimizerState& st) { st.params.erase("block.0.kernel"); },
                    "/optimizer/step/block.0.kernel");
  expect_load_error(
      [](OptimizerState& st) {
        st.params.at("encoder.weight").buffers["exp_avg_sq"] = Tensor::zeros({35});
      },
      "'/optimizer/exp_avg_sq/encoder.weight' has shape {35}");
  expect_load_error(
      [](OptimizerState& st) { st.params["extra.weight"] = st.params.at("encoder.bias"); },
      "unknown parameter 'extra.weight'");
  expect_load_error([](OptimizerState& st) { st.hyper.erase("eps"); }, "'eps'");
  expect_load_error([](OptimizerState& st) { st.type = "adamw"; }, "'adamw'");
}

TEST_F(OptimStateErrors, LoadFromAMissingGroupOrFile) {
  {
    H5File out = H5File::create(tmp_.string());
    out.create_group("/model");
  }
  const H5File in = H5File::open_read(tmp_.string());
  EXPECT_THROW(load_optimizer_state(in, "/optimizer", *opt_), std::runtime_error);
  EXPECT_THROW(H5File::open_read(tmp_.string() + ".missing"), std::runtime_error);
}

// ---------------------------------------------------------------- construction and zero_grad

TEST(Optimizer, RejectsBadParameterLists) {
  Tensor a = Tensor::zeros({2});
  EXPECT_THROW(Sgd({{"a", a}, {"a", Tensor::zeros({1})}}, {}), std::invalid_argument);
  EXPECT_THROW(Sgd({{"", a}}, {}), std::invalid_argument);
  EXPECT_THROW(Sgd({{"x/y", a}}, {}), std::invalid_argument);
  EXPECT_THROW(Sgd({{"d", Tensor::zeros({2}, DType::f64)}}, {}), std::invalid_argument);
  EXPECT_THROW(Adam({{"a", a}}, AdamOptions{.lr = -1}), std::invalid_argument);
  EXPECT_THROW(Sgd({{"a", a}}, SgdOptions{.momentum = 0, .nesterov = true}), std::invalid_argument);
  EXPECT_THROW(make_optimizer("rmsprop", {{"a", a}}, {{"lr", 1}}), std::invalid_argument);
  EXPECT_THROW(make_optimizer("adam", {{"a", a}}, {{"lr", 1}, {"momentum", 0.9}}),
               std::invalid_argument);
}

TEST(Optimizer, RejectsAMisShapedGradient) {
  Tensor a = Tensor::zeros({2});
  a.impl()->grad = Tensor::zeros({3}).impl_ptr();
  Sgd opt({{"a", a}}, {});
  EXPECT_THROW(opt.step(), std::invalid_argument);
}

TEST(Optimizer, ZeroGradKeepsTheBufferUnlessSetToNone) {
  Tensor a = Tensor::zeros({4});
  const std::vector<float> g = {1, 2, 3, 4};
  set_grad(a, g.data());
  const void* buffer = a.grad().raw_data();
  Adam opt({{"a", a}}, {});
  opt.zero_grad();
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(a.grad().raw_data(), buffer);
  EXPECT_EQ(a.grad().to_floats(), std::vector<float>(4, 0.0f));
  opt.zero_grad(/*set_to_none=*/true);
  EXPECT_FALSE(a.grad().defined());
  opt.step();  // no gradient: nothing moves, but step() is counted
  EXPECT_EQ(a.to_floats(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(opt.step_count(), 1);
  EXPECT_EQ(opt.export_state().params.at("a").step, 0);
}

}  // namespace
}  // namespace sg
