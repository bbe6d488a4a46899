// How one side's text becomes token ids and back (docs/data.md): word or char tokens looked up in
// a vocabulary built from data (tokenizer.h, vocab.h), or the pieces of a SentencePiece model
// (sentencepiece_model.h). The source and the target side of a run each have one; with a shared
// vocabulary they are equal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/sentencepiece_model.h"
#include "datasets/tokenizer.h"
#include "datasets/vocab.h"

namespace sg {

class TextCodec {
 public:
  TextCodec() = default;  // word tokens over the four specials
  TextCodec(TokenizeMode mode, Vocab vocab) : mode_(mode), vocab_(std::move(vocab)) {}
  explicit TextCodec(std::shared_ptr<const SentencePieceModel> spm);

  const Vocab& vocab() const { return spm_ ? spm_->vocab() : vocab_; }
  // The SentencePiece model, or null for word and char tokens.
  const SentencePieceModel* spm() const { return spm_.get(); }
  const std::shared_ptr<const SentencePieceModel>& spm_ptr() const { return spm_; }
  // "word", "char" or "spm", as --tokenize names it.
  std::string name() const;

  // Text -> ids of real tokens, unknown ones <unk>. Throws std::invalid_argument("invalid UTF-8
  // byte 0x.. at offset N") for text that is not UTF-8.
  std::vector<int64_t> encode(std::string_view text) const;
  // Ids -> text, stopping at the first <eos> and dropping <pad> and <bos>: word tokens joined by
  // spaces, characters concatenated ("▁" as a space), SentencePiece pieces detokenized.
  std::string decode(const std::vector<int64_t>& ids) const;

  // Same tokenization and the same vocabulary (so the same ids for the same text).
  bool operator==(const TextCodec& o) const;

 private:
  TokenizeMode mode_ = TokenizeMode::word;
  Vocab vocab_;
  std::shared_ptr<const SentencePieceModel> spm_;
};

}  // namespace sg
