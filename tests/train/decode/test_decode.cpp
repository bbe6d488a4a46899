// Greedy and beam-search decoding on a tiny copy model trained here for a few hundred steps (not
// to perfection, so that decoding choices matter): beam 1 is greedy, beam 4 with length
// normalization is at least as good as greedy, the length limit holds and every output it cuts
// is counted, the default limit comes from the training data's lengths the checkpoint records,
// and padding in a batch changes no row's output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"
#include "datasets/batch.h"
#include "datasets/task_stream.h"
#include "tests/train/test_cli_run.h"
#include "train/cli/cli.h"
#include "train/decode/decode.h"
#include "train/decode/evaluate.h"
#include "train/decode/inference.h"
#include "train/decode/metrics.h"
#include "train/loop/trainer.h"

namespace sg {
namespace {

class Decode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::ScratchDir;
    const int threads_before = num_threads();
    Config c;
    c.task = "copy";
    c.max_len = 8;
    c.d_model = 32;
    c.heads = 2;
    c.ff = 64;
    c.enc_layers = c.dec_layers = 1;
    c.batch = 32;
    c.steps = 400;
    c.lr = 3e-3;
    c.warmup = 50;
    c.valid_size = 200;
    c.eval_every = 0;
    c.save_every = 0;
    c.log_every = 1000;
    c.threads = 1;
    c.json = true;
    c.out = *dir_ / "copy";
    Trainer(c, {}).run();
    use_threads(threads_before);
    model_ = new LoadedModel(load_for_inference(*dir_ / "copy/latest.h5"));
    held_out_ = new std::vector<Example>(
        TaskStream(make_task("copy", {10, 1, 8}), c.valid_size, c.seed).held_out());
  }
  static void TearDownTestSuite() {
    delete held_out_;
    delete model_;
    delete dir_;
  }

  static IntTensor sources() { return make_batch(*held_out_).src; }
  static TokenSeqs references() {
    TokenSeqs r;
    for (const auto& e : *held_out_) r.push_back(e.tgt);
    return r;
  }

  static testing::ScratchDir* dir_;
  static LoadedModel* model_;
  static std::vector<Example>* held_out_;
};

DecodeOptions at_most(int64_t max_len, int64_t beam = 1) {
  DecodeOptions o;
  o.beam = beam;
  o.max_len = max_len;
  return o;
}

testing::ScratchDir* Decode::dir_ = nullptr;
LoadedModel* Decode::model_ = nullptr;
std::vector<Example>* Decode::held_out_ = nullptr;

TEST_F(Decode, BeamOneEqualsGreedy) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  for (int64_t max_len : {2, 20}) {
    DecodeOptions o;
    o.beam = 1;
    o.max_len = max_len;
    EXPECT_EQ(beam_decode(model, src, o), greedy_decode(model, src, at_most(max_len))) << max_len;
  }
}

TEST_F(Decode, BeamSearchIsAtLeastAsGoodAsGreedy) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  const TokenSeqs refs = references();
  const double greedy = exact_match(greedy_decode(model, src, at_most(20)), refs);
  DecodeOptions o;
  o.beam = 4;
  o.max_len = 20;
  const TokenSeqs beam = beam_decode(model, src, o);
  const double beam_em = exact_match(beam, refs);
  // The model learned something but not everything: the comparison means something.
  EXPECT_GT(greedy, 0.5);
  EXPECT_GE(beam_em, greedy);
  // Outputs are real tokens (no <bos>/<eos>/<pad>) of sensible length.
  for (size_t i = 0; i < beam.size(); ++i) {
    EXPECT_LE(beam[i].size(), refs[i].size() + 3);
    for (int64_t id : beam[i]) EXPECT_GE(id, 3);
  }
  // evaluate() with --beam 4 reports the same exact match.
  EvalOptions eo;
  eo.decode = o;
  EXPECT_DOUBLE_EQ(evaluate(*model_->model, *held_out_, eo).exact_match, beam_em);
}

