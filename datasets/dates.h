// The dates task: a character-level toy translation of dates written in 12 human formats into
// ISO 8601, e.g. "Wednesday 25 Nov 2026" -> "2026-11-25", for dates 1950-01-01..2049-12-31.
//
//   0 "25 November 2026"         4 "November 25th, 2026"         8 "Wednesday, November 25, 2026"
//   1 "nov 25, 2026"             5 "25.11.26"                    9 "25 NOV 2026"
//   2 "25/11/2026"               6 "Wed, 25 Nov 2026"           10 "25-Nov-2026"
//   3 "Wednesday 25 Nov 2026"    7 "the 25th of november 2026"  11 "NOVEMBER 25, 2026"
//
// Every numeric format puts the day first (never the US month/day order), and a two-digit year
// yy means 19yy for yy >= 50 and 20yy otherwise, so each source names exactly one date.
// Weekday names are computed from the calendar. Both sides are tokenized per character with a
// space as "▁" (see tokenizer.h), over one fixed vocabulary holding every character that can
// occur. Held-out dates are a fixed ~10% of days chosen by a hash of the date: a held-out date
// never appears in training, in any format.
#pragma once

#include <string>

#include "datasets/task.h"

namespace sg {

class DatesTask : public Task {
 public:
  static constexpr int64_t kNumDays = 36525;  // 1950-01-01 .. 2049-12-31
  static constexpr int kNumFormats = 12;

  DatesTask();

  std::string name() const override { return "dates"; }
  const Vocab& src_vocab() const override { return vocab_; }
  const Vocab& tgt_vocab() const override { return vocab_; }
  TokenizeMode tokenize_mode() const override { return TokenizeMode::character; }
  int64_t max_src_len() const override;
  int64_t max_tgt_len() const override { return 10; }
  LengthStats length_stats() const override;  // ratio: 10 over the shortest source

  // A random format of a random date outside the held-out days.
  Example draw_train(Generator& g) const override;
  // Random formats of random held-out days, distinct sources. Throws std::invalid_argument if
  // n exceeds the number of distinct held-out sources.
  std::vector<Example> held_out(int64_t n, uint64_t seed) const override;

  // Day index 0 = 1950-01-01. The date of a day as year, month (1-12), day (1-31) and weekday
  // (0 = Monday .. 6 = Sunday).
  struct Date {
    int year, month, day, weekday;
  };
  static Date date_of(int64_t day_index);
  static bool is_held_out_day(int64_t day_index);
  // The text of a day in one format (0 <= format < kNumFormats), and its ISO form.
  static std::string render(int64_t day_index, int format);
  static std::string iso(int64_t day_index);
  Example example(int64_t day_index, int format) const;

 private:
  Vocab vocab_;
  Tokenizer tok_{TokenizeMode::character};
};

}  // namespace sg
