// A generated task (docs/data.md): copy, reverse, sort or dates. A task draws training
// examples and builds its held-out set; TaskStream (task_stream.h) turns it into an endless,
// checkpointable stream of training examples that never contains a held-out example.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/random.h"
#include "datasets/example.h"
#include "datasets/tokenizer.h"
#include "datasets/vocab.h"

namespace sg {

// Options of the synthetic tasks (ignored by dates).
struct TaskOptions {
  int64_t symbols = 10;  // --symbols N: tokens "0".."N-1"
  int64_t min_len = 1;   // --min-len
  int64_t max_len = 10;  // --max-len
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual const Vocab& src_vocab() const = 0;
  virtual const Vocab& tgt_vocab() const = 0;
  // How source and target token lists are written as text (translate input and output).
  virtual TokenizeMode tokenize_mode() const = 0;
  // Longest source and target (in tokens, without <bos>/<eos>) the task can produce.
  virtual int64_t max_src_len() const = 0;
  virtual int64_t max_tgt_len() const = 0;
  // max_tgt_len() and the largest target length / source length of any example the task can
  // produce: the lengths of its training data (the default decode limit's basis).
  virtual LengthStats length_stats() const = 0;

  // One training candidate. TaskStream still rejects candidates whose source is in the held-out
  // set, so a task only needs to keep its own held-out region out (dates does, by date).
  virtual Example draw_train(Generator& g) const = 0;
  // n held-out examples with distinct sources, a pure function of (n, seed).
  virtual std::vector<Example> held_out(int64_t n, uint64_t seed) const = 0;
};

// "copy", "reverse", "sort" or "dates"; anything else (including "tsv") throws
// std::invalid_argument("unknown task 'x' (expected copy, reverse, sort or dates)"). Invalid
// options throw std::invalid_argument naming the option.
std::shared_ptr<const Task> make_task(const std::string& name, const TaskOptions& opt = {});

}  // namespace sg
