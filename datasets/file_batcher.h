// Batches over a fixed list of examples (a TSV file, example_source.h), epoch after epoch.
//
// Without shuffling, batch k of every epoch holds examples k*B .. k*B+B-1 in file order, the
// last partial batch included (docs/data.md). With shuffling, each epoch is a fresh
// permutation drawn from the batcher's Generator. Length bucketing (bucket_batches > 0) sorts
// each window of bucket_batches*B consecutive examples of the epoch order by (source length,
// target length), cuts it into batches, and, when shuffling, shuffles the order of all batches.
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
};

struct BatcherPosition {
  int64_t epoch = 0;             // completed epochs
  int64_t batch = 0;             // index of the next batch within the epoch
  Generator::State epoch_rng{};  // generator state before drawing this epoch's order
  bool operator==(const BatcherPosition&) const = default;
};

class FileBatcher {
 public:
  // Throws std::invalid_argument for no examples or a batch size < 1 (naming --batch).
  FileBatcher(std::shared_ptr<const ExampleSource> data, const FileBatcherOptions& opt);
  FileBatcher(std::vector<Example> data, const FileBatcherOptions& opt);

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

  std::shared_ptr<const ExampleSource> data_;
  FileBatcherOptions opt_;
  Generator gen_;
  BatcherPosition pos_;
  std::vector<std::vector<int64_t>> batches_;  // example indices of each batch of this epoch
};

}  // namespace sg
