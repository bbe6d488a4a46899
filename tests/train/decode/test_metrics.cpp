// Metrics: token accuracy, exact match, teacher-forced argmax accuracy, and corpus BLEU against
// values from sacreBLEU's own test suite, hand computations, and corpora scored by the Python
// port in tests/reference/make_bleu_values.py.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "train/decode/metrics.h"

namespace sg {
namespace {

TEST(Metrics, ExactMatchAndTokenAccuracy) {
  const TokenSeqs refs = {{4, 5, 6}, {7}, {8, 9}};
  const TokenSeqs hyps = {{4, 5, 6}, {7, 7}, {9}};
  EXPECT_DOUBLE_EQ(exact_match(hyps, refs), 1.0 / 3.0);
  // Positions of ref + <eos>: row 0: 4/4; row 1: "7" right, <eos> wrong (hyp goes on): 1/2;
  // row 2: "8" wrong, "9" wrong (hyp ended), <eos> wrong: 0/3.
  const TokenCounts c = token_counts(hyps, refs);
  EXPECT_EQ(c.correct, 5);
  EXPECT_EQ(c.total, 9);
  EXPECT_DOUBLE_EQ(token_accuracy(hyps, refs), 5.0 / 9.0);
  EXPECT_DOUBLE_EQ(token_accuracy(refs, refs), 1.0);
  EXPECT_EQ(exact_match({}, {}), 0.0);
  EXPECT_THROW(exact_match({{4}}, {}), std::invalid_argument);
}

TEST(Metrics, ArgmaxTokenCountsSkipsPadding) {
  // logits (B=1, T=3, V=4); targets 2, 3, pad.
  const Tensor logits = Tensor::from_vector({0, 0, 5, 1,   // argmax 2: right
                                             0, 9, 1, 1,   // argmax 1: wrong (target 3)
                                             9, 0, 0, 0},  // pad: not counted
                                            {1, 3, 4});
  const TokenCounts c = argmax_token_counts(logits, IntTensor({1, 3}, {2, 3, 0}));
  EXPECT_EQ(c.correct, 1);
  EXPECT_EQ(c.total, 2);
  EXPECT_THROW(argmax_token_counts(logits, IntTensor({1, 2}, {2, 3})), std::invalid_argument);
}

TEST(Bleu, PublishedSacrebleuValues) {
  // sacreBLEU test/test_bleu.py: corpus_bleu(_hyps, _refs, tokenize='none') == 49.1919566.
  const std::vector<std::string> hyps = {"The dog bit the man.", "It wasn't surprising.",
                                         "The man had just bitten him."};
  const std::vector<std::vector<std::string>> refs = {
      {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
      {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}};
  EXPECT_NEAR(corpus_bleu_text(hyps, refs).score, 49.1919566, 1e-7);
  // test_scoring: compute_bleu([9,7,5,3], [10,8,6,4], 11, 11) == 0.8375922397 (x100).
  const BleuScore s = bleu_from_stats({{9, 7, 5, 3}, {10, 8, 6, 4}, 11, 11});
  EXPECT_NEAR(s.score, 83.75922397, 1e-8);
  // test_statistics: the counts of one pair.
  const BleuScore t =
      corpus_bleu_text({"am I am a character sequence"}, {{"I am a symbol string sequence a a"}});
  EXPECT_EQ(t.stats.correct, (std::array<int64_t, 4>{4, 2, 1, 0}));
  EXPECT_EQ(t.stats.total, (std::array<int64_t, 4>{6, 5, 4, 3}));
  EXPECT_EQ(t.stats.sys_len, 6);
  EXPECT_EQ(t.stats.ref_len, 8);
}

TEST(Bleu, HandComputedExpSmoothingAndBrevityPenalty) {
  // "the cat sat on the mat" vs "the cat is on the mat": precisions 5/6, 3/5, 1/4 and a zero
  // 4-gram precision smoothed to 1/(2*3); lengths equal, so no brevity penalty.
  const BleuScore a = corpus_bleu_text({"the cat sat on the mat"}, {{"the cat is on the mat"}});
  const double want =
      std::exp((std::log(500.0 / 6) + std::log(60.0) + std::log(25.0) + std::log(100.0 / 6)) / 4);
  EXPECT_NEAR(a.score, want, 1e-10);
  EXPECT_NEAR(a.score, 37.99178428257963, 1e-10);
  EXPECT_EQ(a.bp, 1.0);
  EXPECT_NEAR(a.precisions[3], 100.0 / 6, 1e-12);
  // A 4-token prefix of a 6-token reference: every n-gram matches (precisions 100), and
  // c = 4 < r = 6 gives BP = exp(1 - 6/4).
  const BleuScore b = corpus_bleu({{4, 5, 6, 7}}, {{4, 5, 6, 7, 8, 9}});
  EXPECT_NEAR(b.bp, std::exp(1.0 - 6.0 / 4.0), 1e-15);
  EXPECT_NEAR(b.score, 100.0 * std::exp(1.0 - 6.0 / 4.0), 1e-10);
  // Identical corpus: 100.
  EXPECT_NEAR(corpus_bleu({{4, 5, 6, 7, 8}, {9, 9, 9, 9}}, {{4, 5, 6, 7, 8}, {9, 9, 9, 9}}).score,
              100.0, 1e-12);
}

TEST(Bleu, DegenerateCorpora) {
  EXPECT_EQ(corpus_bleu({{4, 5, 6, 7}}, {{8, 9, 10, 11}}).score, 0.0);  // no match at all
  EXPECT_EQ(corpus_bleu({{}}, {{4, 5, 6, 7}}).score, 0.0);              // empty hypothesis
  EXPECT_EQ(corpus_bleu({{}}, {{4, 5, 6, 7}}).bp, 0.0);
  // Sentences shorter than 4 tokens have no 4-grams: without effective order the score is 0.
  EXPECT_EQ(corpus_bleu({{4, 5}}, {{4, 5}}).score, 0.0);
  // Clipping: "the the the the" against "the cat" counts "the" once.
  const BleuScore c = corpus_bleu({{4, 4, 4, 4}}, {{4, 5}});
  EXPECT_EQ(c.stats.correct[0], 1);
  EXPECT_EQ(c.stats.total[0], 4);
  // Closest reference length, the shorter on ties: hyp of 5 tokens, refs of 4 and 6 -> 4.
  EXPECT_EQ(
      corpus_bleu_multi({{4, 5, 6, 7, 8}}, {{{4, 5, 6, 7}}, {{4, 5, 6, 7, 8, 9}}}).stats.ref_len,
      4);
  EXPECT_THROW(corpus_bleu({{4}}, {{4}, {5}}), std::invalid_argument);
  EXPECT_THROW(corpus_bleu({{4}}, {{}}), std::invalid_argument);
}

struct PortedCase {
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;
  double score;
};

TEST(Bleu, MatchesThePythonPortOnRandomCorpora) {
  // Output of tests/reference/make_bleu_values.py.
  const PortedCase cases[] = {
      // case 0: 8 segments, 1 reference(s)
      {{"w0", "w0 w0 w3 w5", "w1", "w0 w0 w4 w3 w2 w2 w2", "w2 w2 w4", "w5 w2 w5 w5 w1 w3 w0",
        "w5 w1 w5", "w2 w4 w2 w5 w2 w3"},
       {{"w0", "w0 w0 w0 w3 w5", "w1", "w0 w0 w2 w2 w4 w1 w2 w2 w2", "w2 w2 w4 w4",
         "w5 w0 w5 w5 w1 w0", "w5 w1 w5 w5", "w2 w4 w2 w5 w2 w3"}},
       51.81865957309021},
      // case 1: 20 segments, 1 reference(s)
      {{"w9",
        "w13 w1 w5 w28 w0 w19 w0 w18 w28 w12 w14 w23 w18 w26 w1 w25 w13",
        "w7 w17 w10",
        "w26 w9 w23 w23 w19 w13 w0 w11 w2 w29 w23",
        "w2 w21 w2 w25 w29 w1 w1 w17 w11 w1 w5 w7 w10 w10 w15 w3 w18 w6 w22 w7 w2 w18",
        "w9 w6 w23 w15 w0 w3 w22 w26 w15 w12 w15 w17 w22",
        "w28 w19 w29 w6 w27 w3 w16 w8 w24 w20 w3 w15",
        "w7 w18 w28 w27 w10 w25 w26 w16 w6 w27 w24 w2 w27 w10 w8 w11 w9",
        "w15 w22 w4 w11 w28 w17 w25 w29 w19 w4 w2 w3 w14 w23 w22",
        "w26 w3 w10 w13 w17 w19 w0 w29 w29 w22 w11 w26 w20 w19",
        "w8 w25",
        "w18 w27 w8 w23 w14 w0 w15 w11 w20 w13",
        "w22 w11 w1 w6 w6 w27 w26 w19 w1 w15 w29 w7 w24 w0",
        "w26 w11 w4 w5 w2 w9 w28 w28 w15 w26 w10 w12 w1 w17 w5 w9 w3 w26 w15 w5 w3",
        "w21 w22 w21 w12 w16 w10 w28 w28",
        "w2 w11 w2 w27 w5 w16 w23",
        "w17 w10 w29 w22 w15 w29 w3 w24 w9 w28 w12 w9 w29 w14 w20 w28 w9",
        "w5 w22 w19 w27 w20",
        "w1 w18 w10 w11 w28 w9 w13 w15 w2 w0 w17 w3 w26 w17",
        "w14 w3 w26 w2 w22 w13"},
       {{"w9",
         "w1 w5 w28 w0 w19 w9 w11 w18 w28 w12 w14 w23 w18 w4 w26 w1 w8 w8 w7 w25 w0 w13",
         "w7 w17 w8",
         "w26 w9 w23 w23 w19 w0 w26 w18 w6 w2 w29 w6",
         "w2 w21 w2 w25 w29 w1 w1 w20 w17 w12 w1 w5 w16 w7 w10 w10 w9 w25 w18 w26 w6 w27 w2 w3",
         "w9 w6 w17 w23 w15 w0 w3 w22 w21 w15 w24 w15 w17 w22",
         "w28 w19 w29 w6 w27 w3 w18 w8 w24 w12 w3 w15",
         "w7 w14 w20 w28 w27 w10 w0 w25 w26 w16 w13 w6 w27 w24 w26 w2 w27 w10 w2 w11 w27 w22",
         "w0 w15 w28 w4 w11 w28 w20 w25 w29 w19 w4 w2 w3 w19 w23 w9",
         "w26 w6 w3 w10 w14 w17 w14 w19 w0 w29 w29 w11 w11 w20 w19",
         "w8 w22",
         "w18 w25 w0 w8 w23 w14 w0 w15 w12 w20 w13 w6",
         "w29 w22 w26 w11 w1 w15 w19 w6 w12 w18 w19 w18 w23 w15 w16 w7 w24 w1 w0",
         "w3 w11 w4 w5 w6 w9 w28 w12 w15 w26 w22 w12 w1 w17 w5 w9 w3 w26 w15 w24 w29 w5 w3 w8",
         "w21 w21 w12 w1 w10 w28 w28",
         "w2 w2 w21 w13 w10 w23",
         "w17 w10 w29 w22 w15 w29 w3 w24 w9 w22 w20 w28 w12 w23 w15 w14 w1 w20 w28 w19",
         "w5 w22 w19 w27 w20 w21",
         "w14 w1 w18 w10 w11 w10 w28 w17 w9 w13 w15 w7 w0 w17 w3 w26 w17",
         "w5 w3 w3 w2 w22 w29"}},
       36.1098887260299},
      // case 2: 12 segments, 2 reference(s)
      {{"w5 w4 w7 w1 w1 w1 w7 w3 w3 w4 w0 w4 w3 w4", "w2 w6 w6 w5 w3 w1 w3 w6 w7 w4 w2 w6 w4 w6",
        "w1 w0 w3 w3 w0 w1 w6 w1 w0 w7 w2 w6 w3 w3", "w3", "w7 w7 w5 w6 w4 w6",
        "w5 w2 w2 w3 w5 w3 w6 w1 w5 w5 w3", "w4 w2 w1 w7 w5 w7 w5 w2",
        "w3 w5 w7 w4 w6 w6 w5 w2 w2 w0", "w0 w7 w0 w7", "w0 w4", "w7 w6 w4 w6",
        "w4 w0 w7 w2 w0 w1 w3 w7 w7 w7 w5"},
       {{"w5 w5 w4 w7 w7 w1 w1 w7 w3 w1 w4 w0 w4 w3 w1",
         "w2 w6 w6 w5 w3 w1 w3 w2 w7 w4 w2 w6 w4 w1 w6",
         "w3 w1 w0 w3 w3 w0 w1 w6 w1 w0 w7 w2 w6 w3 w3", "w3 w2", "w7 w7 w7 w7 w4 w6",
         "w5 w2 w2 w3 w3 w5 w3 w1 w1 w4 w7 w3 w3", "w4 w2 w1 w0 w5 w7 w4 w6 w5 w2",
         "w6 w3 w5 w7 w0 w3 w4 w6 w6 w5 w2 w2 w0", "w0 w7 w3 w0 w7", "w0", "w7 w7 w3 w6 w4 w0 w6",
         "w4 w2 w0 w7 w2 w0 w1 w3 w7 w7 w7 w5"},
        {"w0 w3 w6 w5", "w0 w0", "w4 w7 w3 w1", "w3 w7 w0 w2 w5 w5 w4 w3 w1 w5 w0 w0 w1 w1",
         "w5 w4 w0 w3 w1 w2 w6 w2 w5 w1 w1", "w7 w3 w4 w6 w6 w6 w4",
         "w2 w6 w0 w6 w3 w7 w1 w3 w1 w3 w1", "w4 w6 w3 w5 w7 w0 w6 w3 w5 w4 w4 w0 w7 w5 w0",
         "w4 w5 w1 w5 w1 w3 w7 w1 w6 w4 w6 w0 w4", "w5 w2 w4 w1 w0", "w7 w2 w2",
         "w6 w0 w7 w2 w5 w2"}},
       58.526526596867356},
      // case 3: 30 segments, 3 reference(s)
      {{"w1 w0",
        "w1",
        "w2 w0",
        "w1 w1 w1 w0 w3",
        "w4 w0 w1 w0 w3",
        "w0 w2 w2",
        "w0 w3 w2",
        "w3 w3 w4 w2 w1",
        "w2 w3",
        "w1",
        "w0 w1 w1 w0 w1",
        "w0 w3 w0 w0 w2",
        "w0 w4 w4 w4",
        "w1 w0 w0 w1 w2",
        "w0 w1 w1 w2",
        "w2",
        "w0 w2 w4",
        "w0",
        "w1",
        "w0 w0 w4 w3",
        "w3 w3 w4 w2 w3 w2",
        "w4 w1 w3 w3",
        "w0 w1 w4",
        "w2 w2 w4 w4 w3",
        "w3",
        "w1 w3 w2 w3 w0",
        "w4 w4 w2 w0 w4",
        "w2 w1",
        "w0",
        "w4 w1 w4 w3 w3"},
       {{"w2 w2",
         "w1",
         "w1 w0",
         "w1 w1 w1 w0 w3 w0",
         "w4 w0 w1 w3",
         "w0 w2 w2 w2 w2",
         "w0 w3",
         "w3 w1 w4 w2 w1 w3",
         "w2",
         "w1 w0",
         "w0 w1 w1 w0 w1",
         "w1 w3 w0 w3 w3",
         "w0 w4 w0 w3 w0",
         "w2 w0 w0 w0 w2",
         "w0 w1 w1 w2",
         "w2 w1",
         "w3 w2 w4",
         "w3 w3",
         "w1",
         "w0 w0 w3",
         "w2 w4 w2 w3 w3 w2",
         "w0 w1 w3 w3",
         "w0 w1 w4",
         "w2 w2 w4 w1 w3",
         "w3",
         "w1 w3 w2 w3 w0",
         "w4 w4 w2 w0",
         "w2 w1",
         "w3",
         "w4 w2 w1 w4 w1 w3"},
        {"w3 w2 w1 w4 w1",
         "w0 w0 w3",
         "w0 w3",
         "w2 w0 w4",
         "w4 w1 w0 w3 w0",
         "w3 w3 w4 w1 w0",
         "w2 w3 w1 w2 w3",
         "w1 w2",
         "w3 w2 w0 w3 w0 w4",
         "w1 w3",
         "w0 w2 w0 w2 w0",
         "w0",
         "w3 w3 w0 w1 w3 w2",
         "w4 w0 w2 w2",
         "w4 w1 w3 w3 w1",
         "w0 w1 w3 w3 w1",
         "w3",
         "w3 w1",
         "w0 w2 w3 w2",
         "w2 w2",
         "w4 w2 w1 w0 w3",
         "w3 w4 w2 w3 w4",
         "w4 w1 w4 w0 w2",
         "w2",
         "w1 w4 w0 w3 w4",
         "w2 w1 w2 w4 w2",
         "w1 w0 w0 w3",
         "w1 w4 w4 w2 w3",
         "w2 w4 w3 w1 w3 w2",
         "w3 w3 w2 w0"},
        {"w0 w4 w4",
         "w3",
         "w4 w0 w2 w4",
         "w4",
         "w4 w4 w2 w4 w4 w2",
         "w4 w0 w1",
         "w3",
         "w3 w0 w1",
         "w2",
         "w1 w2",
         "w2 w3 w0",
         "w2",
         "w4 w2 w2 w2 w1",
         "w2 w3 w1 w1",
         "w2 w0 w0",
         "w0 w4 w0 w4 w1 w1",
         "w0 w2",
         "w2 w2 w3 w2 w2",
         "w1 w3",
         "w2",
         "w2 w3 w0 w1 w1",
         "w4 w4 w2 w3 w2 w0",
         "w2",
         "w2 w4 w1",
         "w3 w2",
         "w1 w4 w2",
         "w2",
         "w0 w0 w4 w2",
         "w1 w4 w3 w4 w2 w1",
         "w4 w1 w4 w4"}},
       54.01292476905516},
  };
  for (const auto& c : cases) EXPECT_NEAR(corpus_bleu_text(c.hyps, c.refs).score, c.score, 1e-9);
}

}  // namespace
}  // namespace sg
