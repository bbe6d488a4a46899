// Vocab: special ids, deterministic building from counts, lookup, checkpoint round trip,
// encode/decode.
#include <gtest/gtest.h>

#include <stdexcept>

#include "datasets/vocab.h"

namespace sg {
namespace {

TEST(Vocab, SpecialTokensHaveFixedIds) {
  const Vocab v;
  EXPECT_EQ(v.size(), 4);
  EXPECT_EQ(v.id("<pad>"), 0);
  EXPECT_EQ(v.id("<bos>"), 1);
  EXPECT_EQ(v.id("<eos>"), 2);
  EXPECT_EQ(v.id("<unk>"), 3);
  EXPECT_EQ(v.token(2), "<eos>");
}

TEST(Vocab, FromCountsOrdersByCountThenStringAndAppliesMinFreq) {
  const Vocab v = Vocab::from_counts({{"b", 3}, {"a", 3}, {"c", 5}, {"d", 1}, {"e", 2}}, 2);
  EXPECT_EQ(v.tokens(),
            (std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", "c", "a", "b", "e"}));
  EXPECT_EQ(v.id("d"), Vocab::kUnk);  // below min_freq
  EXPECT_EQ(v.id("zzz"), Vocab::kUnk);
  EXPECT_FALSE(v.contains("d"));
}

TEST(Vocab, BuildCountsSequencesAndNeverCountsSpecialStrings) {
  const Vocab v = Vocab::build({{"x", "y", "<pad>", "x"}, {"y", "x", "<unk>"}}, 1);
  EXPECT_EQ(v.tokens(), (std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", "x", "y"}));
  EXPECT_THROW(Vocab::build({{"x"}}, 0), std::invalid_argument);
}

TEST(Vocab, EncodeMapsUnknownAndSpecialStringsToUnk) {
  const Vocab v = Vocab::from_tokens({"hello", "world"});
  EXPECT_EQ(v.encode({"hello", "there", "<pad>", "<eos>", "<bos>", "world"}),
            (std::vector<int64_t>{4, 3, 3, 3, 3, 5}));
}

TEST(Vocab, DecodeStopsAtEosAndOmitsPadAndBos) {
  const Vocab v = Vocab::from_tokens({"a", "b"});
  EXPECT_EQ(v.decode({1, 4, 3, 5, 2, 4, 0}), (std::vector<std::string>{"a", "<unk>", "b"}));
  EXPECT_EQ(v.decode({4, 0, 0, 5}), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(v.decode({4, 9}), std::out_of_range);
}

TEST(Vocab, TokenListRoundTripsAsInACheckpoint) {
  const Vocab v = Vocab::build({{"der", "die", "das", "die"}}, 1);
  const Vocab w(v.tokens());
  EXPECT_EQ(w, v);
  EXPECT_EQ(w.id("die"), 4);
  EXPECT_EQ(w.id("das"), 5);  // tie with "der" broken by string order
}

TEST(Vocab, RejectsBadTokenLists) {
  EXPECT_THROW(Vocab(std::vector<std::string>{"<pad>", "<bos>", "<eos>"}), std::runtime_error);
  EXPECT_THROW(Vocab(std::vector<std::string>{"<bos>", "<pad>", "<eos>", "<unk>"}),
               std::runtime_error);
  try {
    Vocab(std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", "a", "a"});
    FAIL() << "duplicate accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "vocabulary: duplicate token 'a'");
  }
  EXPECT_THROW(Vocab(std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", ""}),
               std::runtime_error);
  EXPECT_THROW(Vocab().token(4), std::out_of_range);
  EXPECT_THROW(Vocab().token(-1), std::out_of_range);
}

}  // namespace
}  // namespace sg
