// Line charts of logged quantities against training steps, as inline SVG for the report: a
// title, a y axis (linear, or logarithmic for a loss that falls over decades) and a step axis,
// both with ticks, labels and grid lines, a legend naming each line with its last value, and
// one polyline per series with one point per logged step (plus a marker with a tooltip per point
// when there are few). No scripts, fonts or images.
//   <svg class="chart" data-chart=KEY>
//     <polyline class="series" data-run=R data-kind=train|eval data-series=NAME data-points=N
//               points="x,y ...">
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "train/draw/run_contents.h"

namespace sg {

struct ChartLine {
  std::string label;   // in the legend
  std::string colour;  // "#rrggbb"
  bool dashed = false;
  const Series* series = nullptr;
  int run = 0;       // data-run: which run of the report it belongs to
  std::string kind;  // data-kind: "train" or "eval", the records it comes from
};

enum class YScale { linear, log, automatic };  // automatic: log when all > 0 and max/min >= 30

struct ChartSpec {
  std::string key;    // data-chart, e.g. "loss"
  std::string title;  // e.g. "Loss"
  std::vector<ChartLine> lines;
  YScale scale = YScale::linear;
  std::optional<std::pair<double, double>> y_range;  // fixed, e.g. [0, 1] for accuracies
  int64_t x_max = 0;  // the step axis reaches at least this (the run's --steps)
};

std::string render_chart(const ChartSpec& chart);

// About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi];
// the first is <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int count);
// Powers of ten covering [lo, hi] (lo > 0), with 2 and 5 times each when they span few decades.
std::vector<double> log_ticks(double lo, double hi);
// A tick label: "0", "0.25", "1e-4", "12k", "1.5M".
std::string format_tick(double v);

}  // namespace sg
