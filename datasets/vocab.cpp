#include "datasets/vocab.h"

#include <algorithm>
#include <stdexcept>

namespace sg {

const std::vector<std::string>& Vocab::special_tokens() {
  static const std::vector<std::string> s = {"<pad>", "<bos>", "<eos>", "<unk>"};
  return s;
}

Vocab::Vocab() {
  for (const auto& t : special_tokens()) add(t);
}

Vocab::Vocab(const std::vector<std::string>& tokens_in_id_order) {
  const auto& sp = special_tokens();
  if (tokens_in_id_order.size() < sp.size() ||
      !std::equal(sp.begin(), sp.end(), tokens_in_id_order.begin()))
    throw std::runtime_error("vocabulary: must begin with <pad>, <bos>, <eos>, <unk>");
  for (const auto& t : tokens_in_id_order) {
    if (t.empty())
      throw std::runtime_error("vocabulary: empty token at id " + std::to_string(size()));
    if (contains(t)) throw std::runtime_error("vocabulary: duplicate token '" + t + "'");
    add(t);
  }
}

Vocab Vocab::from_tokens(const std::vector<std::string>& tokens) {
  std::vector<std::string> all = special_tokens();
  all.insert(all.end(), tokens.begin(), tokens.end());
  return Vocab(all);
}

Vocab Vocab::from_counts(const std::unordered_map<std::string, int64_t>& counts, int64_t min_freq) {
  if (min_freq < 1)
    throw std::invalid_argument("--min-freq must be >= 1, got " + std::to_string(min_freq));
  std::vector<std::pair<std::string, int64_t>> kept;
  const auto& sp = special_tokens();
  for (const auto& [tok, n] : counts)
    if (n >= min_freq && !tok.empty() && std::find(sp.begin(), sp.end(), tok) == sp.end())
      kept.emplace_back(tok, n);
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocab v;
  for (const auto& [tok, n] : kept) v.add(tok);
  return v;
}

Vocab Vocab::build(const std::vector<std::vector<std::string>>& sequences, int64_t min_freq) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& seq : sequences)
    for (const auto& t : seq) ++counts[t];
  return from_counts(counts, min_freq);
}

void Vocab::add(const std::string& token) {
  index_.emplace(token, size());
  tokens_.push_back(token);
}

int64_t Vocab::id(const std::string& token) const {
  const auto it = index_.find(token);
  return it == index_.end() ? kUnk : it->second;
}

const std::string& Vocab::token(int64_t id) const {
  if (id < 0 || id >= size())
    throw std::out_of_range("vocabulary: id " + std::to_string(id) + " outside [0, " +
                            std::to_string(size()) + ")");
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) {
    const int64_t i = id(t);
    ids.push_back(i < kNumSpecial ? kUnk : i);
  }
  return ids;
}

std::vector<std::string> Vocab::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::string> out;
  for (const int64_t i : ids) {
    if (i == kEos) break;
    if (i == kPad || i == kBos) continue;
    out.push_back(token(i));
  }
  return out;
}

}  // namespace sg
