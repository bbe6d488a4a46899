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
  if (opt.max_tokens < 0)
    throw std::invalid_argument("--max-tokens must be >= 0, got " + std::to_string(opt.max_tokens));
  if (opt.max_tokens > 0) {
    const int64_t i = longest(*data_);
    if (tokens_of(*data_, i) > opt.max_tokens)
      throw std::invalid_argument("--max-tokens " + std::to_string(opt.max_tokens) +
                                  " is smaller than the longest example (number " +
                                  std::to_string(i + 1) + ", " +
                                  std::to_string(tokens_of(*data_, i)) + " tokens with <eos>)");
  }
  plan_epoch();
}

int64_t FileBatcher::tokens_of(const ExampleSource& data, int64_t i) {
  return std::max(data.src_len(i), data.tgt_len(i)) + 1;
}

int64_t FileBatcher::longest(const ExampleSource& data) {
  int64_t best = 0;
  for (int64_t i = 1; i < data.size(); ++i)
    if (tokens_of(data, i) > tokens_of(data, best)) best = i;
  return best;
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
  if (opt_.max_tokens > 0) {
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      const int64_t tx = tokens_of(*data_, a), ty = tokens_of(*data_, b);
      if (tx != ty) return tx < ty;
      const int64_t ta = data_->tgt_len(a), tb = data_->tgt_len(b);
      return ta != tb ? ta < tb : data_->src_len(a) < data_->src_len(b);
    });
    cut_by_tokens(order);
    if (opt_.shuffle) shuffle_in_place(batches_, gen_);
    return;
  }
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

void FileBatcher::cut_by_tokens(const std::vector<int64_t>& order) {
  batches_.clear();
  std::vector<int64_t> rows;
  int64_t width = 0;  // the largest tokens_of in `rows`
  for (const int64_t i : order) {
    const int64_t t = tokens_of(*data_, i);
    if (!rows.empty() &&
        static_cast<int64_t>(rows.size() + 1) * std::max(width, t) > opt_.max_tokens) {
      batches_.push_back(std::move(rows));
      rows.clear();
      width = 0;
    }
    width = std::max(width, t);
    rows.push_back(i);
  }
  if (!rows.empty()) batches_.push_back(std::move(rows));
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
