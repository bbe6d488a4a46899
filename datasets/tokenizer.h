// Text <-> tokens for TSV corpora, translation input and the dates task.
//   word: tokens are the runs of non-whitespace (ASCII space, \t, \n, \v, \f, \r separate them);
//         detokenize joins with one space.
//   char: every UTF-8 code point is a token, and a space becomes the visible token "▁" (U+2581,
//         as in SentencePiece), so token lists stay whitespace-free and round-trip through
//         checkpoints and logs; detokenize concatenates and turns "▁" back into a space (so a
//         literal "▁" in the text comes back as a space).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

enum class TokenizeMode { word, character };

class Tokenizer {
 public:
  static constexpr const char* kSpaceToken = "\xe2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

  explicit Tokenizer(TokenizeMode mode = TokenizeMode::word) : mode_(mode) {}
  // "word" or "char"; anything else throws std::invalid_argument naming the value.
  static TokenizeMode parse_mode(const std::string& name);
  static const char* mode_name(TokenizeMode mode);

  // Throws std::invalid_argument("invalid UTF-8 byte 0x.. at offset N") on invalid text.
  std::vector<std::string> tokenize(std::string_view text) const;
  std::string detokenize(const std::vector<std::string>& tokens) const;
  TokenizeMode mode() const { return mode_; }

  // Offset of the first byte that does not start a well-formed UTF-8 sequence (overlong forms,
  // surrogates and code points above U+10FFFF are ill-formed), or nullopt if `s` is valid.
  static std::optional<size_t> invalid_utf8_offset(std::string_view s);
  // Throws std::invalid_argument("invalid UTF-8 byte 0x.. at offset N") unless `s` is valid.
  static void require_utf8(std::string_view s);
  // The UTF-8 byte-order mark that some editors (Windows ones) write at the start of a file;
  // TSV files, --config files and translate's stdin skip it.
  static constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  static bool starts_with_bom(std::string_view s) {
    return s.substr(0, kUtf8Bom.size()) == kUtf8Bom;
  }

 private:
  TokenizeMode mode_;
};

}  // namespace sg
