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

namespace {

// Fills tgt_in, tgt_out and n_tgt_tokens from the targets of the examples.
template <class E>
void set_targets(Batch& batch, const std::vector<const E*>& examples) {
  const auto B = static_cast<int64_t>(examples.size());
  size_t T = 0;
  for (size_t b = 0; b < examples.size(); ++b) {
    check_ids(examples[b]->tgt, b, "target");
    T = std::max(T, examples[b]->tgt.size() + 1);
  }
  batch.tgt_in = IntTensor::zeros({B, static_cast<int64_t>(T)});
  batch.tgt_out = IntTensor::zeros({B, static_cast<int64_t>(T)});
  for (size_t b = 0; b < examples.size(); ++b) {
    const auto& tgt = examples[b]->tgt;
    int64_t* ti = batch.tgt_in.data.data() + b * T;
    int64_t* to = batch.tgt_out.data.data() + b * T;
    ti[0] = Vocab::kBos;
    std::copy(tgt.begin(), tgt.end(), ti + 1);
    std::copy(tgt.begin(), tgt.end(), to);
    to[tgt.size()] = Vocab::kEos;
    batch.n_tgt_tokens += static_cast<int64_t>(tgt.size()) + 1;
  }
}

template <class E>
std::vector<const E*> pointers(const std::vector<E>& examples) {
  std::vector<const E*> ptrs;
  ptrs.reserve(examples.size());
  for (const auto& e : examples) ptrs.push_back(&e);
  return ptrs;
}

}  // namespace

Batch make_batch(const std::vector<const Example*>& examples) {
  if (examples.empty()) throw std::invalid_argument("make_batch: no examples");
  const auto B = static_cast<int64_t>(examples.size());
  size_t S = 0;
  for (size_t b = 0; b < examples.size(); ++b) {
    check_ids(examples[b]->src, b, "source");
    S = std::max(S, examples[b]->src.size() + 1);
  }
  Batch batch;
  set_targets(batch, examples);
  batch.src = IntTensor::zeros({B, static_cast<int64_t>(S)});
  for (size_t b = 0; b < examples.size(); ++b) {
    const auto& src = examples[b]->src;
    int64_t* s = batch.src.data.data() + b * S;
    std::copy(src.begin(), src.end(), s);
    s[src.size()] = Vocab::kEos;
    batch.n_src_tokens += static_cast<int64_t>(src.size()) + 1;
  }
  return batch;
}

Batch make_image_batch(const std::vector<const ImageExample*>& examples) {
  if (examples.empty()) throw std::invalid_argument("make_image_batch: no examples");
  const Image& first = examples[0]->image;
  const int64_t B = static_cast<int64_t>(examples.size()), H = first.height, W = first.width;
  std::vector<float> pixels;
  pixels.reserve(static_cast<size_t>(B * H * W));
  for (size_t b = 0; b < examples.size(); ++b) {
    const Image& im = examples[b]->image;
    if (im.height != H || im.width != W || im.ink.size() != static_cast<size_t>(H * W))
      throw std::invalid_argument("make_image_batch: example " + std::to_string(b) + " is " +
                                  std::to_string(im.width) + " x " + std::to_string(im.height) +
                                  " pixels, example 0 " + std::to_string(W) + " x " +
                                  std::to_string(H));
    pixels.insert(pixels.end(), im.ink.begin(), im.ink.end());
  }
  Batch batch;
  set_targets(batch, examples);
  batch.images = Tensor::from_floats(pixels, {B, H, W});
  return batch;
}

Batch make_image_batch(const std::vector<ImageExample>& examples) {
  return make_image_batch(pointers(examples));
}

Batch make_batch(const std::vector<Example>& examples) {
  return make_batch(pointers(examples));
}

}  // namespace sg
