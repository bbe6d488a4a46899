// Tokenizer: word and char modes, the visible space token, and UTF-8 validation.
#include <gtest/gtest.h>

#include <stdexcept>

#include "datasets/tokenizer.h"

namespace sg {
namespace {

using Strings = std::vector<std::string>;

TEST(Tokenizer, WordModeSplitsOnWhitespaceRuns) {
  const Tokenizer t(TokenizeMode::word);
  EXPECT_EQ(t.tokenize("  the cat\t sat\r"), (Strings{"the", "cat", "sat"}));
  EXPECT_EQ(t.tokenize("   "), Strings{});
  EXPECT_EQ(t.detokenize({"the", "cat"}), "the cat");
}

TEST(Tokenizer, CharModeSplitsCodePointsAndShowsSpaces) {
  const Tokenizer t(TokenizeMode::character);
  const std::string text = "né 日\xF0\x9F\x98\x80";  // n, e-acute, space, CJK, emoji
  const Strings toks = t.tokenize(text);
  EXPECT_EQ(toks, (Strings{"n", "\xC3\xA9", "\xE2\x96\x81", "\xE6\x97\xA5", "\xF0\x9F\x98\x80"}));
  EXPECT_EQ(t.detokenize(toks), text);
}

TEST(Tokenizer, ParsesModeNames) {
  EXPECT_EQ(Tokenizer::parse_mode("word"), TokenizeMode::word);
  EXPECT_EQ(Tokenizer::parse_mode("char"), TokenizeMode::character);
  try {
    Tokenizer::parse_mode("bpe");
    FAIL() << "bpe accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "unknown tokenization 'bpe' (expected word or char)");
  }
}

TEST(Tokenizer, FindsTheFirstInvalidUtf8Byte) {
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("plain ascii"), std::nullopt);
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("\xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"), std::nullopt);
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("ab\xFF"
                                           "cd"),
            2u);                                                      // never valid
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("a\x80"), 1u);             // lone continuation
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("abc\xC3"), 3u);           // truncated at the end
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("\xC3(x"), 0u);            // bad continuation
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("x\xC0\xAF"), 1u);         // overlong '/'
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("\xE0\x80\xAF"), 0u);      // overlong 3-byte
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("\xED\xA0\x80"), 0u);      // UTF-16 surrogate
  EXPECT_EQ(Tokenizer::invalid_utf8_offset("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
}

TEST(Tokenizer, RejectsInvalidUtf8WithOffset) {
  const Tokenizer t(TokenizeMode::character);
  try {
    t.tokenize("ok\xFE");
    FAIL() << "invalid UTF-8 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "invalid UTF-8 byte 0xfe at offset 2");
  }
}

}  // namespace
}  // namespace sg
