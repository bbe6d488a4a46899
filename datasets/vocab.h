// Vocabulary: token strings <-> ids with the special tokens of docs/data.md (id 0 <pad>,
// 1 <bos>, 2 <eos>, 3 <unk>) and real tokens from id 4.
//
// Building from counts keeps the tokens seen at least min_freq times, ordered by descending
// count, then by token string (bytewise ascending), so the same data always gives the same ids.
// The special strings themselves are never counted as real tokens.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace sg {

class Vocab {
 public:
  static constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kUnk = 3, kNumSpecial = 4;
  static const std::vector<std::string>& special_tokens();  // {"<pad>","<bos>","<eos>","<unk>"}

  Vocab();  // the four special tokens only
  // From the full token list in id order (as saved in a checkpoint's /vocab/src): it must begin
  // with the four specials and hold no duplicate or empty token. Throws std::runtime_error.
  explicit Vocab(const std::vector<std::string>& tokens_in_id_order);
  // Specials followed by `tokens` in the given order (symbol k gets id 4 + k).
  static Vocab from_tokens(const std::vector<std::string>& tokens);
  // Tokens counted at least min_freq (>= 1) times, by descending count then token string.
  static Vocab from_counts(const std::unordered_map<std::string, int64_t>& counts,
                           int64_t min_freq);
  // Counts the tokens of every sequence, then from_counts.
  static Vocab build(const std::vector<std::vector<std::string>>& sequences, int64_t min_freq);

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  bool contains(const std::string& token) const { return index_.count(token) != 0; }
  // The id of a token (specials included); unknown tokens give kUnk.
  int64_t id(const std::string& token) const;
  // The token of an id; throws std::out_of_range for ids outside [0, size()).
  const std::string& token(int64_t id) const;
  // Every token in id order, specials first.
  const std::vector<std::string>& tokens() const { return tokens_; }

  // Text tokens -> ids of real tokens. Unknown tokens and the literal strings "<pad>", "<bos>",
  // "<eos>" give kUnk, so data can never inject padding or sequence boundaries.
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;
  // Ids -> tokens: stops at the first <eos>, omits <pad> and <bos>, keeps "<unk>".
  std::vector<std::string> decode(const std::vector<int64_t>& ids) const;

  bool operator==(const Vocab& o) const { return tokens_ == o.tokens_; }

 private:
  void add(const std::string& token);

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace sg
