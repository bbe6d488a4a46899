// Batches over a fixed list of examples (a TSV file, example_source.h), epoch after epoch.
//
// Without shuffling, batch k of every epoch holds examples k*B .. k*B+B-1 in file order, the
// last partial batch included (docs/data.md). With shuffling, each epoch is a fresh
// permutation drawn from the batcher's Generator. Length bucketing (bucket_batches > 0) sorts
// each window of bucket_batches*B consecutive examples of the epoch order by (source length,
// target length), cuts it into batches, and, when shuffling, shuffles the order of all batches.
//
// Token-based batches (max_tokens > 0, --max-tokens; batch_size and bucketing are not used):
// each epoch the examples, shuffled first when shuffling (so equal lengths come in a fresh
// order), are sorted by tokens_of (then target and source length) and cut greedily into
// batches whose padded size, rows x the largest tokens_of among them, stays within max_tokens;
// the batches are then shuffled. Both the source and the target tensor of a batch thus hold at
// most max_tokens entries, padding included (docs/data.md). The cut depends on lengths only, so
// every epoch has the same number of batches.
//
// The position (epoch, batch within it, and the generator state from which the epoch's order
// was drawn) can be exported and restored, so a resumed run sees exactly the same batches.
#pragma once

#include <memory>
#include <vector>

#include "autograd/random.h"
#include "datasets/batch.h"
#include "datasets/example_source.h"

namespace sg {

struct FileBatcherOptions {
  int64_t batch_size = 64;     // --batch
  bool shuffle = true;         // --shuffle / --no-shuffle
  int64_t bucket_batches = 0;  // 0: no bucketing; else window of bucket_batches*B examples
  uint64_t seed = 0;
  int64_t max_tokens = 0;  // --max-tokens; 0: batches of batch_size examples
};

struct BatcherPosition {
  int64_t epoch = 0;             // completed epochs
  int64_t batch = 0;             // index of the next batch within the epoch
  Generator::State epoch_rng{};  // generator state before drawing this epoch's order
  bool operator==(const BatcherPosition&) const = default;
};

class FileBatcher {
 public:
  // Throws std::invalid_argument for no examples, a batch size < 1 (naming --batch), or a
  // max_tokens < 0 or below the tokens_of of some example (naming --max-tokens).
  FileBatcher(std::shared_ptr<const ExampleSource> data, const FileBatcherOptions& opt);
  FileBatcher(std::vector<Example> data, const FileBatcherOptions& opt);

  // The width example i needs in a batch: its longer side plus <eos> (or <bos>).
  static int64_t tokens_of(const ExampleSource& data, int64_t i);
  // The index of the first example with the largest tokens_of (data not empty).
  static int64_t longest(const ExampleSource& data);

  // The next batch; after the last batch of an epoch the position moves to the next epoch.
  Batch next();

  int64_t epoch() const { return pos_.epoch; }
  int64_t batch_in_epoch() const { return pos_.batch; }
  int64_t batches_per_epoch() const { return static_cast<int64_t>(batches_.size()); }
  int64_t num_examples() const { return data_->size(); }
  const ExampleSource& data() const { return *data_; }

  BatcherPosition position() const { return pos_; }
  // Continues from an exported position; throws std::invalid_argument if its batch index does
  // not fit this data.
  void restore(const BatcherPosition& pos);

 private:
  void plan_epoch();
  // Cuts `order` (sorted by length) into batches of at most max_tokens padded tokens.
  void cut_by_tokens(const std::vector<int64_t>& order);

  std::shared_ptr<const ExampleSource> data_;
  FileBatcherOptions opt_;
  Generator gen_;
  BatcherPosition pos_;
  std::vector<std::vector<int64_t>> batches_;  // example indices of each batch of this epoch
};

}  // namespace sg
