// Where training batches and held-out examples come from: an endless synthetic task stream
// (copy, reverse, sort, dates), an endless stream of rendered images (glyphs), or a TSV corpus
// read in epochs (its pairs re-read from the file as batches take them, tsv_examples.h). Its
// position (the stream's generator, or epoch, batch index and shuffle state) goes into
// checkpoints for exact resume.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "datasets/file_batcher.h"
#include "datasets/glyphs.h"
#include "datasets/stream_batcher.h"
#include "datasets/task_stream.h"
#include "datasets/text_codec.h"
#include "datasets/tsv.h"
#include "train/checkpoint/checkpoint.h"

namespace sg {

class DataSource {
 public:
  // A TSV corpus gets its codecs from `stored` (a resumed run: the checkpoint's vocabularies
  // and SentencePiece model) or else builds them from the training file: vocabularies of words
  // or characters, or a SentencePiece model trained on a sample of its lines (--spm-sample,
  // drawn with --seed) or read from --spm-model.
  explicit DataSource(const Config& c, const std::pair<TextCodec, TextCodec>* stored = nullptr);

  Batch next();
  // The held-out examples: token pairs, or for the glyphs task images (valid() is then empty).
  const std::vector<Example>& valid() const { return valid_; }
  const std::vector<ImageExample>& valid_images() const { return valid_images_; }
  bool has_valid() const { return !valid_.empty() || !valid_images_.empty(); }
  // The reference text of each held-out example (a TSV file's target column); empty for the
  // generated tasks, whose text is their tokens' (TextCodec::decode).
  const std::vector<std::string>& valid_refs() const { return valid_refs_; }
  const TextCodec& src_codec() const { return src_codec_; }
  const TextCodec& tgt_codec() const { return tgt_codec_; }
  const Vocab& src_vocab() const { return src_codec_.vocab(); }
  const Vocab& tgt_vocab() const { return tgt_codec_.vocab(); }
  // The serialized SentencePiece model a checkpoint stores as /vocab/spm ("" without one).
  std::string spm_model() const;
  bool is_stream() const { return stream_ != nullptr || glyphs_ != nullptr; }
  int64_t epoch() const { return files_ ? files_->epoch() : 0; }
  int64_t batches_per_epoch() const { return files_ ? files_->batches_per_epoch() : 0; }
  // The training data's longest target and largest length ratio: a TSV file's, measured over
  // every line, or a synthetic task's bounds.
  const LengthStats& train_lengths() const { return lengths_; }
  // The size and hash of a TSV training file as it was read; none for the generated tasks.
  const std::optional<FileFingerprint>& train_fingerprint() const { return train_fingerprint_; }
  // Likewise the TSV held-out file's (--valid); none without one.
  const std::optional<FileFingerprint>& valid_fingerprint() const { return valid_fingerprint_; }

  // Writes the data position, the training lengths and (TSV) the training file's size and hash,
  // as train_bytes and train_hash (the uint64 hash's bits as an int64), and the held-out file's
  // as valid_bytes and valid_hash, into st.
  void save(TrainState& st) const;
  void restore(const TrainState& st);

 private:
  TextCodec src_codec_, tgt_codec_;
  LengthStats lengths_;
  std::vector<Example> valid_;
  std::vector<std::string> valid_refs_;
  std::vector<ImageExample> valid_images_;
  int64_t batch_size_ = 0;
  std::unique_ptr<GlyphStream> glyphs_;
  std::unique_ptr<TaskStream> stream_;
  std::unique_ptr<StreamBatcher> stream_batches_;
  std::unique_ptr<FileBatcher> files_;
  std::optional<FileFingerprint> train_fingerprint_, valid_fingerprint_;
};

}  // namespace sg
