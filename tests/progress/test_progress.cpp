// Progress: a bar redrawn in place with the rate and the time left (at most 10 times a second),
// fitted to the terminal's width; plain lines now and then when not on a terminal; nothing when
// quiet. A fake clock makes the figures exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "progress/progress.h"

namespace sg {
namespace {

struct Fixture {
  double t = 0;
  std::ostringstream out;
  ProgressOptions options(ProgressStyle style, int width = 100) {
    ProgressOptions o;
    o.style = style;
    o.out = &out;
    o.width = width;
    o.clock = [this] { return t; };
    return o;
  }
};

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + what.size())) ++n;
  return n;
}

// Code points, the width on a terminal.
int width(const std::string& s) {
  return static_cast<int>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

TEST(Progress, BarShowsCountPercentRateAndTimeLeft) {
  Fixture f;
  Progress p("train", 100, "steps", f.options(ProgressStyle::bar));
  f.t = 2;
  p.update(25);
  EXPECT_DOUBLE_EQ(p.rate(), 12.5);
  EXPECT_DOUBLE_EQ(p.seconds_left(), 6);
  const std::string line = p.bar_line(100);
  EXPECT_EQ(line.rfind("train  25% |", 0), 0u) << line;
  EXPECT_NE(line.find("| 25/100 steps \xC2\xB7 12.5 steps/s \xC2\xB7 0:06 left"), std::string::npos)
      << line;
  // 30 cells at 25%: 7.5 cells, seven full blocks and a half block.
  EXPECT_EQ(count(line, "\xE2\x96\x88"), 7) << line;
  EXPECT_EQ(count(line, "\xE2\x96\x8C"), 1) << line;
}

TEST(Progress, BarIsRedrawnInPlaceAtMostTenTimesASecond) {
  Fixture f;
  Progress p("eval", 1000, "sequences", f.options(ProgressStyle::bar));
  EXPECT_EQ(count(f.out.str(), "\r"), 1);  // drawn at once, at 0
  f.t = 1;
  p.update(10);
  EXPECT_EQ(count(f.out.str(), "\r"), 2);
  f.t = 1.05;
  p.update(11);  // too soon
  EXPECT_EQ(count(f.out.str(), "\r"), 2);
  f.t = 1.2;
  p.update(12);
  EXPECT_EQ(count(f.out.str(), "\r"), 3);
  f.t = 1.21;
  p.update(1000);  // the end is always drawn
  EXPECT_EQ(count(f.out.str(), "\r"), 4);
  // Every draw returns to the line's start and erases what a longer line left there.
  EXPECT_EQ(count(f.out.str(), "\x1b[K"), 4);
  EXPECT_EQ(f.out.str().find('\n'), std::string::npos);
  p.finish();
  EXPECT_EQ(f.out.str().back(), '\n');  // left on screen
  EXPECT_NE(f.out.str().find("1000/1000 sequences"), std::string::npos);
}

TEST(Progress, BarFitsTheTerminal) {
  Fixture f;
  Progress p("train", 3000, "steps", f.options(ProgressStyle::bar, 60));
  f.t = 10;
  p.update(1234);
  p.set_note("loss 0.0123  lr 0.000712  10234 tok/s");
  for (int columns : {200, 100, 60, 40, 20}) {
    const std::string line = p.bar_line(columns);
    EXPECT_LE(width(line), columns - 1) << columns << ": " << line;
    EXPECT_EQ(line.rfind("train", 0), 0u) << line;
  }
  // Wide enough: the bar and the whole note; less wide: the note's last parts go first, then the
  // bar; the figures stay.
  EXPECT_NE(p.bar_line(200).find("|"), std::string::npos);
  EXPECT_NE(p.bar_line(200).find("10234 tok/s"), std::string::npos);
  EXPECT_NE(p.bar_line(100).find("|"), std::string::npos) << p.bar_line(100);
  EXPECT_NE(p.bar_line(100).find("loss 0.0123  lr 0.000712"), std::string::npos) << p.bar_line(100);
  EXPECT_EQ(p.bar_line(100).find("tok/s"), std::string::npos) << p.bar_line(100);
  EXPECT_EQ(p.bar_line(60).find("|"), std::string::npos) << p.bar_line(60);
  EXPECT_NE(p.bar_line(60).find("1234/3000"), std::string::npos) << p.bar_line(60);
}

TEST(Progress, UnknownTotalShowsCountRateAndTimeSoFar) {
  Fixture f;
  Progress p("translate", 0, "lines", f.options(ProgressStyle::bar));
  f.t = 65;
  p.update(130);
  const std::string line = p.bar_line(100);
  EXPECT_EQ(line, "translate 130 lines \xC2\xB7 2.00 lines/s \xC2\xB7 1:05");
  EXPECT_LT(p.seconds_left(), 0);
}

TEST(Progress, RateCountsOnlyTheWorkOfThisRun) {
  Fixture f;
  Progress p("train", 3000, "steps", f.options(ProgressStyle::bar), 500);  // resumed at 500
  f.t = 10;
  p.update(600);
  EXPECT_DOUBLE_EQ(p.rate(), 10);
  EXPECT_DOUBLE_EQ(p.seconds_left(), 240);
  EXPECT_NE(p.status().find("4:00 left"), std::string::npos) << p.status();
}

TEST(Progress, PrintErasesTheBarWritesTheLineAndRedrawsIt) {
  Fixture f;
  std::ostringstream log;
  Progress p("train", 10, "steps", f.options(ProgressStyle::bar));
  f.t = 1;
  p.update(5);
  f.out.str("");
  p.print("eval step 5  loss 1.0", log);
  EXPECT_EQ(log.str(), "eval step 5  loss 1.0\n");
  EXPECT_EQ(f.out.str().rfind("\r\x1b[K\r", 0), 0u) << f.out.str();  // erased, then redrawn
  EXPECT_NE(f.out.str().find("5/10 steps"), std::string::npos);
}

TEST(Progress, BarNotLeftIsErased) {
  Fixture f;
  ProgressOptions o = f.options(ProgressStyle::bar);
  o.leave = false;
  {
    Progress p("eval", 10, "sequences", o);
    p.update(10);
  }  // the destructor finishes it
  const std::string s = f.out.str();
  EXPECT_EQ(s.substr(s.size() - 4), "\r\x1b[K");
  EXPECT_EQ(s.find('\n'), std::string::npos);
}

TEST(Progress, AsciiWithoutAUtf8Locale) {
  Fixture f;
  ProgressOptions o = f.options(ProgressStyle::bar);
  o.unicode = false;
  Progress p("train", 8, "steps", o);
  f.t = 1;
  p.update(4);
  p.finish();
  const std::string s = f.out.str();
  EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; })) << s;
  EXPECT_NE(p.bar_line(100).find("|###############               |"), std::string::npos)
      << p.bar_line(100);
}

