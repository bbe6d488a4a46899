// Gradcheck rows for whole layers (kind "layer"), in float64 with small dims: the inputs are the
// layer's input activations and every one of its parameters.
#include <memory>

#include "autograd/ops.h"
#include "layers/gradcheck_table.h"
#include "layers/transformer.h"

namespace sg {

namespace {

constexpr DType F64 = DType::f64;

// Inputs = extra activations + every parameter of the module, which `fn` keeps alive.
template <class M>
GradProblem with_params(std::shared_ptr<M> m, std::vector<Tensor> acts,
                        std::function<Tensor()> fn) {
  for (auto& [name, p] : m->named_parameters()) acts.push_back(p);
  return GradProblem{acts, [m, fn] { return fn(); }};
}

// Makes biases and norm weights non-trivial (they start at 0 and 1).
void perturb(Module& m, Generator& g) {
  for (auto& [name, p] : m.named_parameters()) {
    if (p.dim() != 1) continue;
    const bool norm_weight =
        name.find("norm") != std::string::npos && name.compare(name.size() - 6, 6, "weight") == 0;
    const double center = norm_weight ? 1.0 : 0.0;
    p.copy_from(Tensor::uniform(p.shape(), g, center - 0.5, center + 0.5, F64));
  }
}

IntTensor padded_ids(const std::vector<std::vector<int64_t>>& rows, int64_t T) {
  IntTensor t = IntTensor::zeros({static_cast<int64_t>(rows.size()), T});
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t i = 0; i < rows[b].size(); ++i) t.data[b * T + i] = rows[b][i];
  return t;
}

LayerConfig small_layer(bool norm_first) {
  return LayerConfig{8, 2, 12, 0.0, norm_first};
}

GradCase encoder_case(const std::string& name, bool norm_first) {
  return {name, "layer", [norm_first](Generator& g) {
            auto m = std::make_shared<EncoderLayer>(small_layer(norm_first), nullptr, g, F64);
            perturb(*m, g);
            Tensor x = grad_input({2, 4, 8}, g);
            auto mask = std::make_shared<IntTensor>(
                key_padding_mask(padded_ids({{5, 6, 7, 2}, {5, 2}}, 4), 0));
            return with_params(m, {x}, [m, x, mask] { return m->forward(x, mask.get()); });
          }};
}

GradCase decoder_case(const std::string& name, bool norm_first) {
  return {name, "layer", [norm_first](Generator& g) {
            auto m = std::make_shared<DecoderLayer>(small_layer(norm_first), nullptr, g, F64);
            perturb(*m, g);
            Tensor y = grad_input({2, 3, 8}, g), mem = grad_input({2, 4, 8}, g);
            const IntTensor tgt = padded_ids({{1, 5, 6}, {1, 5}}, 3);
            auto self_mask = std::make_shared<IntTensor>(
                combine_masks(causal_mask(3), key_padding_mask(tgt, 0)));
            auto mem_mask = std::make_shared<IntTensor>(
                key_padding_mask(padded_ids({{5, 6, 7, 2}, {5, 6, 2}}, 4), 0));
            return with_params(m, {y, mem}, [m, y, mem, self_mask, mem_mask] {
              return m->forward(y, mem, self_mask.get(), mem_mask.get());
            });
          }};
}

GradCase attention_case(const std::string& name, int64_t Tq, int64_t Tk, bool self, bool causal,
                        bool padded) {
  return {name, "layer", [=](Generator& g) {
            auto m = std::make_shared<MultiHeadAttention>(8, 2, 0.0, nullptr, g, F64);
            perturb(*m, g);
            Tensor q = grad_input({2, Tq, 8}, g);
            Tensor kv = self ? q : grad_input({2, Tk, 8}, g);
            std::shared_ptr<IntTensor> mask;
            if (padded) {
              const IntTensor ids = Tk == 5 ? padded_ids({{4, 4, 4, 4, 4}, {4, 4, 4}}, 5)
                                            : padded_ids({{4, 4, 4, 4}, {4, 4}}, Tk);
              mask = std::make_shared<IntTensor>(key_padding_mask(ids, 0));
            }
            if (causal)
              mask = std::make_shared<IntTensor>(mask ? combine_masks(causal_mask(Tq), *mask)
                                                      : causal_mask(Tq));
            std::vector<Tensor> acts = {q};
            if (!self) acts.push_back(kv);
            return with_params(m, acts, [m, q, kv, mask, self] {
              return self ? m->forward_self(q, mask.get()) : m->forward_cross(q, kv, mask.get());
            });
          }};
}

// The whole model's label-smoothed loss. With `shared`, src_embed, tgt_embed and the generator
// weight are one input (named_parameters lists it once), so the check covers the sum of the
// three gradients (ids 4 and 6 are read on both sides and predicted).
GradCase seq2seq_case(const std::string& name, bool shared) {
  return {name, "layer", [shared](Generator& g) {
            ModelConfig c;
            c.src_vocab = 9, c.tgt_vocab = shared ? 9 : 8;
            c.d_model = 8, c.heads = 2, c.ff = 12;
            c.enc_layers = 2, c.dec_layers = 2, c.dropout = 0.0;
            c.share_embeddings = shared;
            auto m = std::make_shared<Seq2SeqTransformer>(c, g.next_u64(), F64);
            perturb(*m, g);
            const IntTensor src = padded_ids({{4, 5, 6, 2}, {7, 2}}, 4);
            const IntTensor tgt_in =
                shared ? padded_ids({{1, 4, 8}, {1, 6}}, 3) : padded_ids({{1, 4, 5}, {1, 6}}, 3);
            const IntTensor tgt_out =
                shared ? padded_ids({{4, 8, 2}, {6, 2}}, 3) : padded_ids({{4, 5, 2}, {6, 2}}, 3);
            return with_params(
                m, {}, [m, src, tgt_in, tgt_out] { return m->loss(src, tgt_in, tgt_out, 0.1); });
          }};
}

}  // namespace

