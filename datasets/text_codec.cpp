#include "datasets/text_codec.h"

#include <stdexcept>

namespace sg {

TextCodec::TextCodec(std::shared_ptr<const SentencePieceModel> spm) : spm_(std::move(spm)) {
  if (!spm_) throw std::invalid_argument("TextCodec: no SentencePiece model");
}

std::string TextCodec::name() const {
  return spm_ ? "spm" : Tokenizer::mode_name(mode_);
}

std::vector<int64_t> TextCodec::encode(std::string_view text) const {
  if (!spm_) return vocab_.encode(Tokenizer(mode_).tokenize(text));
  Tokenizer::require_utf8(text);
  return spm_->encode(text);
}

std::string TextCodec::decode(const std::vector<int64_t>& ids) const {
  if (spm_) return spm_->decode(ids);
  return Tokenizer(mode_).detokenize(vocab_.decode(ids));
}

bool TextCodec::operator==(const TextCodec& o) const {
  if (spm_ || o.spm_) return spm_ && o.spm_ && spm_->bytes() == o.spm_->bytes();
  return mode_ == o.mode_ && vocab_ == o.vocab_;
}

}  // namespace sg
