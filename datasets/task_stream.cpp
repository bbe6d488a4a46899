#include "datasets/task_stream.h"

#include <stdexcept>

namespace sg {

TaskStream::TaskStream(std::shared_ptr<const Task> task, int64_t n_held_out, uint64_t seed,
                       uint64_t held_out_seed)
    : task_(std::move(task)), gen_(seed) {
  if (n_held_out < 0)
    throw std::invalid_argument("held-out set size must be >= 0, got " +
                                std::to_string(n_held_out));
  held_out_ = task_->held_out(n_held_out, held_out_seed);
  for (const auto& e : held_out_) held_src_.insert(e.src);
}

Example TaskStream::next() {
  for (int attempt = 0; attempt < 100000; ++attempt) {
    Example e = task_->draw_train(gen_);
    if (!in_held_out(e.src)) return e;
  }
  throw std::runtime_error("task " + task_->name() +
                           ": 100000 draws in a row fell in the held-out set");
}

}  // namespace sg