TEST_F(Decode, MaxLengthIsHonoredAndEveryCutIsCounted) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  DecodeCuts none;
  const TokenSeqs full = greedy_decode(model, src, at_most(20), &none);
  EXPECT_EQ(none.count, 0);
  ASSERT_EQ(none.cut.size(), full.size());
  for (int64_t max_len : {1, 3}) {
    for (int64_t beam : {1, 3}) {
      DecodeCuts cuts;
      const TokenSeqs out = decode(model, src, at_most(max_len, beam), &cuts);
      ASSERT_EQ(out.size(), full.size());
      ASSERT_EQ(cuts.cut.size(), full.size());
      int64_t cut = 0;
      for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_LE(static_cast<int64_t>(out[i].size()), max_len) << "beam " << beam;
        // Only an output as long as the limit can have been cut.
        if (cuts.cut[i]) {
          EXPECT_EQ(static_cast<int64_t>(out[i].size()), max_len);
        }
        cut += cuts.cut[i];
        // Greedy output cut at the limit is the unlimited output's prefix, and it is cut exactly
        // when the unlimited output is longer.
        if (beam == 1) {
          const size_t n = std::min<size_t>(full[i].size(), max_len);
          EXPECT_EQ(out[i], TokenSeqs::value_type(full[i].begin(), full[i].begin() + n));
          EXPECT_EQ(cuts.cut[i], static_cast<int64_t>(full[i].size()) > max_len) << i;
        }
      }
      EXPECT_EQ(cuts.count, cut);
      EXPECT_GT(cuts.count, 0) << "beam " << beam;  // copies of up to 8 symbols
      EXPECT_EQ(cuts.min_limit, max_len);
      EXPECT_EQ(cuts.max_limit, max_len);
    }
  }
  // A limit beyond the model's positional table is capped, not an error.
  DecodeOptions huge;
  huge.beam = 2;
  huge.max_len = 1 << 20;
  EXPECT_NO_THROW(decode(model, make_batch({(*held_out_)[0]}).src, huge));
}

TEST_F(Decode, DefaultLimitComesFromTheTrainingLengthsInTheCheckpoint) {
  // Copies of 1..8 symbols: longest target 8, targets as long as their sources.
  EXPECT_EQ(model_->contents.state.lengths, (LengthStats{8, 1, 1}));
  EXPECT_EQ(model_->train_lengths, (LengthStats{8, 1, 1}));
  const auto& model = *model_->model;
  const IntTensor src = sources();
  DecodeOptions d;
  d.lengths = model_->train_lengths;
  for (int64_t beam : {1, 3}) {
    d.beam = beam;
    DecodeCuts cuts;
    EXPECT_EQ(decode(model, src, d, &cuts), decode(model, src, at_most(20, beam))) << beam;
    EXPECT_EQ(cuts.count, 0);
  }
}

TEST(DecodeLimit, AnExplicitLimitWinsUpToThePositionalTable) {
  DecodeOptions o;
  o.max_len = 7;
  o.lengths = {100, 50, 1};
  EXPECT_EQ(decode_limit(o, 3, 512), 7);
  EXPECT_EQ(decode_limit(o, 3, 6), 5);  // <bos> + 5 tokens fill a table of 6
  o.max_len = int64_t{1} << 62;
  EXPECT_EQ(decode_limit(o, 3, 512), 511);
}

TEST(DecodeLimit, TheDefaultCoversTheLongestTargetAndTheLargestRatio) {
  DecodeOptions o;
  o.lengths = {48, 6, 1};
  // Short sources: the longest training target decides: 1.5 * 48 + 10.
  for (int64_t s : {0, 1, 8}) EXPECT_EQ(decode_limit(o, s, 512), 82) << s;
  // Long sources: the ratio decides: 1.5 * 6 * 20 + 10.
  EXPECT_EQ(decode_limit(o, 20, 512), 190);
  EXPECT_EQ(decode_limit(o, 20, 100), 99);
  for (int64_t s = 0; s < 60; ++s) {
    const int64_t limit = decode_limit(o, s, 10000);
    EXPECT_GE(limit, 48 + 10);
    EXPECT_GE(limit, 6 * s + 10);
  }
  // A ratio times the source length it came from is that target's length exactly (20 / 3 * 3 is
  // 20, not 21): 1.5 * 20 + 10; one more source token needs ceil(80 / 3) = 27: 1.5 * 27 + 10.
  o.lengths = {2, 20, 3};
  EXPECT_EQ(decode_limit(o, 3, 512), 40);
  EXPECT_EQ(decode_limit(o, 4, 512), 51);
  // Huge lengths (a hostile checkpoint) do not overflow.
  const int64_t huge = std::numeric_limits<int64_t>::max();
  o.lengths = {huge, huge, 1};
  EXPECT_EQ(decode_limit(o, 3, 512), 511);
  // Unknown lengths: the rule before checkpoints recorded them, 2 * (source + <eos>) + 10.
  EXPECT_EQ(decode_limit(DecodeOptions{}, 5, 512), 22);
}

