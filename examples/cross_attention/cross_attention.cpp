// Cross-attention outside the Transformer: a set of queries attending over a memory of items.
//
// The task is retrieval by key. A memory holds 4 to 8 items, each a (key, value) pair with
// distinct keys; 3 queries each name a key of the memory, and the answer is that key's value.
// The model embeds an item as key_embed(key) + value_embed(value) and a query as
// key_embed(key) (the same table), lets the queries attend over the items with
// sg::MultiHeadAttention (keys and values projected from the items, padding items masked), and
// reads the value off the result with a Linear layer:
//   queries (B, Q) ids, items (B, M) ids -> attention (B, Q, C) -> logits (B, Q, values)
// Trained with Adam, it learns to point: each query's attention weight concentrates on the item
// with its key. The program prints held-out accuracy, how often the largest weight falls on
// the right item, and one memory's weights, and exits 1 if the model did not learn the task.
#include <seqgrad/seqgrad.h>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

using sg::IntTensor;
using sg::Tensor;

constexpr int64_t kKeys = 12, kValues = 12;  // keys 1..kKeys (0 pads), values 0..kValues-1
constexpr int64_t kMinItems = 4, kMaxItems = 8, kQueries = 3;

// A batch: item keys and values (B, M) padded with key 0, query keys (B, Q), answers (B * Q)
// and the index of the item each query points at (B * Q).
struct Batch {
  IntTensor item_keys, item_values, query_keys, answers;
  std::vector<int64_t> targets;
};

Batch draw_batch(sg::Generator& g, int64_t B) {
  Batch b{IntTensor::zeros({B, kMaxItems}),
          IntTensor::zeros({B, kMaxItems}),
          IntTensor::zeros({B, kQueries}),
          IntTensor::zeros({B * kQueries}),
          {}};
  for (int64_t r = 0; r < B; ++r) {
    std::vector<int64_t> keys;  // a random ordering of 1..kKeys, of which the first n are used
    for (int64_t k = 1; k <= kKeys; ++k) keys.push_back(k);
    for (int64_t i = kKeys - 1; i > 0; --i) std::swap(keys[i], keys[g.below(i + 1)]);
    const auto n = kMinItems + static_cast<int64_t>(g.below(kMaxItems - kMinItems + 1));
    for (int64_t i = 0; i < n; ++i) {
      b.item_keys.data[r * kMaxItems + i] = keys[i];
      b.item_values.data[r * kMaxItems + i] = static_cast<int64_t>(g.below(kValues));
    }
    for (int64_t q = 0; q < kQueries; ++q) {
      const auto item = static_cast<int64_t>(g.below(n));
      b.query_keys.data[r * kQueries + q] = keys[item];
      b.answers.data[r * kQueries + q] = b.item_values.data[r * kMaxItems + item];
      b.targets.push_back(item);
    }
  }
  return b;
}

class Retriever : public sg::Module {
  sg::Generator init_;  // declared first: the layers below draw their initial values from it

 public:
  Retriever(int64_t d_model, int64_t heads, uint64_t seed)
      : init_(seed),
        key_embed(kKeys + 1, d_model, init_),
        value_embed(kValues, d_model, init_),
        attn(d_model, heads, 0.0, nullptr, init_),
        out(d_model, kValues, init_) {
    register_module("key_embed", key_embed);
    register_module("value_embed", value_embed);
    register_module("attn", attn);
    register_module("out", out);
  }

  // -> logits (B, Q, kValues); `weights` receives the attention weights (B, H, Q, M).
  Tensor forward(const Batch& b, Tensor* weights = nullptr) const {
    const Tensor items = key_embed.forward(b.item_keys) + value_embed.forward(b.item_values);
    const Tensor queries = key_embed.forward(b.query_keys);
    const IntTensor padding = sg::key_padding_mask(b.item_keys, 0);  // (B, 1, 1, M)
    return out.forward(attn.forward_cross(queries, items, &padding, weights));
  }

  sg::Embedding key_embed, value_embed;
  sg::MultiHeadAttention attn;
  sg::Linear out;
};

