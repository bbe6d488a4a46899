// seqgrad inspect PATH [--json] (docs/cli.md, issue 6 point 4): format version, step, config,
// parameter names and shapes, parameter count, optimizer, training data lengths.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

class Inspect : public ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    const RunResult r =
        train(tiny_model() + std::vector<std::string>{"--steps", "2", "--out", "run"});
    ASSERT_EQ(r.code, 0) << describe(r);
  }
};

TEST_F(Inspect, JsonHasStepConfigParametersAndOptimizer) {
  const RunResult r = run({"inspect", "run/ckpt-2.h5", "--json"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(r.err, "");
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["step"], 2);
  EXPECT_EQ(j["format_version"], kCheckpointVersion);
  EXPECT_EQ(j["config"]["d_model"], 16);
  EXPECT_EQ(j["config"]["task"], "copy");
  EXPECT_EQ(j["optimizer"]["type"], "adam");
  EXPECT_EQ(j["optimizer"]["step"], 2);
  EXPECT_EQ(j["optimizer"]["beta2"], 0.98);
  EXPECT_EQ(j["scheduler"]["kind"], "inverse_sqrt");
  EXPECT_EQ(j["scheduler"]["step"], 2);
  EXPECT_EQ(j["scheduler"]["last_lr"], j["optimizer"]["lr"]);
  // The copy task's bounds (default --max-len 10): the default decode limit's basis.
  EXPECT_EQ(j["train_lengths"]["max_tgt_len"], 10);
  EXPECT_EQ(j["train_lengths"]["max_len_ratio"], 1.0);

  const H5File f = H5File::open_read(path("run/ckpt-2.h5"));
  const auto names = f.list("model");
  ASSERT_EQ(j["parameters"].size(), names.size());
  int64_t count = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& p = j["parameters"][i];
    EXPECT_EQ(p["name"], names[i]);
    EXPECT_EQ(p["shape"].get<Shape>(), f.shape_of("model/" + names[i])) << names[i];
    count += shape_numel(f.shape_of("model/" + names[i]));
  }
  EXPECT_EQ(j["parameter_count"], count);
}

TEST_F(Inspect, TextListsTheSameFacts) {
  const RunResult r = run({"inspect", "--checkpoint", "run/latest.h5"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("format_version 2, step 2, epoch 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"type\":\"adam\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"d_model\":16"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("training data: {\"max_len_ratio\":1.0,\"max_tgt_len\":10}"),
            std::string::npos)
      << r.out;
  const H5File f = H5File::open_read(path("run/ckpt-2.h5"));
  int64_t count = 0;
  for (const auto& name : f.list("model")) {
    count += shape_numel(f.shape_of("model/" + name));
    EXPECT_NE(r.out.find(name + " "), std::string::npos) << name;
  }
  EXPECT_NE(r.out.find("parameters (" + std::to_string(count) + "):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("generator.weight"), std::string::npos);
  EXPECT_NE(r.out.find("{14,16}"), std::string::npos) << r.out;  // 4 specials + 10 symbols
}

TEST_F(Inspect, WithoutAPathIsAUsageError) {
  expect_one_error_line(run({"inspect"}), 2, "inspect: give a checkpoint PATH");
}

TEST_F(Inspect, AMissingFileIsOneErrorLine) {
  expect_one_error_line(run({"inspect", "run/nothing.h5", "--json"}), 1, "run/nothing.h5");
  expect_one_error_line(run({"inspect", "--verify", "run/nothing.h5"}), 1,
                        "hdf5: no such file 'run/nothing.h5'");
  expect_one_error_line(run({"inspect", "--verify", "run"}), 1, "hdf5: not a file: 'run'");
}

// A sound checkpoint passes --verify, in text and in JSON.
TEST_F(Inspect, VerifySaysASoundFileIsWhole) {
  RunResult r = run({"inspect", "--verify", "run/latest.h5"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("run/latest.h5: ok: format_version 2; read "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("every byte of it is checksummed and every checksum matches"),
            std::string::npos)
      << r.out;
  r = run({"inspect", "--verify", "run/latest.h5", "--json"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["checksummed"], true);
  EXPECT_EQ(j["unaccounted_bytes"], 0);
  EXPECT_EQ(j["damaged"].size(), 0u);
}

}  // namespace
}  // namespace sg::testing
