// The image front-end (layers/patch_embedding.h, layers/positional_2d.h) and the image model
// built on it: patches in row-major order, the 2-D table's halves, PyTorch-style parameter names
// beside an unchanged text model, sources of the wrong kind refused, and cached decoding equal to
// the full decoder.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "layers/positional.h"
#include "layers/transformer.h"

namespace sg {
namespace {

TEST(PatchEmbedding, PatchesAreRowMajorAndFlattenedRowByRow) {
  // A 4 x 6 image whose pixel (y, x) holds 10 y + x, in 2 x 2 patches.
  std::vector<double> v;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 6; ++x) v.push_back(10 * y + x);
  const Tensor p = patchify(Tensor::from_vector(v, {1, 4, 6}), 2);
  ASSERT_EQ(p.shape(), (Shape{1, 6, 4}));
  const auto got = p.to_vector();
  // Patch (r, c) is position 3 r + c and holds pixels (2r, 2c), (2r, 2c+1), (2r+1, 2c), ...
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) {
      const double* q = got.data() + (3 * r + c) * 4;
      EXPECT_EQ(q[0], 10 * (2 * r) + 2 * c);
      EXPECT_EQ(q[1], 10 * (2 * r) + 2 * c + 1);
      EXPECT_EQ(q[2], 10 * (2 * r + 1) + 2 * c);
      EXPECT_EQ(q[3], 10 * (2 * r + 1) + 2 * c + 1);
    }
  EXPECT_THROW(patchify(Tensor::zeros({1, 5, 6}), 2), std::invalid_argument);
  EXPECT_THROW(patchify(Tensor::zeros({4, 6}), 2), std::invalid_argument);
}

TEST(PatchEmbedding, IsALinearMapOfEachPatch) {
  Generator g(1);
  PatchEmbedding pe(2, 3, g);
  const Tensor images = Tensor::uniform({2, 4, 2}, g, 0, 1);
  const Tensor out = pe.forward(images);
  ASSERT_EQ(out.shape(), (Shape{2, 2, 3}));
  const auto w = pe.named_parameters();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].first, "weight");
  EXPECT_EQ(w[0].second.shape(), (Shape{3, 4}));
  EXPECT_EQ(w[1].first, "bias");
  const auto x = images.to_vector(), W = w[0].second.to_vector(), b = w[1].second.to_vector(),
             y = out.to_vector();
  // Image 1, patch 1 (the lower 2 x 2 square): pixels 4..7 of that image.
  for (int o = 0; o < 3; ++o) {
    double want = b[o];
    for (int k = 0; k < 4; ++k) want += W[o * 4 + k] * x[8 + 4 + k];
    EXPECT_NEAR(y[(1 * 2 + 1) * 3 + o], want, 1e-6);
  }
}

TEST(Positional2D, RowsInTheFirstHalfColumnsInTheSecond) {
  const int64_t C = 7, rows = 3, cols = 5;  // rows take 3 channels, columns 4
  const PositionalEncoding2D pe(C, rows, cols, DType::f64);
  const auto t = pe.table().to_vector();
  const auto row = sinusoid_table(rows, 3), col = sinusoid_table(cols, 4);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t k = 0; k < C; ++k)
        EXPECT_EQ(t[(r * cols + c) * C + k], k < 3 ? row[r * 3 + k] : col[c * 4 + k - 3]);
  // Every position is distinct.
  for (int64_t i = 0; i < rows * cols; ++i)
    for (int64_t j = 0; j < i; ++j) {
      double d = 0;
      for (int64_t k = 0; k < C; ++k) d += std::fabs(t[i * C + k] - t[j * C + k]);
      EXPECT_GT(d, 1e-3) << i << " " << j;
    }
  const Tensor x = Tensor::zeros({2, rows * cols, C}, DType::f64);
  EXPECT_EQ(pe.forward(x).to_vector(), [&] {
    std::vector<double> twice = t;
    twice.insert(twice.end(), t.begin(), t.end());
    return twice;
  }());
  EXPECT_THROW(pe.forward(Tensor::zeros({2, 14, C})), std::invalid_argument);
}

ModelConfig image_config() {
  ModelConfig c;
  c.tgt_vocab = 9, c.d_model = 16, c.heads = 2, c.ff = 24;
  c.enc_layers = 1, c.dec_layers = 2, c.dropout = 0.0;
  c.patch = 4, c.image_height = 8, c.image_width = 12;
  return c;
}

TEST(ImageModel, ParameterNames) {
  const Seq2SeqTransformer image(image_config(), 0);
  const auto params = image.named_parameters();
  EXPECT_EQ(params[0].first, "patch_embed.weight");
  EXPECT_EQ(params[0].second.shape(), (Shape{16, 16}));
  EXPECT_EQ(params[1].first, "patch_embed.bias");
  EXPECT_EQ(params[2].first, "tgt_embed.weight");
  for (const auto& [name, p] : params) EXPECT_EQ(name.find("src_embed"), std::string::npos);
  EXPECT_EQ(params.back().first, "generator.bias");
  // The text model keeps its names: src_embed.weight where the image model has patch_embed's
  // weight and bias, everything else the same.
  ModelConfig t = image_config();
  t.patch = 0;
  t.src_vocab = 9;
  const Seq2SeqTransformer a(t, 5);
  EXPECT_EQ(a.named_parameters()[0].first, "src_embed.weight");
  EXPECT_EQ(a.named_parameters().size() + 1, params.size());
  ModelConfig plain;  // the defaults: a text model
  EXPECT_FALSE(plain.reads_images());
  ModelConfig bad = image_config();
  bad.image_width = 10;
  EXPECT_THROW(Seq2SeqTransformer(bad, 0), std::invalid_argument);
}

TEST(ImageModel, RefusesSourcesOfTheWrongKind) {
  const Seq2SeqTransformer image(image_config(), 0);
  EXPECT_EQ(image.encode(Source(Tensor::zeros({2, 8, 12}))).shape(), (Shape{2, 6, 16}));
  EXPECT_THROW(image.encode(IntTensor({1, 2}, {4, 2})), std::invalid_argument);
  EXPECT_THROW(image.encode(Source(Tensor::zeros({2, 8, 16}))), std::invalid_argument);
  ModelConfig t = image_config();
  t.patch = 0;
  const Seq2SeqTransformer text(t, 0);
  EXPECT_THROW(text.encode(Source(Tensor::zeros({2, 8, 12}))), std::invalid_argument);
  EXPECT_EQ(image.memory_mask(Source(Tensor::zeros({2, 8, 12}))).numel(), 0);
}

TEST(ImageModel, CachedDecodingEqualsTheFullDecoder) {
  Seq2SeqTransformer m(image_config(), 3);
  m.eval();
  NoGradGuard ng;
  Generator g(4);
  const Source src(Tensor::uniform({2, 8, 12}, g, 0, 1));
  const IntTensor tgt_in({2, 4}, {1, 5, 6, 7, 1, 8, 4, 4});
  const auto full = m.forward(src, tgt_in).to_vector();  // (2, 4, 9)
  DecodeState st = m.start_decoding(src);
  for (int64_t t = 0; t < 4; ++t) {
    const auto step = m.decode_step(st, {tgt_in.data[t], tgt_in.data[4 + t]}).to_vector();
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t v = 0; v < 9; ++v)
        EXPECT_NEAR(step[b * 9 + v], full[(b * 4 + t) * 9 + v], 1e-5) << b << " " << t << " " << v;
  }
}

}  // namespace
}  // namespace sg
