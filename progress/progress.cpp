#include "progress/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string_view>

namespace sg {

namespace {

// Code points of a UTF-8 string: its width on a terminal, for the characters used here.
int text_width(std::string_view s) {
  int n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

// The longest prefix of at most `width` code points.
std::string cut_to_width(const std::string& s, int width) {
  int n = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && n++ == width) return s.substr(0, i);
  return s;
}

bool locale_is_utf8() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    std::string s(v);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s.find("utf-8") != std::string::npos || s.find("utf8") != std::string::npos;
  }
  return false;
}

// 21.3, 0.42, 12.3k: three significant digits or so.
std::string format_rate(double r) {
  char buf[32];
  if (r >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1fM", r / 1e6);
  else if (r >= 1e4)
    std::snprintf(buf, sizeof buf, "%.1fk", r / 1e3);
  else if (r >= 100)
    std::snprintf(buf, sizeof buf, "%.0f", r);
  else if (r >= 10)
    std::snprintf(buf, sizeof buf, "%.1f", r);
  else
    std::snprintf(buf, sizeof buf, "%.2f", r);
  return buf;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string format_clock(double seconds) {
  const long t = std::lround(std::max(seconds, 0.0));
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

ProgressOptions ProgressOptions::automatic(bool quiet) {
  ProgressOptions o;
  o.style = quiet                          ? ProgressStyle::quiet
            : ::isatty(STDERR_FILENO) != 0 ? ProgressStyle::bar
                                           : ProgressStyle::lines;
  o.unicode = locale_is_utf8();
  return o;
}

Progress::Progress(std::string label, int64_t total, std::string unit, ProgressOptions options,
                   int64_t start)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_(start),
      done_(start),
      opt_(std::move(options)),
      stderr_(opt_.out ? nullptr : std::make_unique<std::ostream>(std::cerr.rdbuf())),
      out_(opt_.out ? opt_.out : stderr_.get()) {
  t0_ = last_draw_ = last_line_ = now();
  if (opt_.style == ProgressStyle::bar) draw();
}

Progress::~Progress() {
  try {
    finish();
  } catch (...) {
  }
}

double Progress::now() const {
  return opt_.clock ? opt_.clock() : steady_seconds();
}

double Progress::rate() const {
  const double dt = now() - t0_;
  return dt > 0 ? static_cast<double>(done_ - start_) / dt : 0.0;
}

double Progress::seconds_left() const {
  const double r = rate();
  if (total_ <= 0 || r <= 0) return -1;
  return static_cast<double>(std::max<int64_t>(total_ - done_, 0)) / r;
}

std::string Progress::rate_text() const {
  const double r = rate();
  std::string s = r > 0 ? format_rate(r) : "?";
  s.append(" ").append(unit_).append("/s");
  return s;
}

std::string Progress::separator() const {
  return opt_.unicode ? " \xC2\xB7 " : ", ";
}

std::string Progress::core_status() const {
  const std::string sep = separator();
  std::string s = std::to_string(done_);
  if (total_ > 0) s.append("/").append(std::to_string(total_));
  s.append(" ").append(unit_).append(sep);
  s += rate_text() + sep;
  const double left = seconds_left();
  if (finished_ || total_ <= 0)
    s += format_clock(now() - t0_);
  else
    s += (left >= 0 ? format_clock(left) : std::string("?")) + " left";
  return s;
}

std::string Progress::status() const {
  return note_.empty() ? core_status() : core_status() + separator() + note_;
}

std::string Progress::note_within(int room) const {
  // Parts of the note (separated by two spaces) are left out from its end until it fits.
  std::string n = note_;
  const int sep = text_width(separator());
  while (!n.empty() && sep + text_width(n) > room) {
    const size_t cut = n.rfind("  ");
    n = cut == std::string::npos ? std::string() : n.substr(0, cut);
  }
  return n.empty() ? n : separator() + n;
}

std::string Progress::bar_line(int columns) const {
  const int usable = std::max(columns - 1, 10);  // the last column would wrap on some terminals
  std::string head = label_;
  const std::string core = core_status();
  auto without_bar = [&] {
    return cut_to_width(
        head + " " + core + note_within(usable - text_width(head) - 1 - text_width(core)), usable);
  };
  if (total_ <= 0) return without_bar();
  const double frac =
      std::clamp(static_cast<double>(done_) / static_cast<double>(total_), 0.0, 1.0);
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100));
  head.append(" ").append(pct);
  // The bar takes 10 to 30 cells, the note what is left.
  const int room = usable - text_width(head) - text_width(core) - 4;
  if (room < 10) return without_bar();
  const std::string note = note_within(room - 10);
  const int bar = std::min(30, room - text_width(note));
  // Eighths of a cell: U+2588 FULL BLOCK, then U+258F..U+2589 for 1/8..7/8.
  static const char* const kEighths[] = {"",
                                         "\xE2\x96\x8F",
                                         "\xE2\x96\x8E",
                                         "\xE2\x96\x8D",
                                         "\xE2\x96\x8C",
                                         "\xE2\x96\x8B",
                                         "\xE2\x96\x8A",
                                         "\xE2\x96\x89"};
  const int eighths = static_cast<int>(frac * bar * 8);
  std::string cells;
  int used = 0;
  if (opt_.unicode) {
    for (int i = 0; i < eighths / 8; ++i) cells += "\xE2\x96\x88";
    used = eighths / 8;
    if (eighths % 8 != 0 && used < bar) {
      cells += kEighths[eighths % 8];
      ++used;
    }
  } else {
    used = eighths / 8;
    cells.assign(used, '#');
  }
  cells.append(bar - used, ' ');
  return cut_to_width(head + " |" + cells + "| " + core + note, usable);
}

std::string Progress::log_line() const {
  std::string s = label_ + " " + std::to_string(done_);
  if (total_ > 0) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " (%d%%)",
                  static_cast<int>(
                      100.0 * std::clamp(static_cast<double>(done_) / static_cast<double>(total_),
                                         0.0, 1.0)));
    s.append("/").append(std::to_string(total_)).append(" ").append(unit_).append(pct);
  } else {
    s += " " + unit_;
  }
  const std::string per_s = rate_text();
  if (finished_) {
    s += " in " + format_clock(now() - t0_) + ", " + per_s;
  } else {
    s += ", " + per_s;
    const double left = seconds_left();
    if (left >= 0) s += ", " + format_clock(left) + " left";
  }
  if (!note_.empty()) s += ", " + note_;
  return s;
}

