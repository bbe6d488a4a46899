// Random access to a fixed list of training examples by index, each one's lengths known without
// fetching it (length bucketing sorts by them). ExampleList holds the examples in memory;
// TsvExamples (tsv_examples.h) re-reads them from their file, for corpora too large to hold.
#pragma once

#include <cstdint>
#include <vector>

#include "datasets/example.h"

namespace sg {

class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  virtual int64_t size() const = 0;
  // Tokens of example i's source and target (no <bos> or <eos>), 0 <= i < size().
  virtual int64_t src_len(int64_t i) const = 0;
  virtual int64_t tgt_len(int64_t i) const = 0;
  virtual Example get(int64_t i) const = 0;
};

class ExampleList final : public ExampleSource {
 public:
  explicit ExampleList(std::vector<Example> examples) : examples_(std::move(examples)) {}
  int64_t size() const override { return static_cast<int64_t>(examples_.size()); }
  int64_t src_len(int64_t i) const override { return static_cast<int64_t>(at(i).src.size()); }
  int64_t tgt_len(int64_t i) const override { return static_cast<int64_t>(at(i).tgt.size()); }
  Example get(int64_t i) const override { return at(i); }
  const std::vector<Example>& examples() const { return examples_; }

 private:
  const Example& at(int64_t i) const { return examples_[static_cast<size_t>(i)]; }
  std::vector<Example> examples_;
};

// The lengths of every example of a source (example.h), from its lengths alone.
inline LengthStats length_stats(const ExampleSource& data) {
  return length_stats(
      data.size(), [&](int64_t i) { return data.src_len(i); },
      [&](int64_t i) { return data.tgt_len(i); });
}

}  // namespace sg
