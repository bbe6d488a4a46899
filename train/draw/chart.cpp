#include "train/draw/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "train/draw/attention_render.h"

namespace sg {

namespace {

constexpr double kWidth = 600, kHeight = 330;
constexpr double kLeft = 64, kRight = 22, kBottom = 44;
constexpr double kLegendRow = 17, kCharWidth = 6.7;  // 12px sans-serif, near enough
constexpr size_t kMostMarkers = 120;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A logged value in a legend or tooltip: 0.01234, 2.302, 12345.
std::string value_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 1e4 ? "%.0f" : "%.4g", v);
  return buf;
}

double nice_step(double range, int count) {
  const double raw = range / std::max(count, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

struct Axis {
  double lo, hi;
  bool log;
  std::vector<double> ticks;
  // Position in [0, 1] along the axis.
  double at(double v) const {
    if (log) {
      v = std::max(v, lo);
      return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    }
    return std::clamp((v - lo) / (hi - lo), 0.0, 1.0);
  }
};

Axis y_axis(const ChartSpec& c) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, lo_pos = lo;
  for (const ChartLine& l : c.lines)
    for (double v : l.series->values) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (v > 0) lo_pos = std::min(lo_pos, v);
    }
  Axis a{0, 1, false, {}};
  if (c.y_range) {
    a.lo = c.y_range->first;
    a.hi = c.y_range->second;
    a.ticks = nice_ticks(a.lo, a.hi, 5);
    return a;
  }
  if (!std::isfinite(lo)) {  // no data yet
    a.ticks = nice_ticks(0, 1, 5);
    return a;
  }
  const bool log =
      c.scale == YScale::log || (c.scale == YScale::automatic && lo > 0 && hi / lo >= 30);
  if (log && std::isfinite(lo_pos)) {
    a.log = true;
    a.lo = std::pow(10.0, std::floor(std::log10(lo_pos) + 1e-9));
    a.hi = std::pow(10.0, std::ceil(std::log10(hi) - 1e-9));
    if (a.hi <= a.lo) a.hi = a.lo * 10;
    a.ticks = log_ticks(a.lo, a.hi);
    return a;
  }
  // Quantities that are never negative start at 0, so that their size reads right.
  if (lo >= 0) lo = 0;
  if (hi <= 0) hi = 0;
  if (hi == lo) hi = lo + 1;
  a.ticks = nice_ticks(lo, hi, 5);
  a.lo = a.ticks.front();
  a.hi = a.ticks.back();
  return a;
}

void legend(std::ostringstream& o, const ChartSpec& c, double& y_end) {
  double x = 16, y = 44;
  for (const ChartLine& l : c.lines) {
    const std::string last =
        l.series->values.empty() ? std::string("no data") : value_text(l.series->values.back());
    const double w = 28 + kCharWidth * static_cast<double>(l.label.size() + last.size() + 2);
    if (x > 16 && x + w > kWidth - kRight) {
      x = 16;
      y += kLegendRow;
    }
    o << "<g class=\"legend-entry\"><line x1=\"" << num(x) << "\" x2=\"" << num(x + 22)
      << "\" y1=\"" << num(y - 4) << "\" y2=\"" << num(y - 4) << "\" stroke=\"" << l.colour
      << "\" stroke-width=\"2.5\"" << (l.dashed ? " stroke-dasharray=\"6 3\"" : "") << "/>"
      << "<text x=\"" << num(x + 28) << "\" y=\"" << num(y) << "\">" << xml_escape(l.label)
      << "<tspan class=\"last\"> " << last << "</tspan></text></g>\n";
    x += w + 14;
  }
  y_end = y;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, count);
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  std::vector<double> t;
  for (double k = first; k <= last + 0.5; ++k) t.push_back(k * step);
  return t;
}

std::vector<double> log_ticks(double lo, double hi) {
  const int d0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  const int d1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  const int every = d1 - d0 > 8 ? 2 : 1;
  std::vector<double> t;
  for (int d = d0; d <= d1; d += every) {
    const double p = std::pow(10.0, d);
    t.push_back(p);
    if (d1 - d0 <= 2 && d < d1)
      for (double m : {2.0, 5.0}) t.push_back(m * p);
  }
  return t;
}

std::string format_tick(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  char buf[32];
  if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  } else if (a >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  } else if (a >= 1e-3) {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  } else {
    int e = static_cast<int>(std::floor(std::log10(a) + 1e-9));
    double m = v / std::pow(10.0, e);
    if (std::fabs(m) >= 9.9995) {
      m /= 10;
      ++e;
    }
    std::snprintf(buf, sizeof buf, "%.3ge%d", m, e);
  }
  return buf;
}