TEST(DecodeLimit, CheckpointsWithoutTheLengthsFallBack) {
  CheckpointContents c;
  c.state.lengths = {30, 7, 2};
  EXPECT_EQ(training_lengths(c), (LengthStats{30, 7, 2}));  // recorded: used as they are
  c.state.lengths = {};
  c.config.task = "copy";
  c.config.max_len = 8;
  EXPECT_EQ(training_lengths(c), (LengthStats{8, 1, 1}));  // a synthetic task's own bounds
  c.config.task = "dates";
  EXPECT_EQ(training_lengths(c), (LengthStats{10, 5, 4}));
  c.config.task = "tsv";
  c.config.max_len = 256;
  EXPECT_EQ(training_lengths(c), (LengthStats{256, 2, 1}));  // --max-len bounds every target
  c.config.task = "no such task";
  EXPECT_FALSE(training_lengths(c).known());  // decode_limit's old rule
}

TEST(DecodeLimit, CutWarningsSayWhichLimitWasReached) {
  DecodeCuts cuts;
  DecodeOptions o;
  o.max_len = 18;
  EXPECT_EQ(cut_warning(cuts, o), "");
  cuts.add(false, 18);
  EXPECT_EQ(cut_warning(cuts, o), "");
  cuts.add(true, 18);
  EXPECT_EQ(cut_warning(cuts, o), "1 output reached --decode-max-len 18 without <eos>");
  cuts.add(true, 18);
  EXPECT_EQ(cut_warning(cuts, o), "2 outputs reached --decode-max-len 18 without <eos>");
  EXPECT_EQ(cuts.cut, (std::vector<bool>{false, true, true}));
  o.max_len = 1000;
  EXPECT_EQ(cut_warning(cuts, o),
            "2 outputs reached the model's limit of 18 tokens (its positional table; "
            "--decode-max-len 1000 is capped to it) without <eos>");
  o.max_len = 0;
  cuts.add(true, 25);
  EXPECT_EQ(cut_warning(cuts, o),
            "3 outputs reached --decode-max-len 18 to 25 (the default for their sources, from "
            "the training data's lengths) without <eos>");
}

TEST_F(Decode, PaddingInABatchChangesNoOutput) {
  const auto& model = *model_->model;
  const TokenSeqs together = greedy_decode(model, sources(), at_most(20));
  for (size_t i = 0; i < 20; ++i) {
    const TokenSeqs alone = greedy_decode(model, make_batch({(*held_out_)[i]}).src, at_most(20));
    EXPECT_EQ(alone[0], together[i]) << i;
  }
}

}  // namespace
}  // namespace sg

namespace sg {
namespace {

// log p(ids + <eos>) under teacher forcing, the score beam search gives before normalizing.
double sequence_log_prob(const Seq2SeqTransformer& model, const IntTensor& src_row,
                         const std::vector<int64_t>& ids) {
  std::vector<int64_t> in = {kBos};
  in.insert(in.end(), ids.begin(), ids.end());
  std::vector<int64_t> next = ids;
  next.push_back(kEos);
  const int64_t T = static_cast<int64_t>(in.size()), V = model.config().tgt_vocab;
  const Tensor lp =
      log_softmax(model.forward(src_row, IntTensor({1, T}, in)).to(DType::f64), -1);  // (1, T, V)
  double sum = 0;
  for (int64_t t = 0; t < T; ++t) sum += lp.data<double>()[t * V + next[t]];
  return sum;
}

TEST_F(Decode, NBestListsAreOrderedAndScoredAsLogProbOverLengthPowAlpha) {
  const auto& model = *model_->model;
  const IntTensor src =
      make_batch(std::vector<Example>(held_out_->begin(), held_out_->begin() + 12)).src;
  DecodeOptions o = at_most(20, 4);
  o.n_best = 3;
  o.len_alpha = 0.6;
  const auto all = beam_search(Models{&model}, src, o);
  ASSERT_EQ(all.size(), 12u);
  o.n_best = 1;
  const TokenSeqs best = decode(model, src, o);
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].size(), 3u) << i;
    EXPECT_EQ(all[i][0].ids, best[i]) << i;
    const IntTensor row = make_batch({(*held_out_)[i]}).src;
    for (size_t j = 0; j < all[i].size(); ++j) {
      if (j) {
        EXPECT_GE(all[i][j - 1].score, all[i][j].score) << i;
      }
      const double len = static_cast<double>(all[i][j].ids.size() + 1);
      EXPECT_NEAR(all[i][j].score,
                  sequence_log_prob(model, row, all[i][j].ids) / std::pow(len, 0.6), 1e-4)
          << i << " " << j;
    }
  }
}

