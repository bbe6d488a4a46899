// Greedy and beam-search decoding on a tiny copy model trained here for a few hundred steps (not
// to perfection, so that decoding choices matter): beam 1 is greedy, beam 4 with length
// normalization is at least as good as greedy, the length limit holds, and padding in a batch
// changes no row's output.
#include <gtest/gtest.h>

#include <algorithm>

#include "autograd/parallel.h"
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
    EXPECT_EQ(beam_decode(model, src, o), greedy_decode(model, src, max_len)) << max_len;
  }
}

TEST_F(Decode, BeamSearchIsAtLeastAsGoodAsGreedy) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  const TokenSeqs refs = references();
  const double greedy = exact_match(greedy_decode(model, src, 20), refs);
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

TEST_F(Decode, MaxLengthIsHonored) {
  const auto& model = *model_->model;
  const IntTensor src = sources();
  const TokenSeqs full = greedy_decode(model, src, 20);
  for (int64_t max_len : {0, 1, 3}) {
    for (int64_t beam : {1, 3}) {
      DecodeOptions o;
      o.beam = beam;
      o.max_len = max_len;
      const TokenSeqs out = decode(model, src, o);
      ASSERT_EQ(out.size(), full.size());
      for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_LE(static_cast<int64_t>(out[i].size()), max_len) << "beam " << beam;
        // Greedy output cut at the limit is the unlimited output's prefix.
        if (beam == 1) {
          const size_t n = std::min<size_t>(full[i].size(), max_len);
          EXPECT_EQ(out[i], TokenSeqs::value_type(full[i].begin(), full[i].begin() + n));
        }
      }
    }
  }
  // A limit beyond the model's positional table is capped, not an error.
  DecodeOptions huge;
  huge.beam = 2;
  huge.max_len = 1 << 20;
  EXPECT_NO_THROW(decode(model, make_batch({(*held_out_)[0]}).src, huge));
}

TEST_F(Decode, PaddingInABatchChangesNoOutput) {
  const auto& model = *model_->model;
  const TokenSeqs together = greedy_decode(model, sources(), 20);
  for (size_t i = 0; i < 20; ++i) {
    const TokenSeqs alone = greedy_decode(model, make_batch({(*held_out_)[i]}).src, 20);
    EXPECT_EQ(alone[0], together[i]) << i;
  }
}

}  // namespace
}  // namespace sg
