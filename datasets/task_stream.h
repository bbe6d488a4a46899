// An endless stream of training examples of a Task, disjoint from its held-out set.
// The held-out set is drawn once from a fixed seed (the same for every --seed, so evaluations
// compare across runs); training examples come from a Generator whose state is the whole data
// position of a run (saved in checkpoints under /data). A drawn example whose source is in the
// held-out set is skipped and redrawn.
#pragma once

#include <memory>
#include <set>
#include <vector>

#include "datasets/task.h"

namespace sg {

class TaskStream {
 public:
  static constexpr uint64_t kHeldOutSeed = 0x5EEDD47A;

  TaskStream(std::shared_ptr<const Task> task, int64_t n_held_out, uint64_t seed,
             uint64_t held_out_seed = kHeldOutSeed);

  // The next training example. Throws std::runtime_error if 100000 draws in a row all hit the
  // held-out set (a task too small for its held-out set).
  Example next();

  const std::vector<Example>& held_out() const { return held_out_; }
  bool in_held_out(const std::vector<int64_t>& src) const { return held_src_.count(src) != 0; }
  const Task& task() const { return *task_; }
  // The data position: save generator().state(), restore with generator().set_state().
  Generator& generator() { return gen_; }

 private:
  std::shared_ptr<const Task> task_;
  std::vector<Example> held_out_;
  std::set<std::vector<int64_t>> held_src_;
  Generator gen_;
};

}  // namespace sg
