// Every decoder reads images as it reads token ids (issue 21 on the decoding of issue 18): on an
// untrained image model (seeded, so its outputs are arbitrary but fixed) and random pictures,
// beam 1 is greedy, batched beam search equals one image at a time, sampling with top-k 1 is
// greedy, an ensemble of two copies decodes as the model alone, every image gets the limit of
// a source of no tokens, and evaluation on image examples runs for one model and an ensemble.
#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "autograd/random.h"
#include "datasets/batch.h"
#include "train/decode/decode.h"
#include "train/decode/evaluate.h"
#include "train/decode/stepper.h"

namespace sg {
namespace {

using TokenSeqs = std::vector<std::vector<int64_t>>;

ModelConfig image_config() {
  ModelConfig c;
  c.tgt_vocab = 9, c.d_model = 16, c.heads = 2, c.ff = 24;
  c.enc_layers = 1, c.dec_layers = 2, c.dropout = 0.0;
  c.patch = 4, c.image_height = 8, c.image_width = 12, c.max_len = 64;
  return c;
}

class ImageDecode : public ::testing::Test {
 protected:
  ImageDecode() : model_(image_config(), 3) {
    model_.eval();
    Generator g(4);
    for (int64_t i = 0; i < 6; ++i) {
      ImageExample e{Image{8, 12, {}}, {3 + i % 6, 4, 5}};
      for (int64_t k = 0; k < 96; ++k) e.image.ink.push_back(static_cast<float>(g.uniform()));
      examples_.push_back(std::move(e));
    }
    images_ = make_image_batch(examples_).images;  // (6, 8, 12)
  }
  // Longest training target 3: the default limit is ceil(1.5 * 3) + 10 = 15 for every image.
  static DecodeOptions options(int64_t beam = 1) {
    DecodeOptions o;
    o.beam = beam;
    o.lengths = {3, 1, 1};
    return o;
  }
  Source image(int64_t i) const { return take_rows(Source(images_), {i}); }

  Seq2SeqTransformer model_;
  std::vector<ImageExample> examples_;
  Tensor images_;
};

TEST_F(ImageDecode, EveryImageHasTheLimitOfASourceWithoutTokens) {
  const Source src(images_);
  EXPECT_EQ(decode_limits(options(), src, 0, model_.config().max_len), std::vector<int64_t>(6, 15));
  DecodeCuts cuts;
  const TokenSeqs out = greedy_decode(model_, src, options(), &cuts);
  ASSERT_EQ(out.size(), 6u);
  ASSERT_EQ(cuts.cut.size(), 6u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_LE(out[i].size(), 15u) << i;
    if (cuts.cut[i]) {
      EXPECT_EQ(out[i].size(), 15u) << i;
    }
  }
  DecodeOptions few = options();
  few.max_len = 2;
  for (const auto& o : greedy_decode(model_, src, few)) EXPECT_LE(o.size(), 2u);
}

TEST_F(ImageDecode, BeamOneIsGreedyAndBatchedBeamIsOneImageAtATime) {
  const Source src(images_);
  DecodeCuts greedy_cuts, beam_cuts;
  const TokenSeqs greedy = greedy_decode(model_, src, options(), &greedy_cuts);
  const auto one = beam_search(Models{&model_}, src, options(1), &beam_cuts);
  ASSERT_EQ(one.size(), greedy.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_EQ(one[i].at(0).ids, greedy[i]) << i;
  EXPECT_EQ(beam_cuts.cut, greedy_cuts.cut);
  const TokenSeqs together = decode(model_, src, options(3));
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(decode(model_, image(i), options(3))[0], together[i]) << i;
}

TEST_F(ImageDecode, SamplingWithTopKOneIsGreedy) {
  const Source src(images_);
  DecodeOptions o = options();
  o.sample = true;
  o.seed = 5;
  o.temperature = 2.0;
  const TokenSeqs a = decode(model_, src, o);
  EXPECT_EQ(decode(model_, src, o), a);
  o.first_row = 4;
  EXPECT_EQ(decode(model_, image(4), o)[0], a[4]);  // each image its own generator
  o.first_row = 0;
  o.top_k = 1;
  EXPECT_EQ(decode(model_, src, o), greedy_decode(model_, src, options()));
}

TEST_F(ImageDecode, AnEnsembleOfTwoCopiesDecodesAsTheModelAlone) {
  const Source src(images_);
  for (int64_t beam : {1, 3})
    EXPECT_EQ(decode(Models{&model_, &model_}, src, options(beam)),
              decode(model_, src, options(beam)))
        << beam;
  EvalOptions eo;
  eo.decode = options();
  const EvalResult alone = evaluate(model_, examples_, eo);
  const EvalResult two = evaluate(Models{&model_, &model_}, examples_, eo);
  EXPECT_EQ(alone.n, 6);
  EXPECT_GT(alone.loss, 0.0);
  EXPECT_NEAR(two.loss, alone.loss, 1e-5);
  EXPECT_EQ(two.exact_match, alone.exact_match);
  // A text model cannot join an image model's ensemble: its encoder refuses the pictures.
  ModelConfig t = image_config();
  t.patch = 0, t.src_vocab = 9;
  const Seq2SeqTransformer text(t, 3);
  EXPECT_THROW(decode(Models{&model_, &text}, src, options()), std::invalid_argument);
}

}  // namespace
}  // namespace sg
