// translate and eval's decoding options (docs/cli.md#decoding): --n-best lines and JSON lists,
// --sample reproducible with --seed, several --checkpoint as an ensemble, and the usage errors of
// values that make no sense together.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

class DecodingOptions : public ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    const RunResult r =
        train(tiny_model() + std::vector<std::string>{"--steps", "30", "--eval-every", "0", "--out",
                                                      "run", "--max-len", "5"});
    ASSERT_EQ(r.code, 0) << describe(r);
  }
  RunResult translate(const std::vector<std::string>& extra, const std::string& input = "1 2 3") {
    return run(std::vector<std::string>{"translate", "--checkpoint", "run/latest.h5", "--input",
                                        input, "--threads", "1"} +
               extra);
  }
};

TEST_F(DecodingOptions, NBestPrintsTheBestHypothesesWithTheirScores) {
  const RunResult r = translate({"--beam", "4", "--n-best", "3"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  double previous = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    // line<TAB>translation<TAB>score, best first
    const size_t a = lines[i].find('\t'), b = lines[i].rfind('\t');
    ASSERT_NE(a, b) << lines[i];
    EXPECT_EQ(lines[i].substr(0, a), "0");
    const double score = std::stod(lines[i].substr(b + 1));
    if (i) {
      EXPECT_LE(score, previous) << r.out;
    }
    previous = score;
  }
  // The first is the translation of --beam 4 alone.
  const RunResult one = translate({"--beam", "4"});
  EXPECT_EQ(lines[0].substr(2, lines[0].rfind('\t') - 2) + "\n", one.out);
  const RunResult j = translate({"--beam", "4", "--n-best", "2", "--json"});
  ASSERT_EQ(j.code, 0) << describe(j);
  const auto obj = nlohmann::json::parse(lines_of(j.out).at(0));
  ASSERT_EQ(obj["nbest"].size(), 2u);
  EXPECT_EQ(obj["nbest"][0]["translation"], obj["translation"]);
  EXPECT_GE(obj["nbest"][0]["score"].get<double>(), obj["nbest"][1]["score"].get<double>());
}

TEST_F(DecodingOptions, SamplingRepeatsWithTheSameSeed) {
  const std::vector<std::string> sample = {"--sample", "--temperature",    "3", "--top-p",
                                           "0.95",     "--decode-max-len", "6", "--seed"};
  const RunResult a = translate(sample + std::vector<std::string>{"1"}, "1 2 3 4");
  const RunResult b = translate(sample + std::vector<std::string>{"1"}, "1 2 3 4");
  ASSERT_EQ(a.code, 0) << describe(a);
  EXPECT_EQ(a.out, b.out);
  // Top-k 1 is greedy decoding.
  const RunResult greedy = translate({}, "4 5 6");
  const RunResult top1 = translate({"--sample", "--top-k", "1", "--seed", "9"}, "4 5 6");
  ASSERT_EQ(top1.code, 0) << describe(top1);
  EXPECT_EQ(top1.out, greedy.out);
}

TEST_F(DecodingOptions, AnEnsembleOfOneCheckpointTwiceMatchesItAlone) {
  const RunResult alone =
      run({"eval", "--checkpoint", "run/latest.h5", "--threads", "1", "--json"});
  const RunResult twice = run({"eval", "--checkpoint", "run/latest.h5", "--checkpoint",
                               "run/latest.h5", "--threads", "1", "--json"});
  ASSERT_EQ(alone.code, 0) << describe(alone);
  ASSERT_EQ(twice.code, 0) << describe(twice);
  const auto a = nlohmann::json::parse(alone.out), b = nlohmann::json::parse(twice.out);
  EXPECT_NEAR(a["loss"].get<double>(), b["loss"].get<double>(), 1e-5);
  EXPECT_EQ(a["exact_match"], b["exact_match"]);
  // A checkpoint with another vocabulary cannot join.
  ASSERT_EQ(train(tiny_model() +
                  std::vector<std::string>{"--symbols", "12", "--steps", "0", "--out", "other"})
                .code,
            0);
  expect_one_error_line(run({"translate", "--checkpoint", "run/latest.h5", "--checkpoint",
                             "other/latest.h5", "--input", "1"}),
                        1, "other/latest.h5");
}

TEST_F(DecodingOptions, ValuesThatMakeNoSenseAreUsageErrors) {
  expect_one_error_line(translate({"--n-best", "3"}), 2, "--n-best");
  expect_one_error_line(translate({"--sample", "--beam", "2"}), 2, "--sample");
  expect_one_error_line(translate({"--sample", "--top-p", "0"}), 2, "--top-p");
  expect_one_error_line(translate({"--sample", "--temperature", "0"}), 2, "--temperature");
  expect_one_error_line(translate({"--top-k", "-1"}), 2, "--top-k");
  expect_one_error_line(translate({"--length-penalty", "-1"}), 2, "--length-penalty");
  // Without --sample these were ignored: the output was the greedy one.
  expect_one_error_line(translate({"--top-k", "5"}), 2, "--top-k: only with --sample");
  expect_one_error_line(translate({"--top-p", "0.9"}), 2, "--top-p: only with --sample");
  expect_one_error_line(
      run({"eval", "--checkpoint", "run/latest.h5", "--temperature", "0.5", "--threads", "1"}), 2,
      "--temperature: only with --sample");
  expect_one_error_line(run({"eval", "--checkpoint", "run/latest.h5", "--n-best", "2"}), 2,
                        "n-best");
}

}  // namespace
}  // namespace sg::testing
