#include "datasets/batch.h"

#include <algorithm>
#include <stdexcept>

#include "datasets/vocab.h"

namespace sg {

static void check_ids(const std::vector<int64_t>& ids, size_t row, const char* side) {
  for (const int64_t id : ids)
    if (id < Vocab::kUnk)
      throw std::invalid_argument("make_batch: example " + std::to_string(row) + " " + side +
                                  " holds id " + std::to_string(id) +
                                  ", not a real token (ids >= 3)");
}

Batch make_batch(const std::vector<const Example*>& examples) {
  if (examples.empty()) throw std::invalid_argument("make_batch: no examples");
  const auto B = static_cast<int64_t>(examples.size());
  size_t S = 0, T = 0;
  for (size_t b = 0; b < examples.size(); ++b) {
    check_ids(examples[b]->src, b, "source");
    check_ids(examples[b]->tgt, b, "target");
    S = std::max(S, examples[b]->src.size() + 1);
    T = std::max(T, examples[b]->tgt.size() + 1);
  }
  Batch batch;
  batch.src = IntTensor::zeros({B, static_cast<int64_t>(S)});
  batch.tgt_in = IntTensor::zeros({B, static_cast<int64_t>(T)});
  batch.tgt_out = IntTensor::zeros({B, static_cast<int64_t>(T)});
  for (size_t b = 0; b < examples.size(); ++b) {
    const auto& src = examples[b]->src;
    const auto& tgt = examples[b]->tgt;
    int64_t* s = batch.src.data.data() + b * S;
    std::copy(src.begin(), src.end(), s);
    s[src.size()] = Vocab::kEos;
    int64_t* ti = batch.tgt_in.data.data() + b * T;
    int64_t* to = batch.tgt_out.data.data() + b * T;
    ti[0] = Vocab::kBos;
    std::copy(tgt.begin(), tgt.end(), ti + 1);
    std::copy(tgt.begin(), tgt.end(), to);
    to[tgt.size()] = Vocab::kEos;
    batch.n_src_tokens += static_cast<int64_t>(src.size()) + 1;
    batch.n_tgt_tokens += static_cast<int64_t>(tgt.size()) + 1;
  }
  return batch;
}

Batch make_batch(const std::vector<Example>& examples) {
  std::vector<const Example*> ptrs;
  ptrs.reserve(examples.size());
  for (const auto& e : examples) ptrs.push_back(&e);
  return make_batch(ptrs);
}

}  // namespace sg