TEST_F(Decode, BatchedBeamSearchEqualsOneSourceAtATime) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  const TokenSeqs together = decode(model, src, at_most(20, 3));
  for (size_t i = 0; i < 15; ++i)
    EXPECT_EQ(decode(model, make_batch({(*held_out_)[i]}).src, at_most(20, 3))[0], together[i])
        << i;
}

TEST_F(Decode, SamplingIsReproducibleAndTopKOneIsGreedy) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  DecodeOptions o = at_most(20);
  o.sample = true;
  o.seed = 7;
  o.temperature = 1.5;
  const TokenSeqs a = decode(model, src, o), b = decode(model, src, o);
  EXPECT_EQ(a, b);
  o.seed = 8;
  EXPECT_NE(decode(model, src, o), a);  // 200 sources at temperature 1.5: some draws differ
  // Each row's draws depend on the seed and its index only, not on the rows beside it.
  o.seed = 7;
  for (int64_t i : {0, 5, 17}) {
    DecodeOptions one = o;
    one.first_row = i;
    EXPECT_EQ(decode(model, make_batch({(*held_out_)[i]}).src, one)[0], a[i]) << i;
  }
  // Only the most likely token left: greedy, whatever the temperature or the seed.
  const TokenSeqs greedy = greedy_decode(model, src, at_most(20));
  o.top_k = 1;
  EXPECT_EQ(decode(model, src, o), greedy);
  o.top_k = 0;
  o.top_p = 1e-9;
  EXPECT_EQ(decode(model, src, o), greedy);
}

TEST_F(Decode, AnEnsembleOfOneIsTheModelAlone) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  for (int64_t beam : {1, 3}) {
    DecodeCuts alone, one;
    EXPECT_EQ(decode(Models{&model}, src, at_most(4, beam), &one),
              decode(model, src, at_most(4, beam), &alone));
    EXPECT_EQ(one.cut, alone.cut);
  }
  EvalOptions eo;
  const std::vector<Example> some(held_out_->begin(), held_out_->begin() + 40);
  const EvalResult a = evaluate(*model_->model, some, eo);
  const EvalResult e = evaluate(Models{&model}, some, eo);
  EXPECT_EQ(e.loss, a.loss);
  EXPECT_EQ(e.token_acc, a.token_acc);
  EXPECT_EQ(e.exact_match, a.exact_match);
  // Two copies of one model: the mean of equal probabilities is each of them.
  const EvalResult twice = evaluate(Models{&model, &model}, some, eo);
  EXPECT_NEAR(twice.loss, a.loss, 1e-5);
  EXPECT_EQ(twice.exact_match, a.exact_match);
  const IntTensor few = make_batch(some).src;
  EXPECT_EQ(decode(Models{&model, &model}, few, at_most(20, 3)),
            decode(model, few, at_most(20, 3)));
}

// Beam search's scores: its log-sum-exp of a row within float64 rounding of the plain sum of
// std::exp in order (its exp, autograd/fast_exp.h, has its own test).
TEST(BeamScores, LogSumExpMatchesTheLibraryWithinRounding) {
  Generator g(3);
  for (int64_t V : {1, 7, 8, 503, 8000}) {
    const std::vector<double> x = (Tensor::randn({V}, g, DType::f64, 4.0)).to_vector();
    double m = -std::numeric_limits<double>::infinity(), sum = 0;
    for (double v : x) m = std::max(m, v);
    for (double v : x) sum += std::exp(v - m);
    EXPECT_NEAR(log_sum_exp(x.data(), V), m + std::log(sum), 1e-13) << V;
  }
  const std::vector<double> dead(5, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(log_sum_exp(dead.data(), 5), -std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace sg