TEST(Progress, LinesAreWrittenNowAndThenWithoutRedrawing) {
  Fixture f;
  ProgressOptions o = f.options(ProgressStyle::lines);
  o.line_every_s = 30;
  Progress p("eval", 1000, "sequences", o);
  f.t = 10;
  p.update(100);
  EXPECT_EQ(f.out.str(), "");  // short work stays quiet
  f.t = 31;
  p.update(310);
  EXPECT_EQ(f.out.str(), "eval 310/1000 sequences (31%), 10.0 sequences/s, 1:09 left\n");
  f.t = 40;
  p.update(400);
  EXPECT_EQ(count(f.out.str(), "\n"), 1);
  f.t = 100;
  p.update(1000);
  p.finish();
  EXPECT_EQ(count(f.out.str(), "\n"), 3);
  EXPECT_NE(f.out.str().find("eval 1000/1000 sequences (100%) in 1:40, 10.0 sequences/s\n"),
            std::string::npos)
      << f.out.str();
  EXPECT_EQ(f.out.str().find('\r'), std::string::npos);
  EXPECT_EQ(f.out.str().find('\x1b'), std::string::npos);
}

TEST(Progress, ShortWorkInLinesStyleWritesNothing) {
  Fixture f;
  Progress p("eval", 10, "sequences", f.options(ProgressStyle::lines));
  f.t = 1;
  p.update(10);
  p.finish();
  EXPECT_EQ(f.out.str(), "");
}

TEST(Progress, QuietWritesNothing) {
  Fixture f;
  Progress p("train", 10, "steps", f.options(ProgressStyle::quiet));
  std::ostringstream log;
  for (int i = 1; i <= 10; ++i) {
    f.t += 100;
    p.update(i);
  }
  p.print("a line", log);
  p.finish();
  EXPECT_EQ(f.out.str(), "");
  EXPECT_EQ(log.str(), "a line\n");
}

TEST(Progress, AutomaticIsQuietWhenAsked) {
  EXPECT_EQ(ProgressOptions::automatic(true).style, ProgressStyle::quiet);
}

TEST(Progress, ClockFormat) {
  EXPECT_EQ(format_clock(0), "0:00");
  EXPECT_EQ(format_clock(75), "1:15");
  EXPECT_EQ(format_clock(3725), "1:02:05");
  EXPECT_EQ(format_clock(-3), "0:00");
}

}  // namespace
}  // namespace sg