std::string render_chart(const ChartSpec& c) {
  std::ostringstream body;
  double legend_end = 0;
  legend(body, c, legend_end);
  const double top = legend_end + 16, height = kHeight + (legend_end - 44);
  const double pw = kWidth - kLeft - kRight, ph = height - top - kBottom;

  int64_t x_end = std::max<int64_t>(c.x_max, 1);
  for (const ChartLine& l : c.lines)
    if (!l.series->steps.empty()) x_end = std::max(x_end, l.series->steps.back());
  Axis x{0, 1, false, nice_ticks(0, static_cast<double>(x_end), 6)};
  x.hi = x.ticks.back();
  const Axis y = y_axis(c);
  auto px = [&](double step) { return kLeft + x.at(step) * pw; };
  auto py = [&](double v) { return top + (1 - y.at(v)) * ph; };

  body << "<g class=\"grid\">\n";
  for (double t : y.ticks)
    body << "<line x1=\"" << num(kLeft) << "\" x2=\"" << num(kLeft + pw) << "\" y1=\"" << num(py(t))
         << "\" y2=\"" << num(py(t)) << "\"/>\n";
  for (double t : x.ticks)
    body << "<line x1=\"" << num(px(t)) << "\" x2=\"" << num(px(t)) << "\" y1=\"" << num(top)
         << "\" y2=\"" << num(top + ph) << "\"/>\n";
  body << "</g>\n<g class=\"axis\">\n";
  body << "<rect x=\"" << num(kLeft) << "\" y=\"" << num(top) << "\" width=\"" << num(pw)
       << "\" height=\"" << num(ph) << "\" fill=\"none\"/>\n";
  for (double t : y.ticks)
    body << "<line x1=\"" << num(kLeft - 5) << "\" x2=\"" << num(kLeft) << "\" y1=\"" << num(py(t))
         << "\" y2=\"" << num(py(t)) << "\"/><text class=\"tick\" x=\"" << num(kLeft - 8)
         << "\" y=\"" << num(py(t) + 4) << "\" text-anchor=\"end\">" << format_tick(t)
         << "</text>\n";
  for (double t : x.ticks)
    body << "<line x1=\"" << num(px(t)) << "\" x2=\"" << num(px(t)) << "\" y1=\"" << num(top + ph)
         << "\" y2=\"" << num(top + ph + 5) << "\"/><text class=\"tick\" x=\"" << num(px(t))
         << "\" y=\"" << num(top + ph + 19) << "\" text-anchor=\"middle\">" << format_tick(t)
         << "</text>\n";
  body << "<text class=\"axis-label\" x=\"" << num(kLeft + pw / 2) << "\" y=\"" << num(height - 6)
       << "\" text-anchor=\"middle\">step</text>\n</g>\n";

  bool any = false;
  for (const ChartLine& l : c.lines) {
    const Series& s = *l.series;
    any = any || !s.steps.empty();
    body << "<polyline class=\"series\" data-run=\"" << l.run << "\" data-kind=\"" << l.kind
         << "\" data-series=\"" << xml_escape(s.name) << "\" data-points=\"" << s.steps.size()
         << "\" fill=\"none\" stroke=\"" << l.colour
         << "\" stroke-width=\"2\" stroke-linejoin=\"round\""
         << (l.dashed ? " stroke-dasharray=\"6 3\"" : "") << " points=\"";
    for (size_t i = 0; i < s.steps.size(); ++i)
      body << (i ? " " : "") << num(px(static_cast<double>(s.steps[i]))) << ","
           << num(py(s.values[i]));
    body << "\"/>\n";
    if (s.steps.size() > kMostMarkers) continue;
    body << "<g class=\"markers\" fill=\"" << l.colour << "\">";
    for (size_t i = 0; i < s.steps.size(); ++i)
      body << "<circle cx=\"" << num(px(static_cast<double>(s.steps[i]))) << "\" cy=\""
           << num(py(s.values[i])) << "\" r=\"2.5\"><title>" << xml_escape(l.label) << ", step "
           << s.steps[i] << ": " << value_text(s.values[i]) << "</title></circle>";
    body << "</g>\n";
  }
  if (!any)
    body << "<text class=\"empty\" x=\"" << num(kLeft + pw / 2) << "\" y=\"" << num(top + ph / 2)
         << "\" text-anchor=\"middle\">nothing logged yet</text>\n";

  std::ostringstream o;
  const std::string title = c.title + (y.log ? " (log scale)" : "");
  o << "<svg class=\"chart\" data-chart=\"" << xml_escape(c.key) << "\" viewBox=\"0 0 "
    << num(kWidth) << " " << num(height) << "\" role=\"img\" aria-label=\"" << xml_escape(title)
    << "\">\n<rect class=\"bg\" width=\"100%\" height=\"100%\"/>\n<text class=\"ctitle\" x=\"16\" "
       "y=\"24\">"
    << xml_escape(title) << "</text>\n"
    << body.str() << "</svg>\n";
  return o.str();
}

}  // namespace sg
