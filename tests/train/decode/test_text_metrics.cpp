// BLEU and chrF on text against sacreBLEU 2.6.0 itself: tests/reference/sacrebleu_values.json,
// written by tests/reference/make_sacrebleu_values.py (sacreBLEU computes every figure there).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "train/decode/text_metrics.h"

namespace sg {
namespace {

nlohmann::json reference_values() {
  std::ifstream in(std::string(SEQGRAD_SOURCE_DIR) + "/tests/reference/sacrebleu_values.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

TEST(TextMetrics, Tokenize13aEqualsSacrebleu) {
  const auto j = reference_values();
  ASSERT_GE(j["tokenize_13a"].size(), 10u);
  for (const auto& pair : j["tokenize_13a"])
    EXPECT_EQ(tokenize_13a(pair[0].get<std::string>()), pair[1].get<std::string>())
        << "line: " << pair[0];
}

TEST(TextMetrics, CorpusBleuAndChrfEqualSacrebleu) {
  const auto j = reference_values();
  ASSERT_GE(j["corpora"].size(), 10u);
  for (const auto& c : j["corpora"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto hyps = c["hyps"].get<std::vector<std::string>>();
    const auto refs = c["refs"].get<std::vector<std::string>>();
    const BleuScore b = sacrebleu_bleu(hyps, refs);
    EXPECT_NEAR(b.score, c["bleu"]["score"].get<double>(), 1e-9);
    EXPECT_EQ(b.stats.correct, (c["bleu"]["counts"].get<std::array<int64_t, 4>>()));
    EXPECT_EQ(b.stats.total, (c["bleu"]["totals"].get<std::array<int64_t, 4>>()));
    EXPECT_EQ(b.stats.sys_len, c["bleu"]["sys_len"].get<int64_t>());
    EXPECT_EQ(b.stats.ref_len, c["bleu"]["ref_len"].get<int64_t>());
    EXPECT_NEAR(b.bp, c["bleu"]["bp"].get<double>(), 1e-12);
    EXPECT_NEAR(sacrebleu_chrf(hyps, refs).score, c["chrf"]["score"].get<double>(), 1e-9);
  }
}

TEST(TextMetrics, UnkInAHypothesisNeverMatchesTheReferenceWord) {
  // The reference holds the real word; the model's <unk> is text of its own.
  const std::vector<std::string> refs = {"open the settings file now"};
  const BleuScore with_word = sacrebleu_bleu({"open the settings file now"}, refs);
  const BleuScore with_unk = sacrebleu_bleu({"open the <unk> file now"}, refs);
  EXPECT_NEAR(with_word.score, 100.0, 1e-9);
  EXPECT_EQ(with_unk.stats.correct[0], 4);  // open, the, file, now: "<", "unk", ">" match nothing
  EXPECT_LT(with_unk.score, with_word.score);
  EXPECT_LT(sacrebleu_chrf({"open the <unk> file now"}, refs).score, 100.0);
}

TEST(TextMetrics, EmptyCorporaAndMismatchedCounts) {
  EXPECT_EQ(sacrebleu_bleu({}, {}).score, 0.0);
  EXPECT_EQ(sacrebleu_chrf({}, {}).score, 0.0);
  EXPECT_THROW(sacrebleu_bleu({"a"}, {}), std::invalid_argument);
  EXPECT_THROW(sacrebleu_chrf({"a", "b"}, {"a"}), std::invalid_argument);
  // Invalid UTF-8 is scored byte by byte instead of failing.
  EXPECT_NEAR(sacrebleu_chrf({"ab\xff"}, {"ab\xff"}).score, 100.0, 1e-9);
}

TEST(TextMetrics, ChrfIsFBetaOfAveragedPrecisionAndRecall) {
  // "ab" vs "ab": orders 1 and 2 match fully; higher orders have no n-grams and do not count.
  const ChrfScore same = sacrebleu_chrf({"a b"}, {"ab"});  // whitespace is removed
  EXPECT_NEAR(same.score, 100.0, 1e-12);
  EXPECT_EQ(same.stats.hyp[0], 2);
  EXPECT_EQ(same.stats.hyp[2], 0);
  // hyp "abc", ref "abd": P = R = (2/3 + 1/2) / 2 for orders 1, 2; order 3 matches nothing.
  const ChrfScore s = sacrebleu_chrf({"abc"}, {"abd"});
  const double p = (2.0 / 3 + 1.0 / 2 + 0.0) / 3;
  EXPECT_NEAR(s.score, 100 * 5 * p * p / (4 * p + p), 1e-9);
}

}  // namespace
}  // namespace sg
