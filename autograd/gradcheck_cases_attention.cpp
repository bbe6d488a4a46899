// Gradcheck rows for the fused attention ops (ops_attention.cpp, ops_attention_blocked.cpp). The
// first rows fit one tile of the blocked route; the "_tiled" rows pass small tiles so that their
// lengths cross several, with an uneven last tile in both directions, under padding, causal and
// combined masks, Tq != Tk and fully masked rows. The full route (which keeps the probabilities)
// is the one that serves `probs`; its rows ask for them. The "causal_flag" rows mask causally by
// AttentionMask's flag instead of a (T, T) tensor. The "_dropout" rows drop probabilities
// at a fixed seed, on both routes.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

namespace {

// Key padding (B, 1, 1, Tk): keys at or past lengths[b] are masked (length 0: every key).
IntTensor key_padding(const std::vector<int64_t>& lengths, int64_t Tk) {
  const auto B = static_cast<int64_t>(lengths.size());
  IntTensor m = IntTensor::zeros({B, 1, 1, Tk});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = lengths[b]; j < Tk; ++j) m.data[b * Tk + j] = 1;
  return m;
}

// Causal plus key padding (B, 1, T, T): key j is masked for query i if j > i or j >= lengths[b].
IntTensor causal_padding(const std::vector<int64_t>& lengths, int64_t T) {
  const auto B = static_cast<int64_t>(lengths.size());
  IntTensor m = IntTensor::zeros({B, 1, T, T});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j) m.data[(b * T + i) * T + j] = j > i || j >= lengths[b];
  return m;
}

}  // namespace

