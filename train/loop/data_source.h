// Where training batches and held-out examples come from: an endless synthetic task stream
// (copy, reverse, sort, dates) or a TSV corpus read in epochs. Its position (the stream's
// generator, or epoch, batch index and shuffle state) goes into checkpoints for exact resume.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/file_batcher.h"
#include "datasets/stream_batcher.h"
#include "datasets/task_stream.h"
#include "datasets/tokenizer.h"
#include "train/checkpoint/checkpoint.h"

namespace sg {

class DataSource {
 public:
  // On resume, `vocabs` holds the checkpoint's source and target tokens, which a TSV corpus is
  // encoded with instead of building new vocabularies.
  DataSource(const Config& c, const std::vector<std::vector<std::string>>* vocabs = nullptr);

  Batch next();
  const std::vector<Example>& valid() const { return valid_; }
  const Vocab& src_vocab() const { return src_vocab_; }
  const Vocab& tgt_vocab() const { return tgt_vocab_; }
  TokenizeMode tokenize_mode() const { return mode_; }
  bool is_stream() const { return stream_ != nullptr; }
  int64_t epoch() const { return files_ ? files_->epoch() : 0; }
  int64_t batches_per_epoch() const { return files_ ? files_->batches_per_epoch() : 0; }
  // The training data's longest target and largest length ratio: a TSV file's, measured over
  // every line, or a synthetic task's bounds.
  const LengthStats& train_lengths() const { return lengths_; }

  // Writes the data position and the training lengths into st.
  void save(TrainState& st) const;
  void restore(const TrainState& st);

 private:
  Vocab src_vocab_, tgt_vocab_;
  TokenizeMode mode_ = TokenizeMode::word;
  LengthStats lengths_;
  std::vector<Example> valid_;
  std::unique_ptr<TaskStream> stream_;
  std::unique_ptr<StreamBatcher> stream_batches_;
  std::unique_ptr<FileBatcher> files_;
};

}  // namespace sg
