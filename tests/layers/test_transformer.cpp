// The Seq2Seq model: PyTorch parameter names and shapes, initialization, train/eval, and cached
// incremental decoding equal to the full causal pass.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "layers/transformer.h"

namespace sg {
namespace {

ModelConfig small_config(bool norm_first = false) {
  ModelConfig c;
  c.src_vocab = 13, c.tgt_vocab = 11, c.d_model = 16, c.heads = 4, c.ff = 32;
  c.enc_layers = 2, c.dec_layers = 2, c.dropout = 0.0, c.norm_first = norm_first;
  return c;
}

std::map<std::string, Shape> expected_shapes(const ModelConfig& c) {
  const int64_t d = c.d_model, f = c.ff;
  std::map<std::string, Shape> m = {
      {"src_embed.weight", {c.src_vocab, d}},   {"tgt_embed.weight", {c.tgt_vocab, d}},
      {"transformer.encoder.norm.weight", {d}}, {"transformer.encoder.norm.bias", {d}},
      {"transformer.decoder.norm.weight", {d}}, {"transformer.decoder.norm.bias", {d}},
      {"generator.weight", {c.tgt_vocab, d}},   {"generator.bias", {c.tgt_vocab}}};
  auto attn = [&](const std::string& p) {
    m[p + ".in_proj_weight"] = {3 * d, d};
    m[p + ".in_proj_bias"] = {3 * d};
    m[p + ".out_proj.weight"] = {d, d};
    m[p + ".out_proj.bias"] = {d};
  };
  auto common = [&](const std::string& p, int norms) {
    m[p + ".linear1.weight"] = {f, d};
    m[p + ".linear1.bias"] = {f};
    m[p + ".linear2.weight"] = {d, f};
    m[p + ".linear2.bias"] = {d};
    for (int i = 1; i <= norms; ++i) {
      m[p + ".norm" + std::to_string(i) + ".weight"] = {d};
      m[p + ".norm" + std::to_string(i) + ".bias"] = {d};
    }
  };
  for (int i = 0; i < c.enc_layers; ++i) {
    const std::string p = "transformer.encoder.layers." + std::to_string(i);
    attn(p + ".self_attn");
    common(p, 2);
  }
  for (int i = 0; i < c.dec_layers; ++i) {
    const std::string p = "transformer.decoder.layers." + std::to_string(i);
    attn(p + ".self_attn");
    attn(p + ".multihead_attn");
    common(p, 3);
  }
  return m;
}

TEST(Seq2Seq, ParameterNamesAndShapesArePyTorchs) {
  const ModelConfig c = small_config();
  Seq2SeqTransformer model(c, 1);
  const auto expect = expected_shapes(c);
  const auto params = model.named_parameters();
  ASSERT_EQ(params.size(), expect.size());
  int64_t count = 0;
  for (const auto& [name, t] : params) {
    auto it = expect.find(name);
    ASSERT_NE(it, expect.end()) << "unexpected parameter " << name;
    EXPECT_EQ(t.shape(), it->second) << name;
    count += t.numel();
  }
  EXPECT_EQ(model.parameter_count(), count);
  EXPECT_EQ(params.front().first, "src_embed.weight");
  EXPECT_EQ(params.back().first, "generator.bias");
}

TEST(Seq2Seq, InitializationFollowsTheReference) {
  ModelConfig c = small_config();
  c.d_model = 64, c.ff = 128, c.src_vocab = 400;
  Seq2SeqTransformer model(c, 7);
  // Embeddings N(0, d^-1/2): sample std within 5%.
  const auto e = model.parameter("src_embed.weight").to_vector();
  double ss = 0;
  for (double v : e) ss += v * v;
  EXPECT_NEAR(std::sqrt(ss / e.size()), 1.0 / 8.0, 0.05 / 8.0);
  // Xavier-uniform on in_proj: bound sqrt(6 / (d + 3d)), and the bound is nearly reached.
  const double bound = std::sqrt(6.0 / (64 + 3 * 64));
  double mx = 0;
  for (double v :
       model.parameter("transformer.encoder.layers.0.self_attn.in_proj_weight").to_vector())
    mx = std::max(mx, std::fabs(v));
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.95 * bound);
  // Xavier on linear1 (128, 64): bound sqrt(6 / 192).
  mx = 0;
  for (double v : model.parameter("transformer.decoder.layers.1.linear1.weight").to_vector())
    mx = std::max(mx, std::fabs(v));
  EXPECT_LE(mx, std::sqrt(6.0 / 192));
  EXPECT_GT(mx, 0.95 * std::sqrt(6.0 / 192));
  // The generator keeps Linear's kaiming-uniform: bound 1/sqrt(d).
  mx = 0;
  for (double v : model.parameter("generator.weight").to_vector()) mx = std::max(mx, std::fabs(v));
  EXPECT_LE(mx, 1.0 / 8.0);
  EXPECT_GT(mx, 0.9 / 8.0);
  for (double v : model.parameter("transformer.encoder.norm.weight").to_vector()) EXPECT_EQ(v, 1.0);
  for (double v : model.parameter("transformer.decoder.layers.0.norm3.bias").to_vector())
    EXPECT_EQ(v, 0.0);
  for (double v :
       model.parameter("transformer.decoder.layers.0.multihead_attn.in_proj_bias").to_vector())
    EXPECT_EQ(v, 0.0);
}

TEST(Seq2Seq, SameSeedSameParameters) {
  Seq2SeqTransformer a(small_config(), 3), b(small_config(), 3), c(small_config(), 4);
  EXPECT_EQ(a.parameter("generator.weight").to_vector(),
            b.parameter("generator.weight").to_vector());
  EXPECT_NE(a.parameter("generator.weight").to_vector(),
            c.parameter("generator.weight").to_vector());
}

const IntTensor kSrc({2, 5}, {4, 5, 6, 7, 2, 8, 9, 2, 0, 0});
const IntTensor kTgtIn({2, 4}, {1, 4, 5, 6, 1, 8, 9, 0});
const IntTensor kTgtOut({2, 4}, {4, 5, 6, 2, 8, 9, 2, 0});

TEST(Seq2Seq, DropoutOnlyInTrainingMode) {
  ModelConfig c = small_config();
  c.dropout = 0.3;
  Seq2SeqTransformer model(c, 5);
  NoGradGuard ng;
  const auto t1 = model.forward(kSrc, kTgtIn).to_vector();
  const auto t2 = model.forward(kSrc, kTgtIn).to_vector();
  EXPECT_NE(t1, t2);
  model.eval();
  EXPECT_FALSE(model.is_training());
  const auto e1 = model.forward(kSrc, kTgtIn).to_vector();
  const auto e2 = model.forward(kSrc, kTgtIn).to_vector();
  EXPECT_EQ(e1, e2);
}

TEST(Seq2Seq, LossIsFiniteAndEveryParameterGetsAGradient) {
  Seq2SeqTransformer model(small_config(), 2);
  Tensor loss = model.loss(kSrc, kTgtIn, kTgtOut, 0.1);
  EXPECT_TRUE(std::isfinite(loss.item()));
  loss.backward();
  for (const auto& [name, p] : model.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    double s = 0;
    for (double v : p.grad().to_vector()) s += std::fabs(v);
    EXPECT_GT(s, 0.0) << name;
  }
}

void expect_cached_equals_full(bool norm_first, DType dtype, double tol) {
  Seq2SeqTransformer model(small_config(norm_first), 11, dtype);
  model.eval();
  NoGradGuard ng;
  const Tensor full = model.forward(kSrc, kTgtIn);  // (B, T, V)
  DecodeState st = model.start_decoding(kSrc);
  const int64_t B = 2, T = 4, V = 11;
  for (int64_t t = 0; t < T; ++t) {
    const std::vector<int64_t> tok = {kTgtIn.data[t], kTgtIn.data[T + t]};
    const auto step = model.decode_step(st, tok).to_vector();
    const auto ref = full.to_vector();
    for (int64_t b = 0; b < B; ++b) {
      if (kTgtIn.data[b * T + t] == 0) continue;  // padding positions are not decoded
      for (int64_t v = 0; v < V; ++v)
        EXPECT_NEAR(step[b * V + v], ref[(b * T + t) * V + v], tol) << "b " << b << " t " << t;
    }
  }
}

TEST(Seq2Seq, CachedDecodingEqualsFullCausalPassPostLN) {
  expect_cached_equals_full(false, DType::f32, 1e-5);
}
TEST(Seq2Seq, CachedDecodingEqualsFullCausalPassPreLN) {
  expect_cached_equals_full(true, DType::f32, 1e-5);
}
TEST(Seq2Seq, CachedDecodingEqualsFullCausalPassFloat64) {
  expect_cached_equals_full(false, DType::f64, 1e-12);
}

TEST(Seq2Seq, RejectsHeadsNotDividingDModel) {
  ModelConfig c = small_config();
  c.heads = 3;
  EXPECT_THROW(Seq2SeqTransformer(c, 1), std::invalid_argument);
}

}  // namespace
}  // namespace sg
