// The synthetic tasks of docs/data.md over the symbols "0".."N-1" (symbol k has id 4 + k in
// both vocabularies): copy (target = source), reverse, and sort (ascending by symbol id), with
// source lengths uniform in [min_len, max_len].
//
// Held-out set: n distinct sources drawn from a fixed seed, taking at most 10% of the possible
// sequences of any one length, so that short lengths (only N sequences of length 1) are never
// held out entirely and training still sees every length.
#pragma once

#include "datasets/task.h"

namespace sg {

enum class SyntheticKind { copy, reverse, sort };

class SyntheticTask : public Task {
 public:
  // Throws std::invalid_argument naming --symbols, --min-len or --max-len if they are invalid.
  SyntheticTask(SyntheticKind kind, const TaskOptions& opt);

  std::string name() const override;
  const Vocab& src_vocab() const override { return vocab_; }
  const Vocab& tgt_vocab() const override { return vocab_; }
  TokenizeMode tokenize_mode() const override { return TokenizeMode::word; }
  int64_t max_src_len() const override { return opt_.max_len; }
  int64_t max_tgt_len() const override { return opt_.max_len; }
  // A target is as long as its source.
  LengthStats length_stats() const override { return {opt_.max_len, 1, 1}; }

  Example draw_train(Generator& g) const override;
  // Throws std::invalid_argument if n distinct examples do not fit the 10%-per-length limit.
  std::vector<Example> held_out(int64_t n, uint64_t seed) const override;

  // copy: src; reverse: src reversed; sort: src sorted ascending.
  std::vector<int64_t> target_for(const std::vector<int64_t>& src) const;
  SyntheticKind kind() const { return kind_; }

 private:
  std::vector<int64_t> draw_source(Generator& g, int64_t len) const;

  SyntheticKind kind_;
  TaskOptions opt_;
  Vocab vocab_;
};

}  // namespace sg
