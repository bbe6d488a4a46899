// Progress of long work (training, evaluation, translating a file, training a SentencePiece
// model), shown the way a person at a terminal expects and a log file can hold:
//   bar    stderr is a terminal: one line on stderr redrawn in place (at most 10 times a second)
//            train  42% |██████████▋              | 1250/3000 steps · 21.3 steps/s · 1:22 left ·
//            loss 0.0123
//          with an unknown total (input from a pipe): the count, the rate and the time so far.
//   lines  stderr is not a terminal (a log file, CI): a plain line every `line_every_s` seconds,
//          and a last one when the work ends if any was written before, so short work stays quiet:
//            train 1250/3000 steps (42%), 21.3 steps/s, 1:22 left, loss 0.0123
//   quiet  --json (stdout holds only the JSON lines, stderr only the one error line): nothing.
// The rate is the work done since the start over the time since the start (pauses included, so
// the time left is honest), the time left the rest of the work at that rate.
//
// Use, e.g. from a loop over the lines of a corpus:
//   Progress p("spm", total_lines, "lines", ProgressOptions::automatic(json));
//   for (...) { ...; p.add(1); }
//   p.finish();
// A line printed while a bar is shown goes through p.print(), which erases the bar, prints and
// redraws it; clear() erases it until the next update (while another bar is shown on its line).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

namespace sg {

enum class ProgressStyle { bar, lines, quiet };

struct ProgressOptions {
  ProgressStyle style = ProgressStyle::quiet;
  // Where the bar or the lines go. nullptr: stderr, through the stream buffer std::cerr has when
  // the Progress is made, so that the bar still draws while a library's output to std::cerr is
  // captured (SentencePiece training's log is read that way, datasets/spm_progress.h).
  std::ostream* out = nullptr;
  bool leave = true;              // bar: keep the finished bar on screen (false: erase it)
  double redraw_every_s = 0.1;    // bar
  double line_every_s = 30;       // lines
  int width = 0;                  // columns; 0: the terminal's (stderr), else $COLUMNS, else 80
  bool unicode = true;            // block characters; false: '#' (a locale that is not UTF-8)
  std::function<double()> clock;  // seconds from any fixed point; empty: std::steady_clock

  // bar when stderr is a terminal, lines when it is not, quiet when `quiet` (--json); unicode
  // when the locale (LC_ALL, LC_CTYPE or LANG, the first that is set) is UTF-8.
  static ProgressOptions automatic(bool quiet);
};

class Progress {
 public:
  // total <= 0: unknown. `start`: work done before (a resumed run), not counted in the rate.
  Progress(std::string label, int64_t total, std::string unit, ProgressOptions options,
           int64_t start = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(int64_t done);  // the position, absolute
  void add(int64_t n = 1) { update(done_ + n); }
  void set_total(int64_t total);
  // Text shown after the time left, e.g. the latest loss; empty: none.
  void set_note(std::string note);
  // Writes `line` and a newline to `to`, erasing the bar before and redrawing it after.
  void print(const std::string& line, std::ostream& to);
  // Erases the bar; the next update draws it again.
  void clear();
  // The end: the bar drawn once more and left on its line (or erased without `leave`); in lines
  // style a last line if any was written. Called by the destructor if not before.
  void finish();

  int64_t done() const { return done_; }
  double rate() const;          // units per second since the start; 0 before any time passed
  double seconds_left() const;  // negative when unknown
  // The bar's line without the bar itself, e.g. "1250/3000 steps · 21.3 steps/s · 1:22 left".
  std::string status() const;
  // The line as drawn now (bar style, `columns` wide at most) or written (lines style).
  std::string bar_line(int columns) const;
  std::string log_line() const;

 private:
  double now() const;
  std::string rate_text() const;            // "21.3 steps/s"
  std::string separator() const;            // " · ", or ", " in ASCII
  std::string core_status() const;          // status() without the note
  std::string note_within(int room) const;  // the separator and as much of the note as fits
  void draw();
  int columns() const;

  std::string label_, unit_, note_;
  int64_t total_, start_, done_;
  ProgressOptions opt_;
  std::unique_ptr<std::ostream> stderr_;  // on std::cerr's buffer, when opt_.out is null
  std::ostream* out_;
  double t0_, last_draw_, last_line_;
  bool shown_ = false, lines_written_ = false, finished_ = false;
};

// 75 -> "1:15", 3725 -> "1:02:05".
std::string format_clock(double seconds);

}  // namespace sg
