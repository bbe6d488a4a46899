#include "datasets/tokenizer.h"

#include <cstdio>
#include <stdexcept>

namespace sg {

TokenizeMode Tokenizer::parse_mode(const std::string& name) {
  if (name == "word") return TokenizeMode::word;
  if (name == "char") return TokenizeMode::character;
  throw std::invalid_argument("unknown tokenization '" + name + "' (expected word or char)");
}

const char* Tokenizer::mode_name(TokenizeMode mode) {
  return mode == TokenizeMode::word ? "word" : "char";
}

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table 3-7), or 0.
static size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

std::optional<size_t> Tokenizer::invalid_utf8_offset(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

static bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

void Tokenizer::require_utf8(std::string_view s) {
  if (const auto bad = invalid_utf8_offset(s)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(s[*bad]));
    throw std::invalid_argument(std::string("invalid UTF-8 byte ") + hex + " at offset " +
                                std::to_string(*bad));
  }
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  require_utf8(text);
  std::vector<std::string> out;
  if (mode_ == TokenizeMode::word) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && is_ascii_space(text[i])) ++i;
      const size_t start = i;
      while (i < text.size() && !is_ascii_space(text[i])) ++i;
      if (i > start) out.emplace_back(text.substr(start, i - start));
    }
  } else {
    for (size_t i = 0; i < text.size();) {
      const size_t n = utf8_sequence_length(text, i);
      if (text[i] == ' ')
        out.emplace_back(kSpaceToken);
      else
        out.emplace_back(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string Tokenizer::detokenize(const std::vector<std::string>& tokens) const {
  std::string out;
  for (size_t k = 0; k < tokens.size(); ++k) {
    if (mode_ == TokenizeMode::word) {
      if (k) out += ' ';
      out += tokens[k];
    } else {
      out += tokens[k] == kSpaceToken ? std::string(" ") : tokens[k];
    }
  }
  return out;
}

}  // namespace sg
