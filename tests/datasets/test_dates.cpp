// The dates task: exact texts of every format, ordinals, weekdays against Zeller's congruence,
// every (date, format) parsed back by strptime to its ISO target, the fixed vocabulary, and a
// held-out set disjoint from training by date.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>
#include <unordered_set>

#include "datasets/dates.h"
#include "datasets/task_stream.h"

namespace sg {
namespace {

// Day index of a date, by counting from 1950-01-01 with the Gregorian leap rule.
int64_t day_index(int y, int m, int d) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const auto leap = [](int yy) { return (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0; };
  int64_t n = 0;
  for (int yy = 1950; yy < y; ++yy) n += leap(yy) ? 366 : 365;
  for (int mm = 1; mm < m; ++mm) n += kDays[mm - 1] + (mm == 2 && leap(y));
  return n + d - 1;
}

// Zeller's congruence, returned as 0 = Monday .. 6 = Sunday.
int zeller_weekday(int y, int m, int d) {
  if (m < 3) m += 12, y -= 1;
  const int K = y % 100, J = y / 100;
  const int h = (d + 13 * (m + 1) / 5 + K + K / 4 + J / 4 + 5 * J) % 7;  // 0 = Saturday
  return (h + 5) % 7;
}

TEST(Dates, RendersEveryFormatOfOneDate) {
  const int64_t k = day_index(2026, 11, 25);  // a Wednesday
  const char* want[DatesTask::kNumFormats] = {"25 November 2026",
                                              "nov 25, 2026",
                                              "25/11/2026",
                                              "Wednesday 25 Nov 2026",
                                              "November 25th, 2026",
                                              "25.11.26",
                                              "Wed, 25 Nov 2026",
                                              "the 25th of november 2026",
                                              "Wednesday, November 25, 2026",
                                              "25 NOV 2026",
                                              "25-Nov-2026",
                                              "NOVEMBER 25, 2026"};
  for (int f = 0; f < DatesTask::kNumFormats; ++f) EXPECT_EQ(DatesTask::render(k, f), want[f]);
  EXPECT_EQ(DatesTask::iso(k), "2026-11-25");
  EXPECT_EQ(DatesTask::render(day_index(1951, 3, 5), 5), "05.03.51");
  EXPECT_EQ(DatesTask::render(day_index(2049, 3, 5), 10), "05-Mar-2049");
  EXPECT_EQ(DatesTask::render(day_index(1999, 12, 9), 2), "9/12/1999");
  EXPECT_THROW(DatesTask::render(k, DatesTask::kNumFormats), std::out_of_range);
}

TEST(Dates, OrdinalSuffixes) {
  const std::pair<int, const char*> cases[] = {
      {1, "1st"},   {2, "2nd"},   {3, "3rd"},   {4, "4th"},   {11, "11th"}, {12, "12th"},
      {13, "13th"}, {21, "21st"}, {22, "22nd"}, {23, "23rd"}, {30, "30th"}, {31, "31st"}};
  for (const auto& [d, text] : cases)
    EXPECT_EQ(DatesTask::render(day_index(2001, 1, d), 4),
              std::string("January ") + text + ", 2001");
}

TEST(Dates, RangeAndWeekdaysMatchZeller) {
  EXPECT_EQ(DatesTask::iso(0), "1950-01-01");
  EXPECT_EQ(DatesTask::iso(DatesTask::kNumDays - 1), "2049-12-31");
  EXPECT_EQ(DatesTask::date_of(0).weekday, 6);  // a Sunday
  EXPECT_THROW(DatesTask::date_of(DatesTask::kNumDays), std::out_of_range);
  for (int64_t k = 0; k < DatesTask::kNumDays; ++k) {
    const auto t = DatesTask::date_of(k);
    ASSERT_EQ(day_index(t.year, t.month, t.day), k);
    ASSERT_EQ(t.weekday, zeller_weekday(t.year, t.month, t.day)) << DatesTask::iso(k);
  }
}

// Parses a rendered source back with strptime (C locale: names match case-insensitively).
struct Parsed {
  int year, month, day, weekday;  // weekday -1 if the format names none
};
Parsed parse(std::string s, int format) {
  static const char* kPattern[DatesTask::kNumFormats] = {
      "%d %B %Y",     "%b %d, %Y",       "%d/%m/%Y",      "%A %d %b %Y", "%B %d, %Y", nullptr,
      "%a, %d %b %Y", "the %d of %B %Y", "%A, %B %d, %Y", "%d %b %Y",    "%d-%b-%Y",  "%B %d, %Y"};
  if (format == 4 || format == 7) {  // drop the ordinal suffix after the day number
    for (const char* suffix : {"st", "nd", "rd", "th"}) {
      for (size_t p = s.find(suffix); p != std::string::npos; p = s.find(suffix, p + 1))
        if (p > 0 && std::isdigit(static_cast<unsigned char>(s[p - 1]))) s.erase(p, 2);
    }
  }
  if (format == 5) {  // dd.mm.yy: yy >= 50 is 19yy, else 20yy
    int d, m, yy;
    char rest;
    EXPECT_EQ(std::sscanf(s.c_str(), "%2d.%2d.%2d%c", &d, &m, &yy, &rest), 3) << s;
    return {yy >= 50 ? 1900 + yy : 2000 + yy, m, d, -1};
  }
  std::tm tm{};
  tm.tm_wday = -1;
  const char* end = strptime(s.c_str(), kPattern[format], &tm);
  EXPECT_TRUE(end != nullptr && *end == '\0') << "'" << s << "' format " << format;
  const int wd = tm.tm_wday < 0 ? -1 : (tm.tm_wday + 6) % 7;  // tm: 0 = Sunday
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, wd};
}

TEST(Dates, EveryFormatOfEveryDateParsesBackToItsIsoTarget) {
  for (int64_t k = 0; k < DatesTask::kNumDays; ++k) {
    const auto t = DatesTask::date_of(k);
    for (int f = 0; f < DatesTask::kNumFormats; ++f) {
      const Parsed p = parse(DatesTask::render(k, f), f);
      ASSERT_EQ(p.year, t.year) << DatesTask::render(k, f);
      ASSERT_EQ(p.month, t.month) << DatesTask::render(k, f);
      ASSERT_EQ(p.day, t.day) << DatesTask::render(k, f);
      ASSERT_EQ(DatesTask::iso(k), std::to_string(p.year) + (p.month < 10 ? "-0" : "-") +
                                       std::to_string(p.month) + (p.day < 10 ? "-0" : "-") +
                                       std::to_string(p.day));
      if (f == 3 || f == 6 || f == 8) {
        ASSERT_EQ(p.weekday, t.weekday) << DatesTask::render(k, f);
      }
    }
  }
}

TEST(Dates, FixedVocabularyCoversEveryTextAndTextsAreDistinct) {
  const DatesTask task;
  const Vocab& v = task.src_vocab();
  EXPECT_EQ(task.tgt_vocab(), v);
  EXPECT_EQ(v.id(Tokenizer::kSpaceToken), 4);
  std::unordered_set<std::string> texts;
  std::vector<Example> all;
  int64_t longest = 0;
  for (int64_t k = 0; k < DatesTask::kNumDays; ++k)
    for (int f = 0; f < DatesTask::kNumFormats; ++f) {
      Example e = task.example(k, f);
      for (const int64_t id : e.src) ASSERT_NE(id, Vocab::kUnk) << DatesTask::render(k, f);
      for (const int64_t id : e.tgt) ASSERT_NE(id, Vocab::kUnk);
      ASSERT_EQ(e.tgt.size(), 10u);
      longest = std::max<int64_t>(longest, static_cast<int64_t>(e.src.size()));
      texts.insert(DatesTask::render(k, f));
      all.push_back(std::move(e));
    }
  EXPECT_EQ(longest, task.max_src_len());
  // The task's length bounds are those of every text it can produce (the default decode limit's
  // basis): longest target 10, largest ratio 10 / 8.
  EXPECT_EQ(length_stats(all), task.length_stats());
  EXPECT_EQ(task.length_stats(), (LengthStats{10, 5, 4}));
  EXPECT_EQ(task.length_stats().ratio(), 1.25);
  EXPECT_EQ(texts.size(), static_cast<size_t>(DatesTask::kNumDays * DatesTask::kNumFormats));
}

TEST(Dates, ExamplesDecodeToTheirTexts) {
  const DatesTask task;
  const Tokenizer tok(TokenizeMode::character);
  const int64_t k = day_index(1987, 6, 3);
  const Example e = task.example(k, 8);
  EXPECT_EQ(tok.detokenize(task.src_vocab().decode(e.src)), "Wednesday, June 3, 1987");
  EXPECT_EQ(tok.detokenize(task.tgt_vocab().decode(e.tgt)), "1987-06-03");
}

TEST(Dates, HeldOutDatesNeverAppearInTraining) {
  int64_t held_days = 0;
  std::set<std::string> held_iso;
  for (int64_t k = 0; k < DatesTask::kNumDays; ++k)
    if (DatesTask::is_held_out_day(k)) ++held_days, held_iso.insert(DatesTask::iso(k));
  EXPECT_GT(held_days, DatesTask::kNumDays * 8 / 100);
  EXPECT_LT(held_days, DatesTask::kNumDays * 12 / 100);

  const auto task = make_task("dates");
  const Tokenizer tok(TokenizeMode::character);
  const auto iso_of = [&](const Example& e) {
    return tok.detokenize(task->tgt_vocab().decode(e.tgt));
  };
  TaskStream stream(task, 1000, 3);
  ASSERT_EQ(stream.held_out().size(), 1000u);
  std::set<std::vector<int64_t>> sources;
  for (const auto& e : stream.held_out()) {
    EXPECT_TRUE(held_iso.count(iso_of(e))) << iso_of(e);
    sources.insert(e.src);
  }
  EXPECT_EQ(sources.size(), 1000u);
  for (int i = 0; i < 20000; ++i) ASSERT_FALSE(held_iso.count(iso_of(stream.next())));
  EXPECT_EQ(task->held_out(50, 9), task->held_out(50, 9));
}

}  // namespace
}  // namespace sg