Tensor loss_of(const Retriever& m, const Batch& b) {
  return sg::cross_entropy(sg::reshape(m.forward(b), {-1, kValues}), b.answers);
}

// Held-out accuracy of the answers, and how often the head-averaged attention weight is
// largest on the item the query names.
struct Score {
  double accuracy = 0, pointing = 0;
};

Score evaluate(const Retriever& m, const Batch& b) {
  sg::NoGradGuard no_grad;
  Tensor w;
  const std::vector<double> logits = m.forward(b, &w).to_vector();
  const std::vector<double> mean_w = sg::mean(w, {1}).to_vector();  // (B, Q, M)
  const int64_t n = b.answers.numel();
  Score s;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0, at = 0;
    for (int64_t v = 1; v < kValues; ++v)
      if (logits[i * kValues + v] > logits[i * kValues + best]) best = v;
    for (int64_t k = 1; k < kMaxItems; ++k)
      if (mean_w[i * kMaxItems + k] > mean_w[i * kMaxItems + at]) at = k;
    s.accuracy += best == b.answers.data[i];
    s.pointing += at == b.targets[i];
  }
  s.accuracy /= static_cast<double>(n);
  s.pointing /= static_cast<double>(n);
  return s;
}

// The weights of memory 0 of `b`: one row per query, one column per item (head average).
void print_weights(const Retriever& m, const Batch& b) {
  sg::NoGradGuard no_grad;
  Tensor w;
  const std::vector<double> logits = m.forward(b, &w).to_vector();
  const std::vector<double> mean_w = sg::mean(w, {1}).to_vector();
  std::printf("attention weights of memory 0 (averaged over %lld heads):\n%-14s",
              static_cast<long long>(w.size(1)), "query");
  for (int64_t k = 0; k < kMaxItems && b.item_keys.data[k] != 0; ++k)
    std::printf("  k%-2lld:v%-2lld", static_cast<long long>(b.item_keys.data[k]),
                static_cast<long long>(b.item_values.data[k]));
  std::printf("  answer\n");
  for (int64_t q = 0; q < kQueries; ++q) {
    std::printf("k%-2lld -> v%-2lld    ", static_cast<long long>(b.query_keys.data[q]),
                static_cast<long long>(b.answers.data[q]));
    for (int64_t k = 0; k < kMaxItems && b.item_keys.data[k] != 0; ++k)
      std::printf("  %7.3f", mean_w[q * kMaxItems + k]);
    int64_t best = 0;
    for (int64_t v = 1; v < kValues; ++v)
      if (logits[q * kValues + v] > logits[q * kValues + best]) best = v;
    std::printf("  v%lld\n", static_cast<long long>(best));
  }
}

}  // namespace

int main() {
  sg::use_threads(1);  // a model this small runs fastest on one thread
  const int64_t steps = 120, batch = 32;
  Retriever model(32, 2, 1);
  sg::AdamOptions o;
  o.lr = 1e-2;
  sg::Adam opt(model.named_parameters(), o);
  sg::Generator train_data(2), held_out_data(3);
  const Batch held_out = draw_batch(held_out_data, 500);

  for (int64_t step = 1; step <= steps; ++step) {
    const Batch b = draw_batch(train_data, batch);
    opt.zero_grad(true);
    const Tensor loss = loss_of(model, b);
    loss.backward();
    opt.step();
    if (step % 40 == 0) {
      const Score s = evaluate(model, held_out);
      std::printf("step %3lld  loss %.4f  held-out accuracy %.3f  pointing %.3f\n",
                  static_cast<long long>(step), loss.item(), s.accuracy, s.pointing);
    }
  }
  print_weights(model, held_out);
  const Score s = evaluate(model, held_out);
  if (s.accuracy < 0.9 || s.pointing < 0.9) {
    std::printf("FAIL: the queries did not learn to retrieve (accuracy %.3f, pointing %.3f)\n",
                s.accuracy, s.pointing);
    return 1;
  }
  return 0;
}
