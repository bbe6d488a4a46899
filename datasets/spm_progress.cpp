#include "datasets/spm_progress.h"

#include <algorithm>

#include "progress/progress.h"

namespace sg {

SpmLogProgress::SpmLogProgress(Progress* progress, int64_t vocab_size)
    : progress_(progress), vocab_size_(vocab_size) {}

int64_t SpmLogProgress::rounds_left(int64_t size, int64_t vocab_size) {
  // The trainer's desired size is vocab_size * 1.1 (its integer part); it prunes by 3/4 a
  // round, never below that.
  const auto desired = static_cast<int64_t>(static_cast<double>(vocab_size) * 1.1);
  int64_t rounds = 1;
  for (int64_t s = size; s > desired; ++rounds)
    s = std::max(desired, static_cast<int64_t>(static_cast<double>(s) * 0.75));
  return rounds;
}

void SpmLogProgress::write(std::string_view text) {
  pending_.append(text);
  size_t start = 0;
  for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
    line(std::string_view(pending_).substr(start, nl - start));
  pending_.erase(0, start);
}

void SpmLogProgress::line(std::string_view l) {
  constexpr std::string_view kRound = "EM sub_iter=0 size=";
  const size_t at = l.find(kRound);
  if (at == std::string_view::npos) return;
  int64_t size = 0;
  for (size_t i = at + kRound.size(); i < l.size() && l[i] >= '0' && l[i] <= '9'; ++i)
    size = size * 10 + (l[i] - '0');
  // This round starts: the ones before it are done.
  if (total_ > 0) ++done_;
  total_ = done_ + rounds_left(size, vocab_size_);
  if (progress_) {
    progress_->set_total(total_);
    progress_->update(done_);
  }
}

void SpmLogProgress::finish() {
  if (total_ > 0) done_ = total_;
  if (progress_ && total_ > 0) {
    progress_->set_total(total_);
    progress_->update(done_);
  }
}

}  // namespace sg