std::vector<GradCase> attention_grad_cases() {
  return {
      // Fused attention: a key-padding mask with one batch element fully masked, Tq != Tk.
      {"attention_padding_mask", "op",
       [](Generator& g) {
         Tensor q = grad_input({2, 2, 3, 4}, g), k = grad_input({2, 2, 5, 4}, g),
                v = grad_input({2, 2, 5, 4}, g);
         const IntTensor mask({2, 1, 1, 5}, {0, 0, 1, 0, 1, 1, 1, 1, 1, 1});
         return GradProblem{{q, k, v}, [=] { return attention(q, k, v, &mask, 0.5); }};
       }},
      // Self-attention shape: q, k and v are strided head views of one (B, T, 3C) tensor (q and
      // k on two paths each), under a causal mask, one head of size 1.
      {"attention_causal_views_of_one_node", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 3, 6}, g);
         const IntTensor mask({1, 1, 3, 3}, {0, 1, 1, 0, 0, 1, 0, 0, 0});
         return GradProblem{
             {x}, [=] {
               auto heads = [](const Tensor& t) {
                 return permute(reshape(t, {2, 3, 2, 1}), {0, 2, 1, 3});
               };
               const Tensor q = heads(slice(x, 2, 0, 2)), k = heads(slice(x, 2, 2, 4)),
                            v = heads(slice(x, 2, 4, 6));
               return add(attention(q, k, v, &mask, 1.0), attention(k, q, q, nullptr, 0.3));
             }};
       }},
      // self_attention on one (B, T, 3C) projection, 2 heads of 2, causal plus key padding,
      // with qkv also used on a second path.
      {"self_attention_causal_padding", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 3, 12}, g);
         const IntTensor mask({2, 1, 3, 3}, {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1});
         return GradProblem{
             {x}, [=] { return add(self_attention(x, 2, &mask, 0.6), slice(x, 2, 4, 8)); }};
       }},
      // The same row on the full route (probabilities requested): its backward from saved P.
      {"attention_full_route_padding_mask", "op",
       [](Generator& g) {
         Tensor q = grad_input({2, 2, 3, 4}, g), k = grad_input({2, 2, 5, 4}, g),
                v = grad_input({2, 2, 5, 4}, g);
         const IntTensor mask = key_padding({3, 0}, 5);
         return GradProblem{{q, k, v}, [=] {
                              Tensor p;
                              return attention(q, k, v, &mask, 0.5, &p);
                            }};
       }},
      // Cross-attention over 4 x 8 tiles: Tq 13 (3 tiles and 1 row), Tk 29 (3 tiles and 5 keys);
      // batch 1 keeps 11 keys (its second key tile is mixed, the others masked), batch 2 none
      // (fully masked rows: zeros and a zero gradient).
      {"attention_tiled_cross_padding", "op",
       [](Generator& g) {
         Tensor q = grad_input({3, 2, 13, 4}, g), k = grad_input({3, 2, 29, 4}, g),
                v = grad_input({3, 2, 29, 4}, g);
         const IntTensor mask = key_padding({29, 11, 0}, 29);
         return GradProblem{{q, k, v}, [=] {
                              return attention(q, k, v, &mask, 0.5, nullptr, AttentionTiles{4, 8});
                            }};
       }},
      // self_attention, causal plus key padding over 5 x 6 tiles (T 23: tiles of both kinds
      // are uneven, some fully masked above the diagonal), qkv also on a second path.
      {"self_attention_tiled_causal_padding", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 23, 12}, g);
         const IntTensor mask = causal_padding({23, 17}, 23);
         return GradProblem{{x}, [=] {
                              return add(
                                  self_attention(x, 2, &mask, 0.6, nullptr, AttentionTiles{5, 6}),
                                  slice(x, 2, 4, 8));
                            }};
       }},
      // Causal only (1, 1, T, T), and no mask, on strided head views of one tensor, 3 x 7 tiles
      // (Tq 17 and Tk 17 are not multiples of either), scores spread wide enough that the
      // running maximum changes from tile to tile.
      {"attention_tiled_causal_views", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 17, 12}, g, -2, 2);
         IntTensor causal = causal_padding({17}, 17);
         return GradProblem{{x}, [=] {
                              auto heads = [](const Tensor& t) {
                                return permute(reshape(t, {2, 17, 2, 2}), {0, 2, 1, 3});
                              };
                              const Tensor q = heads(slice(x, 2, 0, 4)),
                                           k = heads(slice(x, 2, 4, 8)),
                                           v = heads(slice(x, 2, 8, 12));
                              const AttentionTiles t{3, 7};
                              return add(attention(q, k, v, &causal, 1.5, nullptr, t),
                                         attention(k, q, v, nullptr, 0.7, nullptr, t));
                            }};
       }},
      // A per-head mask (B, H, Tq, Tk) that hides whole rows of one head only, and 1 x 1 tiles.
      {"attention_tiled_per_head_mask_unit_tiles", "op",
       [](Generator& g) {
         Tensor q = grad_input({1, 2, 5, 3}, g), k = grad_input({1, 2, 7, 3}, g),
                v = grad_input({1, 2, 7, 3}, g);
         IntTensor mask = random_ids({1, 2, 5, 7}, 2, g);
         for (int64_t j = 0; j < 7; ++j) mask.data[2 * 7 + j] = 1;  // head 0, query 2
         return GradProblem{{q, k, v}, [=] {
                              return attention(q, k, v, &mask, 0.8, nullptr, AttentionTiles{1, 1});
                            }};
       }},
      // Attention dropout (p 0.3, a fixed seed) on the blocked route, 4 x 8 tiles: Tq 13 and Tk 29
      // cross tiles unevenly, batch 1 keeps 11 keys, batch 2 none. The mask is a function of
      // the seed and the entry's position, the same in every evaluation of the difference quotient.
      {"attention_tiled_dropout_cross_padding", "op",
       [](Generator& g) {
         Tensor q = grad_input({3, 2, 13, 4}, g), k = grad_input({3, 2, 29, 4}, g),
                v = grad_input({3, 2, 29, 4}, g);
         const IntTensor mask = key_padding({29, 11, 0}, 29);
         return GradProblem{{q, k, v}, [=] {
                              return attention(q, k, v, &mask, 0.5, nullptr, AttentionTiles{4, 8},
                                               AttentionDropout{0.3, 1234567});
                            }};
       }},
      // self_attention with dropout p 0.25 under causal plus key padding over 5 x 6 tiles (T 23),
      // qkv also on a second path.
      {"self_attention_tiled_dropout_causal_padding", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 23, 12}, g);
         const IntTensor mask = causal_padding({23, 17}, 23);
         return GradProblem{{x}, [=] {
                              return add(
                                  self_attention(x, 2, &mask, 0.6, nullptr, AttentionTiles{5, 6},
                                                 AttentionDropout{0.25, 99}),
                                  slice(x, 2, 4, 8));
                            }};
       }},
      // The full route (probabilities requested) with dropout p 0.4: its backward from saved P
      // and P M.
      {"attention_full_route_dropout_padding", "op",
       [](Generator& g) {
         Tensor q = grad_input({2, 2, 6, 4}, g), k = grad_input({2, 2, 7, 4}, g),
                v = grad_input({2, 2, 7, 4}, g);
         const IntTensor mask = key_padding({5, 7}, 7);
         return GradProblem{
             {q, k, v}, [=] {
               Tensor p;
               return attention(q, k, v, &mask, 0.5, &p, {}, AttentionDropout{0.4, 31});
             }};
       }},
      // The causal flag (no (T, T) tensor) over key padding (B, 1, 1, T): self_attention over
      // 5 x 6 tiles (T 23), tiles above the diagonal skipped and those on it mixed, qkv also on a
      // second path.
      {"self_attention_tiled_causal_flag_padding", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 23, 12}, g);
         const IntTensor pad = key_padding({23, 17}, 23);
         return GradProblem{{x}, [=] {
                              return add(self_attention(x, 2, AttentionMask(&pad, true), 0.6,
                                                        nullptr, AttentionTiles{5, 6}),
                                         slice(x, 2, 4, 8));
                            }};
       }},
      // The causal flag alone with Tq 9 < Tk 14 (query i sees keys 0 .. i) over 4 x 5 tiles, and
      // with key padding on the full route (probabilities requested).
      {"attention_causal_flag_cross_and_full_route", "op",
       [](Generator& g) {
         Tensor q = grad_input({2, 2, 9, 4}, g), k = grad_input({2, 2, 14, 4}, g),
                v = grad_input({2, 2, 14, 4}, g);
         const IntTensor pad = key_padding({14, 6}, 14);
         return GradProblem{{q, k, v}, [=] {
                              Tensor p;
                              return add(attention(q, k, v, AttentionMask(nullptr, true), 0.5,
                                                   nullptr, AttentionTiles{4, 5}),
                                         attention(q, k, v, AttentionMask(&pad, true), 0.7, &p));
                            }};
       }},
  };
}

}  // namespace sg
