// Progress of SentencePiece's unigram training, read from the trainer's own log (the library
// has no progress hook). The trainer starts from a seed vocabulary of S pieces and runs rounds
// of EM, each round ending by pruning to max(D, S * 3/4) pieces, until at most D = 1.1 x the
// vocabulary size remain; its log line "EM sub_iter=0 size=S ..." opens each round. So, with
// S known, the rounds left are 1 + ceil(log(S / D) / log(4/3)) (one when S <= D), and the
// position in rounds is a real measure of the work done: every round costs about the same,
// EM over the same sentences.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sg {

class Progress;

// Feeds log text to a Progress: give it the trainer's log in any pieces, line by line.
class SpmLogProgress {
 public:
  SpmLogProgress(Progress* progress, int64_t vocab_size);
  void write(std::string_view text);  // appends text; complete lines are read
  // The training ended: every round done.
  void finish();

  int64_t rounds_done() const { return done_; }
  int64_t rounds_total() const { return total_; }  // 0 before the first round
  // Rounds from a round of `size` pieces to the end, for a vocabulary of vocab_size.
  static int64_t rounds_left(int64_t size, int64_t vocab_size);

 private:
  void line(std::string_view l);

  Progress* progress_;
  int64_t vocab_size_;
  std::string pending_;  // text after the last newline
  int64_t done_ = 0, total_ = 0;
};

}  // namespace sg
