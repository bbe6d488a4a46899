// --use-ema (docs/cli.md#decoding): eval, translate and attention load a checkpoint's /ema
// instead of /model, for every --checkpoint of an ensemble; a checkpoint without /ema is a usage
// error naming the file; average averages /ema too; inspect shows the decay.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

class UseEma : public ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    // A small decay and a high learning rate: the average and the weights differ clearly.
    const std::vector<std::string> args =
        tiny_model() + std::vector<std::string>{"--lr",         "0.01", "--schedule",   "constant",
                                                "--eval-every", "0",    "--save-every", "2",
                                                "--keep",       "5"};
    RunResult r =
        train(args + std::vector<std::string>{"--ema", "0.5", "--steps", "4", "--out", "run"});
    ASSERT_EQ(r.code, 0) << describe(r);
    r = train(args + std::vector<std::string>{"--steps", "2", "--out", "plain"});
    ASSERT_EQ(r.code, 0) << describe(r);
  }
  RunResult eval(const std::vector<std::string>& extra) {
    return run(std::vector<std::string>{"eval", "--json", "--threads", "1"} + extra);
  }
};

// A copy of `from` whose /model holds its /ema: what --use-ema must evaluate.
void write_ema_as_model(const std::string& from, const std::string& to) {
  const CheckpointContents c = read_checkpoint(from);
  Seq2SeqTransformer model(model_config(c.config, static_cast<int64_t>(c.src_vocab.size()),
                                        static_cast<int64_t>(c.tgt_vocab.size())),
                           c.config.seed);
  load_model(from, model, "ema");
  save_checkpoint(to, model, nullptr, c.config, c.src_vocab, c.tgt_vocab, c.state, c.spm_model);
}

TEST_F(UseEma, EvalAndTranslateLoadTheAverage) {
  write_ema_as_model(path("run/ckpt-4.h5"), path("swapped.h5"));
  const RunResult averaged = eval({"--checkpoint", "run/ckpt-4.h5", "--use-ema"});
  const RunResult swapped = eval({"--checkpoint", "swapped.h5"});
  const RunResult raw = eval({"--checkpoint", "run/ckpt-4.h5"});
  ASSERT_EQ(averaged.code, 0) << describe(averaged);
  ASSERT_EQ(swapped.code, 0) << describe(swapped);
  EXPECT_EQ(averaged.out, swapped.out);
  EXPECT_NE(nlohmann::json::parse(averaged.out)["loss"], nlohmann::json::parse(raw.out)["loss"]);
  // An ensemble: --use-ema applies to every --checkpoint (two copies of one model decode as it).
  const RunResult pair =
      eval({"--checkpoint", "run/ckpt-4.h5", "--checkpoint", "run/ckpt-4.h5", "--use-ema"});
  ASSERT_EQ(pair.code, 0) << describe(pair);
  EXPECT_EQ(nlohmann::json::parse(pair.out)["exact_match"],
            nlohmann::json::parse(swapped.out)["exact_match"]);
  const std::vector<std::string> translate = {"translate", "--threads", "1",
                                              "--json",    "--input",   "1 2 3 4 5"};
  const RunResult t1 =
      run(translate + std::vector<std::string>{"--checkpoint", "run/ckpt-4.h5", "--use-ema"});
  const RunResult t2 = run(translate + std::vector<std::string>{"--checkpoint", "swapped.h5"});
  ASSERT_EQ(t1.code, 0) << describe(t1);
  EXPECT_EQ(t1.out, t2.out);
  const std::vector<std::string> attention = {"attention", "--threads", "1",
                                              "--json",    "--input",   "1 2 3"};
  const RunResult a1 =
      run(attention + std::vector<std::string>{"--checkpoint", "run/ckpt-4.h5", "--use-ema"});
  const RunResult a2 = run(attention + std::vector<std::string>{"--checkpoint", "swapped.h5"});
  ASSERT_EQ(a1.code, 0) << describe(a1);
  EXPECT_EQ(a1.out, a2.out);
  EXPECT_NE(a1.out, run(attention + std::vector<std::string>{"--checkpoint", "run/ckpt-4.h5"}).out);
}

TEST_F(UseEma, ACheckpointWithoutAnAverageIsAUsageError) {
  expect_one_error_line(eval({"--checkpoint", "plain/ckpt-2.h5", "--use-ema"}), 2,
                        "--use-ema: plain/ckpt-2.h5 has no moving average");
  // In an ensemble, the one that lacks it is named.
  expect_one_error_line(
      eval({"--checkpoint", "run/ckpt-4.h5", "--checkpoint", "plain/ckpt-2.h5", "--use-ema"}), 2,
      "plain/ckpt-2.h5");
  expect_one_error_line(
      run({"translate", "--checkpoint", "plain/ckpt-2.h5", "--use-ema", "--input", "1 2"}), 2,
      "--use-ema");
  expect_one_error_line(run({"attention", "--checkpoint", "plain/ckpt-2.h5", "--use-ema", "--input",
                             "1 2", "--json"}),
                        2, "--use-ema");
}

TEST_F(UseEma, InspectShowsTheDecay) {
  RunResult r = run({"inspect", "--json", "run/ckpt-4.h5"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out)["ema"], (nlohmann::json{{"decay", 0.5}}));
  EXPECT_EQ(nlohmann::json::parse(r.out)["config"]["ema"], 0.5);
  r = run({"inspect", "--json", "plain/ckpt-2.h5"});
  EXPECT_TRUE(nlohmann::json::parse(r.out)["ema"].is_null());
  r = run({"inspect", "run/ckpt-4.h5"});
  EXPECT_NE(r.out.find("ema: moving average of the weights in /ema, decay 0.5"), std::string::npos)
      << r.out;
  r = run({"inspect", "--verify", "run/ckpt-4.h5"});
  EXPECT_EQ(r.code, 0) << describe(r);
}

TEST_F(UseEma, AverageAveragesTheAveragesToo) {
  RunResult r = run({"average", "--json", "--out", "avg.h5", "run/ckpt-2.h5", "run/ckpt-4.h5"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out)["ema"], true);
  const H5File a = H5File::open_read(path("run/ckpt-2.h5")),
               b = H5File::open_read(path("run/ckpt-4.h5")), m = H5File::open_read(path("avg.h5"));
  EXPECT_EQ(m.attr_f64("ema", "decay"), 0.5);
  for (const auto& name : a.list("ema")) {
    const auto x = a.read_f32("ema/" + name), y = b.read_f32("ema/" + name),
               z = m.read_f32("ema/" + name);
    for (size_t i = 0; i < x.data.size(); ++i)
      ASSERT_EQ(z.data[i], static_cast<float>((static_cast<double>(x.data[i]) + y.data[i]) / 2))
          << name;
  }
  // Only some inputs have one: a warning, and /model alone is averaged.
  r = run({"average", "--json", "--out", "mixed.h5", "run/ckpt-4.h5", "plain/ckpt-2.h5"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out)["ema"], false);
  EXPECT_NE(r.err.find("seqgrad: warning: plain/ckpt-2.h5 has no /ema"), std::string::npos)
      << r.err;
  EXPECT_FALSE(H5File::open_read(path("mixed.h5")).exists("ema"));
}

}  // namespace
}  // namespace sg::testing
