// Attention layers, the whole Seq2Seq model (post-LN, pre-LN, shared embeddings) and the image
// model against PyTorch 1.13 fixtures (written by tests/reference/make_layer_fixtures.py and
// tests/reference/make_image_fixtures.py): outputs and every gradient, float32, each tensor to
// 1e-4 of its largest reference magnitude.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "autograd/random.h"
#include "layers/transformer.h"
#include "train/checkpoint/hdf5.h"

namespace sg {
namespace {

std::string fixture(const std::string& name) {
  return std::string(SEQGRAD_SOURCE_DIR) + "/tests/reference/" + name;
}

Tensor load(const H5File& f, const std::string& path) {
  auto a = f.read_f32(path);
  return Tensor::from_floats(a.data, a.shape);
}

IntTensor load_ids(const H5File& f, const std::string& path) {
  auto a = f.read_i64(path);
  return IntTensor(a.shape, a.data);
}

// max |ours - ref| <= 1e-4 * max |ref| (+ 1e-7 for all-zero references).
void expect_close(const Tensor& ours, const Tensor& ref, const std::string& what) {
  ASSERT_TRUE(ours.defined()) << what << ": no value";
  ASSERT_EQ(ours.shape(), ref.shape()) << what;
  const auto a = ours.to_vector(), b = ref.to_vector();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(std::isfinite(a[i])) << what << "[" << i << "]";
    diff = std::max(diff, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  EXPECT_LE(diff, 1e-4 * scale + 1e-7)
      << what << ": max abs diff " << diff << ", max |ref| " << scale;
}

void load_params(const Module& m, const H5File& f, const std::string& group) {
  for (auto& [name, p] : m.named_parameters()) p.copy_from(load(f, group + name));
}

// The mask of an attention fixture: key padding (B, 1, 1, Tk), or-ed with a causal mask when
// the file says so (attribute causal, or the (T, T) dataset input/causal).
IntTensor fixture_mask(const H5File& f, bool cross) {
  if (!cross && !f.has_attr("/", "causal")) {
    IntTensor causal = load_ids(f, "input/causal");
    causal.shape = {1, 1, causal.shape[0], causal.shape[1]};
    return causal;
  }
  IntTensor mask = load_ids(f, "input/key_padding_mask");
  const int64_t B = mask.shape[0], Tk = mask.shape[1];
  if (cross || f.attr_i64("/", "causal") == 0) {
    mask.shape = {B, 1, 1, Tk};
    return mask;
  }
  IntTensor both = IntTensor::zeros({B, 1, Tk, Tk});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tk; ++i)
      for (int64_t j = 0; j < Tk; ++j)
        both.data[(b * Tk + i) * Tk + j] = j > i || mask.data[b * Tk + j] != 0;
  return both;
}

// With `weights` the layer asks for the probabilities (the full route of the fused op), without
// them it takes the blocked route (fixtures longer than its tiles cross several).
void check_attention(const std::string& file, bool cross, bool weights) {
  const H5File f = H5File::open_read(fixture(file));
  const int64_t d = f.attr_i64("/", "d_model"), h = f.attr_i64("/", "heads");
  Generator g(0);
  MultiHeadAttention mha(d, h, 0.0, nullptr, g);
  load_params(mha, f, "params/");
  Tensor q = load(f, cross ? "input/query" : "input/x").set_requires_grad(true);
  Tensor kv = cross ? load(f, "input/memory").set_requires_grad(true) : q;
  const IntTensor mask = fixture_mask(f, cross);
  Tensor w;
  Tensor* wp = weights ? &w : nullptr;
  Tensor out = cross ? mha.forward_cross(q, kv, &mask, wp) : mha.forward_self(q, &mask, wp);
  expect_close(out, load(f, "output/out"), "out");
  if (weights && f.exists("output/attn_weights"))
    expect_close(w, load(f, "output/attn_weights"), "attn_weights");
  out.backward(load(f, "upstream"));
  if (cross) {
    expect_close(q.grad(), load(f, "grad/input/query"), "grad query");
    expect_close(kv.grad(), load(f, "grad/input/memory"), "grad memory");
  } else {
    expect_close(q.grad(), load(f, "grad/input/x"), "grad x");
  }
  for (auto& [name, p] : mha.named_parameters())
    expect_close(p.grad(), load(f, "grad/params/" + name), "grad " + name);
}

TEST(TorchParity, SelfAttentionCausal) {
  check_attention("self_attention_causal.h5", false, true);
  check_attention("self_attention_causal.h5", false, false);
}
TEST(TorchParity, CrossAttentionKeyPaddingDifferentLengths) {
  check_attention("cross_attention_padded.h5", true, true);
  check_attention("cross_attention_padded.h5", true, false);
}
// T = 150 and Tq = 70, Tk = 200: past the blocked route's default tiles (64 x 128).
TEST(TorchParity, LongSelfAttentionCausalPadding) {
  check_attention("self_attention_long.h5", false, false);
  check_attention("self_attention_long.h5", false, true);
}
TEST(TorchParity, LongCrossAttentionKeyPadding) {
  check_attention("cross_attention_long.h5", true, false);
  check_attention("cross_attention_long.h5", true, true);
}

void check_seq2seq(const std::string& file) {
  const H5File f = H5File::open_read(fixture(file));
  ModelConfig c;
  c.d_model = f.attr_i64("/", "d_model");
  c.heads = f.attr_i64("/", "heads");
  c.enc_layers = f.attr_i64("/", "enc_layers");
  c.dec_layers = f.attr_i64("/", "dec_layers");
  c.ff = f.attr_i64("/", "ff");
  c.src_vocab = f.attr_i64("/", "src_vocab");
  c.tgt_vocab = f.attr_i64("/", "tgt_vocab");
  c.norm_first = f.attr_i64("/", "norm_first") != 0;
  c.pad_id = f.attr_i64("/", "pad_id");
  c.share_embeddings = f.has_attr("/", "share_embeddings") && f.attr_i64("/", "share_embeddings");
  c.dropout = 0.0;
  Seq2SeqTransformer model(c, 0);
  // Every fixture parameter (PyTorch's state_dict keys) exists in the model and vice versa.
  const auto names = f.list("params");
  const NamedTensors state = model.state_dict();
  ASSERT_EQ(names.size(), state.size());
  for (const auto& [name, p] : state)
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  // One matrix serves three names when tied: the model holds two tensors fewer.
  EXPECT_EQ(model.named_parameters().size(), state.size() - (c.share_embeddings ? 2 : 0));
  load_params(model, f, "params/");
  const IntTensor src = load_ids(f, "input/src"), tgt_in = load_ids(f, "input/tgt_in"),
                  tgt_out = load_ids(f, "input/tgt_out");
  expect_close(model.forward(src, tgt_in), load(f, "output/logits"), "logits");
  expect_close(model.loss(src, tgt_in, tgt_out, 0.1), load(f, "output/loss_smoothed"),
               "loss_smoothed");
  Tensor loss = model.loss(src, tgt_in, tgt_out);
  expect_close(loss, load(f, "output/loss"), "loss");
  loss.backward();
  // A tied matrix's gradient, the sum over its uses, is PyTorch's under each of its names.
  for (auto& [name, p] : state) expect_close(p.grad(), load(f, "grad/" + name), "grad " + name);
}

TEST(TorchParity, Seq2SeqPostLN) {
  check_seq2seq("seq2seq_post_ln.h5");
}
TEST(TorchParity, Seq2SeqPreLN) {
  check_seq2seq("seq2seq_pre_ln.h5");
}
TEST(TorchParity, Seq2SeqSharedEmbeddings) {
  check_seq2seq("seq2seq_shared_embeddings.h5");
}

// The image model (python/seqgrad_torch/image.py, tests/reference/make_image_fixtures.py):
// patch embedding, 2-D positions, the encoder without a padding mask, cross-attention over every
// patch; logits, both losses and every gradient, the images' included.
TEST(TorchParity, ImageSeq2Seq) {
  const H5File f = H5File::open_read(fixture("image_seq2seq.h5"));
  ModelConfig c;
  c.d_model = f.attr_i64("/", "d_model");
  c.heads = f.attr_i64("/", "heads");
  c.enc_layers = f.attr_i64("/", "enc_layers");
  c.dec_layers = f.attr_i64("/", "dec_layers");
  c.ff = f.attr_i64("/", "ff");
  c.tgt_vocab = f.attr_i64("/", "tgt_vocab");
  c.patch = f.attr_i64("/", "patch");
  c.image_height = f.attr_i64("/", "image_height");
  c.image_width = f.attr_i64("/", "image_width");
  c.dropout = 0.0;
  Seq2SeqTransformer model(c, 0);
  ASSERT_EQ(f.list("params").size(), model.named_parameters().size());
  load_params(model, f, "params/");
  const Tensor images = load(f, "input/images").set_requires_grad(true);
  const Source src(images);
  const IntTensor tgt_in = load_ids(f, "input/tgt_in"), tgt_out = load_ids(f, "input/tgt_out");
  expect_close(model.forward(src, tgt_in), load(f, "output/logits"), "logits");
  expect_close(model.loss(src, tgt_in, tgt_out, 0.1), load(f, "output/loss_smoothed"),
               "loss_smoothed");
  Tensor loss = model.loss(src, tgt_in, tgt_out);
  expect_close(loss, load(f, "output/loss"), "loss");
  loss.backward();
  for (auto& [name, p] : model.named_parameters())
    expect_close(p.grad(), load(f, "grad/" + name), "grad " + name);
  expect_close(images.grad(), load(f, "grad/images"), "grad images");
}

}  // namespace
}  // namespace sg
