// A SentencePiece model (libsentencepiece) seen through seqgrad's vocabulary (docs/data.md):
// ids 0-3 are <pad> <bos> <eos> <unk> and the model's other pieces follow from id 4 in the
// model's own order, so vocab().tokens() is what a checkpoint stores as /vocab/src and
// /vocab/tgt, and serialized() what it stores as /vocab/spm.
//
// A model trained here is a unigram model whose ids already are seqgrad's (its pad, bos, eos and
// unk pieces are "<pad>" "<bos>" "<eos>" "<unk>" at ids 0-3). A model made elsewhere (spm_train
// with its defaults: <unk> 0, <s> 1, </s> 2, no padding) is mapped: its unknown piece becomes id
// 3, its control pieces (<s>, </s>, ...) are left out, since encoding never produces them and
// seqgrad adds <bos> and <eos> itself, and a piece spelled like one of seqgrad's specials counts
// as unknown. Byte pieces of a byte-fallback model are ordinary pieces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/vocab.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace sg {

class Progress;

struct SpmTrainOptions {
  int64_t vocab_size = 8000;  // pieces, the four specials included (--vocab-size)
  int threads = 1;            // trainer threads; the model depends on their number
  // If given, moved along the trainer's EM rounds (its unit should be "EM rounds"): the total is
  // set once the seed pieces are known, the position after each round (spm_progress.h).
  Progress* progress = nullptr;
};

class SentencePieceModel {
 public:
  // Trains a unigram model on `sentences` (each one side of a TSV line, valid UTF-8). Throws
  // std::invalid_argument naming --vocab-size when the sentences cannot give that many pieces
  // or need more (every character is a piece), std::runtime_error for another failure.
  static std::shared_ptr<const SentencePieceModel> train(const std::vector<std::string>& sentences,
                                                         const SpmTrainOptions& opt);
  // A serialized model (the bytes of a .model file or a checkpoint's /vocab/spm). Throws
  // std::runtime_error "<what>: ..." when the bytes are not a usable model.
  static std::shared_ptr<const SentencePieceModel> from_bytes(std::string bytes,
                                                              const std::string& what);
  // The model in a file; errors name the file.
  static std::shared_ptr<const SentencePieceModel> from_file(const std::string& path);

  ~SentencePieceModel();

  const Vocab& vocab() const { return vocab_; }
  const std::string& bytes() const { return bytes_; }

  // Text (valid UTF-8) -> ids of real pieces (>= 3: an unknown character is <unk>). The text is
  // normalized first as the model says (NFKC and whitespace folding for a trained one).
  std::vector<int64_t> encode(std::string_view text) const;
  // Ids -> text: stops at the first <eos>, drops <pad> and <bos>, joins the pieces and turns
  // "▁" back into spaces; <unk> comes out as "⁇" between single spaces (SentencePiece's surface
  // of an unknown piece), which matches no word of a reference.
  std::string decode(const std::vector<int64_t>& ids) const;

 private:
  SentencePieceModel() = default;
  void map_ids();

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string bytes_;
  Vocab vocab_;
  std::vector<int64_t> to_ours_;  // SentencePiece id -> seqgrad id
  std::vector<int> to_sp_;        // seqgrad id -> SentencePiece id (-1: pad, bos, eos)
};

}  // namespace sg
