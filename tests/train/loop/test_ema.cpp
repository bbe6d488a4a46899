// train --ema DECAY (docs/cli.md#optimization-options): the moving average of the weights after
// every step, checked against a hand computation from the saved parameters; saved as /ema under
// every parameter name; exact resume of /model and /ema; the evaluations score the averaged
// weights; --ema is fixed for the run; bad decays are usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

using TrainEma = ScratchTest;

// A learning rate that moves the weights visibly in a few steps.
std::vector<std::string> moving() {
  return tiny_model() + std::vector<std::string>{"--lr", "0.01", "--schedule", "constant"};
}

TEST_F(TrainEma, AveragesTheParametersOfEveryStep) {
  // ckpt-0 holds the initialized model; then steps 1, 2, 3 each saved.
  RunResult r =
      train(moving() + std::vector<std::string>{"--ema", "0.9", "--steps", "0", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train({"--resume", "run/ckpt-0.h5", "--steps", "3", "--save-every", "1", "--keep", "10"});
  ASSERT_EQ(r.code, 0) << describe(r);
  std::vector<H5File> ck;
  for (int s = 0; s <= 3; ++s)
    ck.push_back(H5File::open_read(path("run/ckpt-" + std::to_string(s) + ".h5")));
  EXPECT_EQ(ck[3].attr_f64("ema", "decay"), 0.9);
  const float d = 0.9f, a = 0.1f;  // float32(0.9) and float32(1 - 0.9), as torch rounds them
  int64_t moved = 0;
  for (const auto& name : ck[0].list("model")) {
    // Step 0: the average is the initialized parameters.
    std::vector<float> e = ck[0].read_f32("model/" + name).data;
    ASSERT_TRUE(ck[0].read_f32("ema/" + name).data == e) << name;
    for (int s = 1; s <= 3; ++s) {
      const std::vector<float> p = ck[s].read_f32("model/" + name).data;
      for (size_t i = 0; i < e.size(); ++i) {
        const float kept = e[i] * d, added = p[i] * a;
        e[i] = kept + added;
      }
      const std::vector<float> saved = ck[s].read_f32("ema/" + name).data;
      ASSERT_EQ(saved.size(), e.size());
      for (size_t i = 0; i < e.size(); ++i) ASSERT_EQ(saved[i], e[i]) << name << "[" << i << "]";
      for (size_t i = 0; i < e.size(); ++i) moved += saved[i] != p[i];
    }
  }
  EXPECT_GT(moved, 0);  // the average lags the weights
}

TEST_F(TrainEma, ResumeIsExactForModelAndAverage) {
  // Shared embeddings: the one matrix has one average, saved under its three names.
  const auto args =
      tiny_model() +
      std::vector<std::string>{"--ema",        "0.8", "--dropout", "0.1", "--share-embeddings",
                               "--eval-every", "2"};
  RunResult r = train(args + std::vector<std::string>{"--steps", "3", "--out", "a"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train({"--resume", "a/ckpt-3.h5", "--steps", "6"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train(args + std::vector<std::string>{"--steps", "6", "--out", "b"});
  ASSERT_EQ(r.code, 0) << describe(r);
  expect_same_training_state(path("a/ckpt-6.h5"), path("b/ckpt-6.h5"));  // /ema included
  const H5File f = H5File::open_read(path("a/ckpt-6.h5"));
  ASSERT_TRUE(f.exists("ema"));
  const auto shared = f.read_f32("ema/src_embed.weight").data;
  EXPECT_TRUE(f.read_f32("ema/tgt_embed.weight").data == shared);
  EXPECT_TRUE(f.read_f32("ema/generator.weight").data == shared);
  EXPECT_FALSE(f.read_f32("model/src_embed.weight").data == shared);
  EXPECT_EQ(read_checkpoint(path("a/ckpt-6.h5")).ema_decay, 0.8);
}

TEST_F(TrainEma, EvaluationsScoreTheAveragedWeights) {
  const RunResult r = train(
      moving() + std::vector<std::string>{"--ema", "0.5", "--steps", "4", "--eval-every", "2",
                                          "--save-every", "2", "--keep", "5", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  int evals = 0;
  for (const auto& line : lines_of(read_text(dir_ / "run/metrics.jsonl"))) {
    const auto j = nlohmann::json::parse(line);
    if (j["event"] != "eval") continue;
    ++evals;
    const std::string ckpt = "run/ckpt-" + std::to_string(j["step"].get<int64_t>()) + ".h5";
    const std::vector<std::string> eval = {"eval", "--json",       "--threads",
                                           "1",    "--checkpoint", ckpt};
    const RunResult averaged = run(eval + std::vector<std::string>{"--use-ema"});
    const RunResult raw = run(eval);
    ASSERT_EQ(averaged.code, 0) << describe(averaged);
    ASSERT_EQ(raw.code, 0) << describe(raw);
    const auto ja = nlohmann::json::parse(averaged.out), jr = nlohmann::json::parse(raw.out);
    EXPECT_EQ(j["loss"], ja["loss"]) << line;
    EXPECT_NE(j["loss"], jr["loss"]) << line;
  }
  EXPECT_EQ(evals, 2);
}

TEST_F(TrainEma, DecayOutsideZeroToOneIsAUsageError) {
  for (const char* bad : {"0", "1", "-0.5", "1.5", "nan", "0.9x"}) {
    SCOPED_TRACE(bad);
    expect_one_error_line(train(tiny_model() + std::vector<std::string>{"--ema", bad, "--steps",
                                                                        "0", "--out", "run"}),
                          2, "--ema");
  }
  EXPECT_FALSE(fs::exists(dir_ / "run" / "ckpt-0.h5"));
}

TEST_F(TrainEma, ResumeKeepsTheRunsDecay) {
  ASSERT_EQ(train(tiny_model() +
                  std::vector<std::string>{"--ema", "0.9", "--steps", "0", "--out", "with"})
                .code,
            0);
  ASSERT_EQ(train(tiny_model() + std::vector<std::string>{"--steps", "0", "--out", "without"}).code,
            0);
  expect_one_error_line(train({"--resume", "with/ckpt-0.h5", "--steps", "1", "--ema", "0.8"}), 2,
                        "--ema");
  expect_one_error_line(train({"--resume", "without/ckpt-0.h5", "--steps", "1", "--ema", "0.9"}), 2,
                        "--ema");
  // The same value again, or none: the checkpoint's decay goes on.
  const RunResult r = train({"--resume", "with/ckpt-0.h5", "--steps", "1", "--ema", "0.9"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(read_checkpoint(path("with/ckpt-1.h5")).ema_decay, 0.9);
  EXPECT_EQ(read_checkpoint(path("without/ckpt-0.h5")).ema_decay, 0);
  EXPECT_FALSE(H5File::open_read(path("without/ckpt-0.h5")).exists("ema"));
}

}  // namespace
}  // namespace sg::testing
