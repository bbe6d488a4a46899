#include "datasets/dates.h"

#include <chrono>
#include <cstdio>
#include <numeric>
#include <set>
#include <stdexcept>

namespace sg {

namespace chr = std::chrono;

static const char* const kMonths[12] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
static const char* const kWeekdays[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
// Longest source over all formats: "Wednesday, September 25, 2026" (checked by a test).
static constexpr int64_t kMaxSourceChars = 29;
// Shortest: "1/1/1950" and every "25.11.26" (checked by the same test).
static constexpr int64_t kMinSourceChars = 8;

static std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}
static std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}
static std::string ordinal(int d) {
  const char* suffix = "th";
  if (d % 100 < 11 || d % 100 > 13) {
    if (d % 10 == 1) suffix = "st";
    if (d % 10 == 2) suffix = "nd";
    if (d % 10 == 3) suffix = "rd";
  }
  return std::to_string(d) + suffix;
}
static std::string two_digits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v % 100);
  return buf;
}

DatesTask::DatesTask() {
  // Every character any format can produce: space, digits, letters, and , . / -
  std::vector<std::string> chars = {Tokenizer::kSpaceToken};
  for (char c = '0'; c <= '9'; ++c) chars.emplace_back(1, c);
  for (char c = 'a'; c <= 'z'; ++c) chars.emplace_back(1, c);
  for (char c = 'A'; c <= 'Z'; ++c) chars.emplace_back(1, c);
  for (const char* p : {",", ".", "/", "-"}) chars.emplace_back(p);
  vocab_ = Vocab::from_tokens(chars);
}

int64_t DatesTask::max_src_len() const {
  return kMaxSourceChars;
}

LengthStats DatesTask::length_stats() const {
  const int64_t g = std::gcd(max_tgt_len(), kMinSourceChars);  // the ratio in lowest terms
  return {max_tgt_len(), max_tgt_len() / g, kMinSourceChars / g};
}

DatesTask::Date DatesTask::date_of(int64_t day_index) {
  if (day_index < 0 || day_index >= kNumDays)
    throw std::out_of_range("dates: day index " + std::to_string(day_index) + " outside [0, " +
                            std::to_string(kNumDays) + ")");
  const chr::sys_days first = chr::year{1950} / chr::January / 1;
  const chr::sys_days sd = first + chr::days{day_index};
  const chr::year_month_day ymd{sd};
  const chr::weekday wd{sd};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())),
          static_cast<int>(wd.iso_encoding()) - 1};
}

bool DatesTask::is_held_out_day(int64_t day_index) {
  // splitmix64 finalizer of the day: a fixed pseudo-random 10% of all days.
  uint64_t z = static_cast<uint64_t>(day_index) + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z % 10 == 0;
}

std::string DatesTask::render(int64_t day_index, int format) {
  const Date t = date_of(day_index);
  const std::string Y = std::to_string(t.year), d = std::to_string(t.day);
  const std::string month = kMonths[t.month - 1], mon = month.substr(0, 3);
  const std::string weekday = kWeekdays[t.weekday], wkd = weekday.substr(0, 3);
  switch (format) {
    case 0:
      return d + " " + month + " " + Y;
    case 1:
      return lower(mon) + " " + d + ", " + Y;
    case 2:
      return d + "/" + std::to_string(t.month) + "/" + Y;
    case 3:
      return weekday + " " + d + " " + mon + " " + Y;
    case 4:
      return month + " " + ordinal(t.day) + ", " + Y;
    case 5:
      return two_digits(t.day) + "." + two_digits(t.month) + "." + two_digits(t.year);
    case 6:
      return wkd + ", " + d + " " + mon + " " + Y;
    case 7:
      return "the " + ordinal(t.day) + " of " + lower(month) + " " + Y;
    case 8:
      return weekday + ", " + month + " " + d + ", " + Y;
    case 9:
      return d + " " + upper(mon) + " " + Y;
    case 10:
      return two_digits(t.day) + "-" + mon + "-" + Y;
    case 11:
      return upper(month) + " " + d + ", " + Y;
  }
  throw std::out_of_range("dates: format " + std::to_string(format) + " outside [0, " +
                          std::to_string(kNumFormats) + ")");
}

std::string DatesTask::iso(int64_t day_index) {
  const Date t = date_of(day_index);
  return std::to_string(t.year) + "-" + two_digits(t.month) + "-" + two_digits(t.day);
}

Example DatesTask::example(int64_t day_index, int format) const {
  return {vocab_.encode(tok_.tokenize(render(day_index, format))),
          vocab_.encode(tok_.tokenize(iso(day_index)))};
}

Example DatesTask::draw_train(Generator& g) const {
  int64_t day;
  do day = static_cast<int64_t>(g.below(kNumDays));
  while (is_held_out_day(day));
  return example(day, static_cast<int>(g.below(kNumFormats)));
}

std::vector<Example> DatesTask::held_out(int64_t n, uint64_t seed) const {
  int64_t held_days = 0;
  for (int64_t k = 0; k < kNumDays; ++k) held_days += is_held_out_day(k);
  // Every (day, format) pair is a distinct text (a test checks it), so this many exist.
  const int64_t capacity = held_days * kNumFormats;
  if (n > capacity)
    throw std::invalid_argument("task dates: a held-out set of " + std::to_string(n) +
                                " examples exceeds the " + std::to_string(capacity) +
                                " held-out date texts");
  Generator g(seed);
  std::set<std::pair<int64_t, int>> seen;
  std::vector<Example> out;
  while (static_cast<int64_t>(out.size()) < n) {
    const auto day = static_cast<int64_t>(g.below(kNumDays));
    if (!is_held_out_day(day)) continue;
    const int format = static_cast<int>(g.below(kNumFormats));
    if (!seen.insert({day, format}).second) continue;
    out.push_back(example(day, format));
  }
  return out;
}

}  // namespace sg