int Progress::columns() const {
  if (opt_.width > 0) return opt_.width;
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const int n = std::atoi(c);
    if (n > 0) return n;
  }
  return 80;
}

void Progress::draw() {
  *out_ << '\r' << bar_line(columns()) << "\x1b[K" << std::flush;
  shown_ = true;
  last_draw_ = now();
}

void Progress::update(int64_t done) {
  done_ = done;
  if (finished_) return;
  if (opt_.style == ProgressStyle::bar) {
    if (!shown_ || now() - last_draw_ >= opt_.redraw_every_s || done_ == total_) draw();
  } else if (opt_.style == ProgressStyle::lines && now() - last_line_ >= opt_.line_every_s) {
    *out_ << log_line() << std::endl;
    last_line_ = now();
    lines_written_ = true;
  }
}

void Progress::set_total(int64_t total) {
  total_ = total;
}

void Progress::set_note(std::string note) {
  note_ = std::move(note);
}

void Progress::clear() {
  if (opt_.style != ProgressStyle::bar || !shown_) return;
  *out_ << "\r\x1b[K" << std::flush;
  shown_ = false;
}

void Progress::print(const std::string& line, std::ostream& to) {
  clear();
  to << line << std::endl;
  if (opt_.style == ProgressStyle::bar && !finished_) draw();
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (opt_.style == ProgressStyle::bar) {
    if (opt_.leave) {
      draw();
      *out_ << '\n' << std::flush;
      shown_ = false;  // on the line above now
    } else {
      clear();
    }
  } else if (opt_.style == ProgressStyle::lines && lines_written_) {
    *out_ << log_line() << std::endl;
  }
}

}  // namespace sg
