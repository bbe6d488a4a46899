// Decoding does not cut long outputs short by default (issue 23). A tiny model learns an expanding
// task: each source word w of a..d becomes the 8 tokens w1 .. w8, so a target is 8 times as long as
// its source, and the 64 longest targets (24 tokens) are longer than the limit the default used
// to be (2 * (source + <eos>) + 10 = 18 for 3 words). With the default limit, which comes from
// the training data's lengths recorded in the checkpoint, eval and translate decode every
// training target in full, also from a checkpoint written before the lengths were recorded. A
// limit set too low is never silent: a warning on stderr for eval and translate,
// cut_at_max_len in --json, and the count in training's evaluation lines and metrics.jsonl.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/train/test_cli_run.h"
#include "train/checkpoint/checkpoint.h"
#include "train/decode/inference.h"

namespace sg {
namespace {

using testing::concat;
using testing::run_seqgrad;
using testing::ScratchDir;

constexpr int64_t kExpand = 8;
constexpr const char* kOldDefault = "18";  // the former default limit for a 3-word source

struct Pair {
  std::string src, tgt;
};

// Every sequence of 1 to 3 words over a..d (84 pairs), the longest last.
std::vector<Pair> expanding_pairs() {
  std::vector<Pair> pairs;
  std::vector<std::vector<char>> level = {{}};
  for (int len = 1; len <= 3; ++len) {
    std::vector<std::vector<char>> next;
    for (const auto& prefix : level)
      for (char w = 'a'; w <= 'd'; ++w) {
        next.push_back(prefix);
        next.back().push_back(w);
      }
    for (const auto& words : next) {
      std::ostringstream src, tgt;
      for (size_t i = 0; i < words.size(); ++i) {
        src << (i ? " " : "") << words[i];
        for (int k = 1; k <= kExpand; ++k) tgt << (i || k > 1 ? " " : "") << words[i] << k;
      }
      pairs.push_back({src.str(), tgt.str()});
    }
    level = next;
  }
  return pairs;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

class LongOutputs : public ::testing::Test {
 protected:
  // Trains once, with --decode-max-len set to the old default, so that the evaluations during
  // training cut the longest outputs.
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    std::string tsv;
    for (const auto& p : expanding_pairs()) tsv += p.src + "\t" + p.tgt + "\n";
    const std::string file = dir_->write("expand.tsv", tsv);
    *train_ = run_seqgrad(
        concat({"train",      "--task",       "tsv", "--train",          file,        "--valid",
                file,         "--batch",      "32",  "--steps",          "300",       "--lr",
                "0.003",      "--warmup",     "40",  "--eval-every",     "150",       "--log-every",
                "300",        "--save-every", "0",   "--decode-max-len", kOldDefault, "--out",
                *dir_ / "run"},
               testing::cli_tiny_model()),
        *dir_);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string checkpoint() { return *dir_ / "run/latest.h5"; }
  static std::vector<std::string> eval_args(const std::string& ckpt) {
    return {"eval",   "--checkpoint", ckpt, "--data", *dir_ / "expand.tsv",
            "--json", "--threads",    "1"};
  }

  static ScratchDir* dir_;
  static testing::RunResult* train_;
};

ScratchDir* LongOutputs::dir_ = nullptr;
testing::RunResult* LongOutputs::train_ = new testing::RunResult;

// (Each test trains the model again when ctest runs it alone: a few tests, each checking much.)
TEST_F(LongOutputs, TrainingRecordsTheLengthsAndCountsTheCutOutputs) {
  ASSERT_EQ(train_->code, 0) << train_->err;
  const CheckpointContents c = read_checkpoint(checkpoint());
  EXPECT_EQ(c.state.lengths, (LengthStats{3 * kExpand, kExpand, 1}));
  // Text lines: the count follows BLEU. At the end every 3-word source (64) is cut at 18 tokens.
  std::vector<std::string> evals;
  for (const auto& l : lines_of(train_->out))
    if (l.rfind("eval step", 0) == 0) evals.push_back(l);
  ASSERT_EQ(evals.size(), 2u) << train_->out;
  EXPECT_NE(evals.back().find("  cut_at_max_len 64  ("), std::string::npos) << evals.back();
  // metrics.jsonl: every evaluation carries the count.
  int64_t n = 0, last = -1;
  for (const auto& l : lines_of(testing::read_all(*dir_ / "run/metrics.jsonl"))) {
    const auto j = nlohmann::json::parse(l);
    if (j["event"] != "eval") continue;
    ASSERT_TRUE(j.contains("cut_at_max_len")) << l;
    last = j["cut_at_max_len"];
    ++n;
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(last, 64);
}

TEST_F(LongOutputs, EvalDecodesTheLongestTargetsInFullByDefaultAndWarnsWhenTheLimitIsTooLow) {
  ASSERT_EQ(train_->code, 0) << train_->err;
  const auto r = run_seqgrad(eval_args(checkpoint()), *dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n"], 84);
  EXPECT_EQ(j["exact_match"], 1.0);
  EXPECT_EQ(j["cut_at_max_len"], 0);
  // Beam search: the default limit cuts nothing either, so it scores as with a limit far above.
  std::vector<nlohmann::json> beam;
  for (const std::string limit : {"0", "400"}) {
    const auto b = run_seqgrad(
        concat(eval_args(checkpoint()), {"--beam", "2", "--decode-max-len", limit}), *dir_);
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_EQ(b.err, "");
    beam.push_back(nlohmann::json::parse(b.out));
    EXPECT_EQ(beam.back()["cut_at_max_len"], 0);
  }
  EXPECT_EQ(beam[0], beam[1]);

  // --decode-max-len at the old default: the 64 longest outputs are cut, and eval says so.
  const auto low =
      run_seqgrad(concat(eval_args(checkpoint()), {"--decode-max-len", kOldDefault}), *dir_);
  ASSERT_EQ(low.code, 0) << low.err;
  EXPECT_EQ(low.err, "seqgrad: warning: 64 outputs reached --decode-max-len 18 without <eos>\n");
  const auto cut = nlohmann::json::parse(low.out);
  EXPECT_EQ(cut["cut_at_max_len"], 64);
  EXPECT_DOUBLE_EQ(cut["exact_match"].get<double>(), 20.0 / 84);
  // Without --json the same warning follows the scores.
  const auto text = run_seqgrad({"eval", "--checkpoint", checkpoint(), "--data",
                                 *dir_ / "expand.tsv", "--threads", "1", "--decode-max-len", "5"},
                                *dir_);
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("n 84  loss", 0), 0u) << text.out;
  EXPECT_EQ(text.err, "seqgrad: warning: 84 outputs reached --decode-max-len 5 without <eos>\n");

  // The same model saved as a checkpoint of before issue 23 (no lengths under /data) falls back
  // to a limit that still decodes every training target in full.
  const LoadedModel m = load_for_inference(checkpoint());
  TrainState old = m.contents.state;
  old.lengths = {};
  const std::string path = *dir_ / "old.h5";
  save_checkpoint(path, *m.model, nullptr, m.contents.config, m.contents.src_vocab,
                  m.contents.tgt_vocab, old);
  const CheckpointContents c = read_checkpoint(path);
  EXPECT_FALSE(c.state.lengths.known());
  // The fallback of a TSV run: --max-len (256 by default) as the longest target, ratio 2.
  EXPECT_EQ(training_lengths(c), (LengthStats{256, 2, 1}));
  const auto old_eval = run_seqgrad(eval_args(path), *dir_);
  ASSERT_EQ(old_eval.code, 0) << old_eval.err;
  EXPECT_EQ(old_eval.err, "");
  const auto o = nlohmann::json::parse(old_eval.out);
  EXPECT_EQ(o["exact_match"], 1.0);
  EXPECT_EQ(o["cut_at_max_len"], 0);
}

TEST_F(LongOutputs, TranslateDecodesTheLongestTargetsInFullByDefaultAndWarnsWhenTheLimitIsTooLow) {
  ASSERT_EQ(train_->code, 0) << train_->err;
  // Short and long sources in one batch: each source gets its own limit.
  const auto pairs = expanding_pairs();
  std::string input, expected;
  for (size_t i = 0; i < pairs.size(); i += 5) {
    input += pairs[i].src + "\n";
    expected += pairs[i].tgt + "\n";
  }
  const auto r = run_seqgrad(
      {"translate", "--checkpoint", checkpoint(), "--threads", "1", "--batch", "7"}, *dir_, input);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, expected);
  // Beam search: the same outputs as with a limit far above the default.
  std::vector<std::string> beam;
  for (const std::string limit : {"0", "400"}) {
    const auto b = run_seqgrad({"translate", "--checkpoint", checkpoint(), "--threads", "1",
                                "--beam", "3", "--batch", "7", "--decode-max-len", limit},
                               *dir_, input);
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_EQ(b.err, "");
    beam.push_back(b.out);
  }
  EXPECT_EQ(beam[0], beam[1]);

  // Two long sources and a short one, over two batches: one warning with the total at the end.
  const auto low = run_seqgrad({"translate", "--checkpoint", checkpoint(), "--threads", "1",
                                "--batch", "2", "--decode-max-len", kOldDefault, "--json"},
                               *dir_, "a b c\nd\nd c b\n");
  ASSERT_EQ(low.code, 0) << low.err;
  EXPECT_EQ(low.err, "seqgrad: warning: 2 outputs reached --decode-max-len 18 without <eos>\n");
  const auto out = lines_of(low.out);
  ASSERT_EQ(out.size(), 3u) << low.out;
  const std::vector<bool> cut = {true, false, true};
  for (size_t i = 0; i < out.size(); ++i) {
    const auto j = nlohmann::json::parse(out[i]);
    EXPECT_EQ(j["cut_at_max_len"], cut[i]) << out[i];
  }
  // The cut outputs are the first 18 tokens of the targets; the short one is whole.
  EXPECT_EQ(nlohmann::json::parse(out[0])["translation"],
            "a1 a2 a3 a4 a5 a6 a7 a8 b1 b2 b3 b4 b5 b6 b7 b8 c1 c2");
  EXPECT_EQ(nlohmann::json::parse(out[1])["translation"], "d1 d2 d3 d4 d5 d6 d7 d8");
  // --input: the same warning for one line.
  const auto one = run_seqgrad({"translate", "--checkpoint", checkpoint(), "--threads", "1",
                                "--input", "a b c", "--decode-max-len", "4"},
                               *dir_);
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "a1 a2 a3 a4\n");
  EXPECT_EQ(one.err, "seqgrad: warning: 1 output reached --decode-max-len 4 without <eos>\n");
}

}  // namespace
}  // namespace sg
