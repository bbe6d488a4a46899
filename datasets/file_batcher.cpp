#include "datasets/file_batcher.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace sg {

FileBatcher::FileBatcher(std::vector<Example> data, const FileBatcherOptions& opt)
    : FileBatcher(std::make_shared<ExampleList>(std::move(data)), opt) {}

FileBatcher::FileBatcher(std::shared_ptr<const ExampleSource> data, const FileBatcherOptions& opt)
    : data_(std::move(data)), opt_(opt), gen_(opt.seed) {
  if (!data_ || data_->size() == 0) throw std::invalid_argument("batcher: no examples");
  if (opt.batch_size < 1)
    throw std::invalid_argument("--batch must be >= 1, got " + std::to_string(opt.batch_size));
  if (opt.bucket_batches < 0)
    throw std::invalid_argument("batcher: bucket_batches must be >= 0, got " +
                                std::to_string(opt.bucket_batches));
  plan_epoch();
}

template <class T>
static void shuffle_in_place(std::vector<T>& v, Generator& g) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[g.below(i)]);  // Fisher-Yates
}

void FileBatcher::plan_epoch() {
  pos_.epoch_rng = gen_.state();
  const auto n = static_cast<size_t>(data_->size());
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (opt_.shuffle) shuffle_in_place(order, gen_);
  const auto B = static_cast<size_t>(opt_.batch_size);
  if (opt_.bucket_batches > 0) {
    const size_t window = B * static_cast<size_t>(opt_.bucket_batches);
    for (size_t start = 0; start < order.size(); start += window) {
      const auto first = order.begin() + static_cast<std::ptrdiff_t>(start);
      const auto last =
          order.begin() + static_cast<std::ptrdiff_t>(std::min(start + window, order.size()));
      std::stable_sort(first, last, [&](int64_t a, int64_t b) {
        const int64_t sa = data_->src_len(a), sb = data_->src_len(b);
        return sa != sb ? sa < sb : data_->tgt_len(a) < data_->tgt_len(b);
      });
    }
  }
  batches_.clear();
  for (size_t start = 0; start < order.size(); start += B)
    batches_.emplace_back(
        order.begin() + static_cast<std::ptrdiff_t>(start),
        order.begin() + static_cast<std::ptrdiff_t>(std::min(start + B, order.size())));
  if (opt_.bucket_batches > 0 && opt_.shuffle) shuffle_in_place(batches_, gen_);
}

Batch FileBatcher::next() {
  const auto& idx = batches_[static_cast<size_t>(pos_.batch)];
  std::vector<Example> rows;
  rows.reserve(idx.size());
  for (const int64_t i : idx) rows.push_back(data_->get(i));
  Batch batch = make_batch(rows);
  batch.index = idx;
  if (++pos_.batch == batches_per_epoch()) {
    ++pos_.epoch;
    pos_.batch = 0;
    plan_epoch();
  }
  return batch;
}

void FileBatcher::restore(const BatcherPosition& pos) {
  if (pos.epoch < 0 || pos.batch < 0 || pos.batch >= batches_per_epoch())
    throw std::invalid_argument("batcher: cannot resume at epoch " + std::to_string(pos.epoch) +
                                " batch " + std::to_string(pos.batch) + " of a data set with " +
                                std::to_string(batches_per_epoch()) + " batches per epoch");
  gen_.set_state(pos.epoch_rng);
  plan_epoch();
  pos_.epoch = pos.epoch;
  pos_.batch = pos.batch;
}

}  // namespace sg