std::vector<GradCase> layer_grad_cases() {
  return {
      {"linear", "layer",
       [](Generator& g) {
         auto m = std::make_shared<Linear>(4, 3, g, F64);
         Tensor x = grad_input({2, 5, 4}, g);
         return with_params(m, {x}, [m, x] { return m->forward(x); });
       }},
      {"embedding", "layer",
       [](Generator& g) {
         auto m = std::make_shared<Embedding>(7, 4, g, 1.0, F64);
         const IntTensor ids({2, 3}, {1, 4, 1, 6, 0, 4});
         return with_params(m, {}, [m, ids] { return m->forward(ids); });
       }},
      {"layer_norm", "layer",
       [](Generator& g) {
         auto m = std::make_shared<LayerNorm>(5, F64);
         perturb(*m, g);
         Tensor x = grad_input({2, 3, 5}, g);
         return with_params(m, {x}, [m, x] { return m->forward(x); });
       }},
      attention_case("self_attention", 4, 4, true, false, false),
      attention_case("self_attention_causal_padded", 4, 4, true, true, true),
      attention_case("cross_attention", 3, 5, false, false, true),
      encoder_case("encoder_layer", false),
      decoder_case("decoder_layer", false),
      encoder_case("encoder_layer_pre_ln", true),
      decoder_case("decoder_layer_pre_ln", true),
      {"patch_embedding", "layer",
       [](Generator& g) {
         // Two 4 x 6 images in 2 x 2 patches: a 2 x 3 grid, each patch's 4 pixels to 5 channels.
         auto m = std::make_shared<PatchEmbedding>(2, 5, g, F64);
         perturb(*m, g);
         Tensor images = grad_input({2, 4, 6}, g, 0.0, 1.0);
         return with_params(m, {images}, [m, images] { return m->forward(images); });
       }},
      {"positional_2d", "layer",
       [](Generator& g) {
         // A 2 x 3 grid of 5 channels (rows take 2, columns 3); x is used twice, so its gradient
         // accumulates from both uses.
         auto m = std::make_shared<PositionalEncoding2D>(5, 2, 3, F64);
         Tensor x = grad_input({2, 6, 5}, g);
         return with_params(m, {x}, [m, x] { return mul(m->forward(x), x); });
       }},
      seq2seq_case("seq2seq", false),
      seq2seq_case("seq2seq_shared_embeddings", true),
      {"seq2seq_image", "layer",
       [](Generator& g) {
         // An image model: 4 x 6 images in 2 x 2 patches (6 positions), targets padded.
         ModelConfig c;
         c.tgt_vocab = 8, c.d_model = 8, c.heads = 2, c.ff = 12;
         c.enc_layers = 1, c.dec_layers = 1, c.dropout = 0.0;
         c.patch = 2, c.image_height = 4, c.image_width = 6;
         auto m = std::make_shared<Seq2SeqTransformer>(c, g.next_u64(), F64);
         perturb(*m, g);
         Tensor images = grad_input({2, 4, 6}, g, 0.0, 1.0);
         const IntTensor tgt_in = padded_ids({{1, 4, 5}, {1, 6}}, 3);
         const IntTensor tgt_out = padded_ids({{4, 5, 2}, {6, 2}}, 3);
         return with_params(m, {images}, [m, images, tgt_in, tgt_out] {
           return m->loss(Source(images), tgt_in, tgt_out, 0.1);
         });
       }},
  };
}

}  // namespace sg
