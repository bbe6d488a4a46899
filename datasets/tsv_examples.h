// The encoded pairs of a TSV training file without holding them: per line, its offset and size
// in the file and the token counts of its two sides (16 bytes a line, whatever the text), so a
// corpus of millions of lines forms its batches in memory that does not grow with the text. A
// pair is read again (pread) and encoded again when a batch takes it.
//
// The constructor reads the file once and encodes every line (in parallel chunks), so a bad line
// (see tsv.h), an empty side or a side longer than opt.max_len is an error naming file and line
// before training starts. A line that reads back differently later (the file was changed while
// training) is a std::runtime_error naming file and line, never a silently different example.
#pragma once

#include <string>
#include <vector>

#include "datasets/example_source.h"
#include "datasets/text_codec.h"
#include "datasets/tsv.h"

namespace sg {

class TsvExamples final : public ExampleSource {
 public:
  TsvExamples(std::string path, TextCodec src, TextCodec tgt, const TsvOptions& opt);
  ~TsvExamples() override;
  TsvExamples(const TsvExamples&) = delete;
  TsvExamples& operator=(const TsvExamples&) = delete;

  int64_t size() const override { return static_cast<int64_t>(src_len_.size()); }
  int64_t src_len(int64_t i) const override { return src_len_[static_cast<size_t>(i)]; }
  int64_t tgt_len(int64_t i) const override { return tgt_len_[static_cast<size_t>(i)]; }
  Example get(int64_t i) const override;
  const std::string& path() const { return path_; }
  // The size and hash of the file as the constructor read it.
  const FileFingerprint& fingerprint() const { return fingerprint_; }

 private:
  std::string path_;
  FileFingerprint fingerprint_;
  TextCodec src_, tgt_;
  int fd_ = -1;
  std::vector<int64_t> offset_;  // line i starts at byte offset_[i] (line number i + 1)
  std::vector<uint32_t> bytes_;  // and takes bytes_[i] bytes, its line end included
  std::vector<uint16_t> src_len_, tgt_len_;
};

// Every pair of a (validation or evaluation) file, encoded, in memory; the same checks. If
// tgt_texts is given, it receives each pair's target side as written (the reference BLEU and
// chrF score against, so a word the vocabulary lacks stays itself); if fingerprint is given, it
// receives the file's size and hash.
std::vector<Example> read_tsv_examples(const std::string& path, const TextCodec& src,
                                       const TextCodec& tgt, const TsvOptions& opt,
                                       std::vector<std::string>* tgt_texts = nullptr,
                                       FileFingerprint* fingerprint = nullptr);

}  // namespace sg
