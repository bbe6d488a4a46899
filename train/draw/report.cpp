#include "train/draw/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "train/checkpoint/checkpoint.h"
#include "train/decode/decode.h"
#include "train/decode/inference.h"
#include "train/draw/attention_maps.h"
#include "train/draw/attention_render.h"
#include "train/draw/chart.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

// Tableau 10: a colour per run when several runs share a chart.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr const char* kTrainColour = "#1f77b4";  // one run: training records blue,
constexpr const char* kEvalColour = "#e8590c";   // evaluations orange

std::string esc(const std::string& s) {
  return xml_escape(s);
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string bytes_text(uintmax_t b) {
  char buf[32];
  if (b >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.0f kB", static_cast<double>(b) / (1 << 10));
  return buf;
}

std::string duration_text(double s) {
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh %02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm %02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// The value of `s` at `step`, if logged.
const double* value_at(const Series* s, int64_t step) {
  if (!s) return nullptr;
  const auto it = std::lower_bound(s->steps.begin(), s->steps.end(), step);
  if (it == s->steps.end() || *it != step) return nullptr;
  return &s->values[it - s->steps.begin()];
}

struct Metric {
  const char* name;
  const char* title;
  int digits;
  bool unit_range;  // a rate in [0, 1]
};

// In the order of their charts; other fields follow in alphabetical order.
constexpr Metric kKnown[] = {
    {"loss", "Loss", 4, false},
    {"exact_match", "Validation exact match", 4, true},
    {"token_acc", "Validation token accuracy", 4, true},
    {"bleu", "Validation BLEU", 2, false},
    {"chrf", "Validation chrF", 2, false},
    {"ppl", "Validation perplexity", 3, false},
    {"cut_at_max_len", "Validation outputs cut at the decode length limit", 0, false},
    {"lr", "Learning rate", 6, false},
    {"tokens_per_s", "Throughput (target tokens per second)", 0, false},
    {"pad_share", "Padding share of the batches", 3, true},
};

const Metric* known(const std::string& name) {
  for (const Metric& m : kKnown)
    if (name == m.name) return &m;
  return nullptr;
}

// Known metrics first, in kKnown's order.
bool metric_before(const std::string& a, const std::string& b) {
  const Metric *ka = known(a), *kb = known(b);
  if (ka && kb) return ka < kb;
  if (ka || kb) return ka != nullptr;
  return a < b;
}

std::vector<const Series*> in_metric_order(const std::vector<Series>& of) {
  std::vector<const Series*> out;
  for (const Series& s : of) out.push_back(&s);
  std::sort(out.begin(), out.end(),
            [](const Series* a, const Series* b) { return metric_before(a->name, b->name); });
  return out;
}

std::string metric_value(const std::string& name, double v) {
  const Metric* m = known(name);
  if (m && name != "lr") return fixed(v, m->digits);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

int64_t planned_steps(const ReportRun& r) {
  return r.config.is_object() && r.config.contains("steps") && r.config["steps"].is_number()
             ? r.config["steps"].get<int64_t>()
             : 0;
}

// The charts: loss (training and validation), the other validation metrics, then the other
// fields of the train records (learning rate, tokens per second, and any others).
std::vector<ChartSpec> charts_of(const std::vector<ReportRun>& runs) {
  const bool several = runs.size() > 1;
  int64_t x_max = 0;
  for (const ReportRun& r : runs) x_max = std::max(x_max, planned_steps(r));
  std::vector<std::string> eval_names, train_names;
  auto note = [](std::vector<std::string>& names, const std::vector<Series>& of) {
    for (const Series& s : of)
      if (s.name != "loss" && std::find(names.begin(), names.end(), s.name) == names.end())
        names.push_back(s.name);
  };
  for (const ReportRun& r : runs) {
    note(eval_names, r.metrics.eval);
    note(train_names, r.metrics.train);
  }
  std::sort(eval_names.begin(), eval_names.end(), metric_before);
  std::sort(train_names.begin(), train_names.end(), metric_before);
  auto line = [&](size_t run, const Series* s, bool eval, const std::string& one_run_label,
                  bool kind_in_label) {
    ChartLine l;
    l.series = s;
    l.run = static_cast<int>(run);
    l.kind = eval ? "eval" : "train";
    l.dashed = several && eval;
    l.colour = several ? kPalette[run % std::size(kPalette)] : eval ? kEvalColour : kTrainColour;
    l.label = several ? runs[run].name + (kind_in_label ? (eval ? " validation" : " training") : "")
                      : one_run_label;
    return l;
  };
  std::vector<ChartSpec> charts;
  ChartSpec loss{"loss", "Loss", {}, YScale::automatic, std::nullopt, x_max};
  for (size_t r = 0; r < runs.size(); ++r) {
    if (const Series* s = runs[r].metrics.find(runs[r].metrics.train, "loss"))
      loss.lines.push_back(line(r, s, false, "training", true));
    if (const Series* s = runs[r].metrics.find(runs[r].metrics.eval, "loss"))
      loss.lines.push_back(line(r, s, true, "validation", true));
  }
  charts.push_back(loss);
  auto add = [&](const std::string& name, bool eval) {
    const Metric* m = known(name);
    ChartSpec c{(eval ? "valid_" : "train_") + name,
                m ? m->title : (eval ? "Validation " : "Training ") + name,
                {},
                YScale::linear,
                std::nullopt,
                x_max};
    bool in_unit_range = m && m->unit_range;
    for (size_t r = 0; r < runs.size(); ++r) {
      const RunMetrics& rm = runs[r].metrics;
      if (const Series* s = rm.find(eval ? rm.eval : rm.train, name)) {
        c.lines.push_back(line(r, s, eval, eval ? "validation" : name, false));
        for (double v : s->values) in_unit_range = in_unit_range && v >= 0 && v <= 1;
      }
    }
    if (in_unit_range) c.y_range = std::make_pair(0.0, 1.0);
    if (!several && name == "lr") c.lines.back().label = "learning rate";
    if (!several && name == "tokens_per_s") c.lines.back().label = "target tokens/s";
    charts.push_back(std::move(c));
  };
  for (const std::string& n : eval_names) add(n, true);
  for (const std::string& n : train_names) add(n, false);
  return charts;
}

void summary(std::ostringstream& o, const std::vector<ReportRun>& runs) {
  o << "<table class=\"summary\">\n<tr><th>run</th><th>status</th><th>best validation loss</th>"
       "<th>latest evaluation</th><th>training loss</th><th>target tokens/s</th>"
       "<th>time</th></tr>\n";
  for (size_t r = 0; r < runs.size(); ++r) {
    const ReportRun& run = runs[r];
    const RunMetrics& m = run.metrics;
    const int64_t planned = planned_steps(run);
    std::string status = "step " + std::to_string(m.last_step) +
                         (planned > 0 ? " of " + std::to_string(planned) : std::string());
    if (m.train.empty() && m.eval.empty())
      status = "nothing logged yet";
    else if (m.done)
      status = "finished at step " + std::to_string(m.last_step);
    else
      status += " (running, or stopped)";
    std::string best = "&mdash;", latest = "&mdash;", train_loss = "&mdash;", speed = "&mdash;";
    if (const Series* s = m.find(m.eval, "loss"); s && !s->values.empty()) {
      const size_t i = std::min_element(s->values.begin(), s->values.end()) - s->values.begin();
      best = "<b>" + fixed(s->values[i], 4) + "</b> at step " + std::to_string(s->steps[i]);
      const int64_t step = s->steps.back();
      latest = "step " + std::to_string(step) + ":";
      const char* sep = " ";
      for (const Series* e : in_metric_order(m.eval))
        if (const double* v = value_at(e, step)) {
          latest += sep + esc(e->name) + " <b>" + metric_value(e->name, *v) + "</b>";
          sep = ", ";
        }
    }
    if (const Series* s = m.find(m.train, "loss"); s && !s->values.empty())
      train_loss = fixed(s->values.back(), 4) + " at step " + std::to_string(s->steps.back());
    if (const Series* s = m.find(m.train, "tokens_per_s"); s && !s->values.empty()) {
      std::vector<double> v = s->values;
      std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
      speed = fixed(v[v.size() / 2], 0) + " (median)";
    }
    o << "<tr><td class=\"run\">";
    if (runs.size() > 1)
      o << "<span class=\"swatch\" style=\"background:" << kPalette[r % std::size(kPalette)]
        << "\"></span>";
    o << esc(run.name) << "</td><td>" << status << "</td><td>" << best << "</td><td>" << latest
      << "</td><td>" << train_loss << "</td><td>" << speed << "</td><td>"
      << (m.elapsed_s >= 0 ? duration_text(m.elapsed_s) + " to the last evaluation"
                           : std::string("&mdash;"))
      << "</td></tr>\n";
  }
  o << "</table>\n";
}

void checkpoints(std::ostringstream& o, const ReportRun& run) {
  if (run.checkpoints.empty()) {
    o << "<p class=\"dim\">No checkpoint yet.</p>\n";
    return;
  }
  const Series* valid = run.metrics.find(run.metrics.eval, "loss");
  o << "<table class=\"ckpts\">\n<tr><th>file</th><th>step</th><th>validation loss</th>"
       "<th>size</th><th></th></tr>\n";
  for (const CheckpointEntry& c : run.checkpoints) {
    std::string loss = "&mdash;";
    if (const double* v = c.step >= 0 ? value_at(valid, c.step) : nullptr) loss = fixed(*v, 4);
    std::string notes;
    if (c.file == "best.h5")
      notes += "<span class=\"badge best\">best</span> lowest validation loss ";
    else if (c.best)
      notes += "<span class=\"badge best\">best</span> same step as best.h5 ";
    if (c.latest) notes += "<span class=\"badge latest\">latest</span> latest.h5 ";
    if (!c.error.empty()) notes += "<span class=\"error\">unreadable: " + esc(c.error) + "</span>";
    o << "<tr" << (c.best ? " class=\"best\"" : "") << "><td class=\"mono\">" << esc(c.file)
      << "</td><td>" << (c.step >= 0 ? std::to_string(c.step) : std::string("?")) << "</td><td>"
      << loss << "</td><td>" << bytes_text(c.bytes) << "</td><td>" << notes << "</td></tr>\n";
  }
  o << "</table>\n";
}

std::string config_value(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>().empty() ? "\"\"" : v.get<std::string>();
  return v.dump();
}

void configuration(std::ostringstream& o, const std::vector<ReportRun>& runs) {
  std::vector<std::string> keys;
  for (const ReportRun& r : runs)
    if (r.config.is_object())
      for (const auto& [k, v] : r.config.items())
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  if (keys.empty()) {
    o << "<p class=\"dim\">Not known yet: it is read from the run's checkpoints.</p>\n";
    return;
  }
  auto value = [](const ReportRun& r, const std::string& k) {
    return r.config.is_object() && r.config.contains(k) ? config_value(r.config[k])
                                                        : std::string("\xE2\x80\x94");
  };
  if (runs.size() == 1) {
    o << "<dl class=\"config\">\n";
    for (const std::string& k : keys)
      o << "<div><dt>" << esc(k) << "</dt><dd>" << esc(value(runs[0], k)) << "</dd></div>\n";
    o << "</dl>\n";
    return;
  }
  // Several runs: the options that differ first, highlighted.
  std::stable_partition(keys.begin(), keys.end(), [&](const std::string& k) {
    return std::any_of(runs.begin(), runs.end(),
                       [&](const ReportRun& r) { return value(r, k) != value(runs[0], k); });
  });
  o << "<table class=\"config-cmp\">\n<tr><th>option</th>";
  for (const ReportRun& r : runs) o << "<th>" << esc(r.name) << "</th>";
  o << "</tr>\n";
  for (const std::string& k : keys) {
    const bool differs = std::any_of(runs.begin(), runs.end(), [&](const ReportRun& r) {
      return value(r, k) != value(runs[0], k);
    });
    o << "<tr" << (differs ? " class=\"differs\"" : "") << "><td class=\"mono\">" << esc(k)
      << "</td>";
    for (const ReportRun& r : runs) o << "<td>" << esc(value(r, k)) << "</td>";
    o << "</tr>\n";
  }
  o << "</table>\n";
}

constexpr const char* kStyle = R"(
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1d2125;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 28px 40px; }
h1 { font-size: 26px; margin: 4px 0 2px; }
h2 { font-size: 19px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #d8dce1; }
h3 { font-size: 16px; margin: 18px 0 8px; }
p.sub, .dim { color: #5d6670; margin: 0 0 6px; }
nav a { color: #0b63c4; margin-right: 16px; text-decoration: none; }
table { border-collapse: collapse; background: #fff; border: 1px solid #d8dce1; }
th, td { padding: 6px 12px; text-align: left; border-bottom: 1px solid #e6e9ed; vertical-align: top; }
th { background: #eef0f3; font-weight: 600; font-size: 14px; }
td.run, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; }
tr.best td { background: #fff4e5; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 0 7px; border-radius: 9px;
  margin-right: 4px; color: #fff; }
.badge.best { background: #e8590c; } .badge.latest { background: #1f77b4; }
.error { color: #b3261e; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; }
svg.chart { width: 100%; height: auto; display: block; border: 1px solid #d8dce1; border-radius: 6px; }
svg.chart .bg { fill: #fff; }
svg.chart text { font-family: system-ui, "DejaVu Sans", Helvetica, Arial, sans-serif; fill: #1d2125; }
svg.chart .ctitle { font-size: 16px; font-weight: 600; }
svg.chart .legend-entry text { font-size: 12px; } svg.chart .last { fill: #5d6670; }
svg.chart .tick { font-size: 12px; fill: #4a535c; } svg.chart .axis-label { font-size: 12px; fill: #4a535c; }
svg.chart .grid line { stroke: #e9ecef; } svg.chart .axis line, svg.chart .axis rect { stroke: #8a939c; }
svg.chart .empty { font-size: 14px; fill: #8a939c; }
dl.config { columns: 3 280px; column-gap: 28px; margin: 0; background: #fff; padding: 10px 14px;
  border: 1px solid #d8dce1; }
dl.config div { display: flex; justify-content: space-between; gap: 12px; break-inside: avoid;
  border-bottom: 1px solid #eef0f3; padding: 2px 0; }
dl.config dt { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; color: #4a535c; }
dl.config dd { margin: 0; font-weight: 600; font-size: 14px; overflow-wrap: anywhere; text-align: right; }
tr.differs td { background: #fff4e5; font-weight: 600; }
.examples { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.attention { overflow-x: auto; max-width: 100%; background: #fff; border: 1px solid #d8dce1;
  border-radius: 6px; }
.attention svg { display: block; }
footer { margin-top: 36px; color: #5d6670; font-size: 13px; }
)";

}  // namespace

ReportRun load_report_run(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw std::runtime_error("'" + dir + "': no such folder");
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("'" + dir + "' is not a folder");
  ReportRun run;
  run.name = dir;
  const fs::path metrics = fs::path(dir) / "metrics.jsonl";
  run.metrics = read_metrics(metrics.string());
  run.checkpoints = list_checkpoints(dir);
  if (!fs::exists(metrics, ec) && run.checkpoints.empty())
    throw std::runtime_error("'" + dir +
                             "' is not a run folder: it holds neither metrics.jsonl nor a "
                             "checkpoint");
  run.config = run_config(run.checkpoints);
  return run;
}

namespace {

// The maps of the first n examples (Example or ImageExample): collect(i, decode) decodes example
// i greedily with `decode` and collects its attention, source(i) is the text naming its input.
template <class Examples, class Collect, class SourceText>
void add_attention_maps(ReportRun& run, Seq2SeqTransformer& model, const TextCodec& tgt_codec,
                        const LengthStats& lengths, const Examples& examples, int64_t n,
                        Collect collect, SourceText source, const std::string& what) {
  struct ModeGuard {
    Seq2SeqTransformer& m;
    bool was;
    ~ModeGuard() { m.train(was); }
  } guard{model, model.is_training()};
  model.eval();
  const int64_t count = std::min<int64_t>(n, static_cast<int64_t>(examples.size()));
  DecodeOptions decode;
  decode.lengths = lengths;
  const std::string ids = "m" + std::to_string(std::hash<std::string>{}(run.name) % 1000000) + "-";
  for (int64_t i = 0; i < count; ++i) {
    AttentionResult r = collect(i, decode);
    std::erase_if(r.maps, [](const AttentionMap& m) { return m.head != kHeadMean; });
    RenderInfo info;
    info.title = "Example " + std::to_string(i + 1);
    info.id_prefix = ids + std::to_string(run.attention_svgs.size()) + "-";
    const auto& ref = examples[i].tgt;
    const bool exact = r.output == ref;
    info.lines = {source(i), "reference:  " + tgt_codec.decode(ref),
                  "output:     " + tgt_codec.decode(r.output) +
                      (exact ? "   (exact match)" : "   (differs from the reference)")};
    run.attention_svgs.push_back(render_svg_element(r, info));
  }
  run.attention_note = count == 0
                           ? "No validation examples."
                           : "Greedy decoding by " + what + "; the mean over heads of every layer.";
}

}  // namespace

void add_attention(ReportRun& run, Seq2SeqTransformer& model, const TextCodec& src_codec,
                   const TextCodec& tgt_codec, const LengthStats& lengths,
                   const std::vector<Example>& examples, int64_t n, const std::string& what) {
  add_attention_maps(
      run, model, tgt_codec, lengths, examples, n,
      [&](int64_t i, const DecodeOptions& decode) {
        std::vector<int64_t> src = examples[i].src;
        src.push_back(kEos);
        return collect_attention(model, src, src_codec.vocab(), tgt_codec.vocab(), decode);
      },
      [&](int64_t i) { return "source:     " + src_codec.decode(examples[i].src); }, what);
}

void add_attention(ReportRun& run, Seq2SeqTransformer& model, const TextCodec& tgt_codec,
                   const LengthStats& lengths, const std::vector<ImageExample>& examples, int64_t n,
                   const std::string& what) {
  add_attention_maps(
      run, model, tgt_codec, lengths, examples, n,
      [&](int64_t i, const DecodeOptions& decode) {
        return collect_attention(model, examples[i].image, tgt_codec.vocab(), decode);
      },
      [&](int64_t i) {
        return "source:     held-out image " + std::to_string(i + 1) + " (" +
               std::to_string(examples[i].image.width) + " x " +
               std::to_string(examples[i].image.height) + " pixels)";
      },
      what);
}

void add_attention_from_checkpoints(ReportRun& run, int64_t n) {
  const CheckpointEntry* pick = nullptr;
  for (const CheckpointEntry& c : run.checkpoints) {
    if (!c.error.empty()) continue;
    const auto rank = [](const CheckpointEntry& e) { return e.latest ? 2 : e.file == "best.h5"; };
    if (!pick || rank(c) > rank(*pick) || (rank(c) == rank(*pick) && c.step > pick->step))
      pick = &c;
  }
  if (!pick) {
    run.attention_note = "No readable checkpoint to draw them with.";
    return;
  }
  const std::string what = pick->file + " (step " + std::to_string(pick->step) + ")";
  try {
    LoadedModel m = load_for_inference((fs::path(run.name) / pick->file).string());
    std::vector<Example> data;
    std::vector<ImageExample> images;
    try {
      if (m.model->config().reads_images())
        images = held_out_images(m);
      else
        data = held_out_data(m);
    } catch (const std::exception& e) {
      run.attention_note = std::string("The validation data could not be read: ") + e.what();
      return;
    }
    if (m.model->config().reads_images())
      add_attention(run, *m.model, m.tgt_codec, m.train_lengths, images, n, what);
    else
      add_attention(run, *m.model, m.src_codec, m.tgt_codec, m.train_lengths, data, n, what);
  } catch (const std::exception& e) {
    run.attention_note = what + " could not be loaded: " + e.what();
  }
}

std::string render_report(const std::vector<ReportRun>& runs) {
  std::ostringstream o;
  std::string names;
  for (const ReportRun& r : runs) names += (names.empty() ? "" : ", ") + r.name;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>seqgrad report: " << esc(names) << "</title>\n<style>" << kStyle
    << "</style>\n</head>\n<body>\n<main>\n";
  o << "<h1>Training report: " << esc(names) << "</h1>\n";
  o << "<p class=\"sub\">" << (runs.size() > 1 ? std::to_string(runs.size()) + " runs, " : "")
    << "from metrics.jsonl and the checkpoints of each run folder. During training this page is "
       "rewritten after every evaluation: reload it to follow the run.</p>\n";
  o << "<nav><a href=\"#curves\">Curves</a><a href=\"#checkpoints\">Checkpoints</a>"
       "<a href=\"#attention\">Attention</a><a href=\"#config\">Configuration</a></nav>\n";
  summary(o, runs);

  o << "<h2 id=\"curves\">Curves</h2>\n";
  if (runs.size() > 1) o << "<p class=\"dim\">A colour per run; validation curves dashed.</p>\n";
  o << "<div class=\"charts\">\n";
  for (const ChartSpec& c : charts_of(runs)) o << render_chart(c);
  o << "</div>\n";

  o << "<h2 id=\"checkpoints\">Checkpoints</h2>\n";
  for (const ReportRun& r : runs) {
    if (runs.size() > 1) o << "<h3>" << esc(r.name) << "</h3>\n";
    checkpoints(o, r);
  }

  o << "<h2 id=\"attention\">Attention maps of validation examples</h2>\n";
  for (const ReportRun& r : runs) {
    if (runs.size() > 1) o << "<h3>" << esc(r.name) << "</h3>\n";
    o << "<p class=\"dim\">"
      << esc(r.attention_note.empty() ? std::string("No model to draw them with yet.")
                                      : r.attention_note)
      << "</p>\n";
    o << "<div class=\"examples\">\n";
    for (const std::string& svg : r.attention_svgs)
      o << "<div class=\"attention\">\n" << svg << "</div>\n";
    o << "</div>\n";
  }

  o << "<h2 id=\"config\">Configuration</h2>\n";
  configuration(o, runs);
  o << "<footer>Written by seqgrad " << SEQGRAD_VERSION
    << ". One self-contained file: it loads nothing from anywhere.</footer>\n";
  o << "</main>\n</body>\n</html>\n";
  return o.str();
}

void write_report(const std::string& path, const std::string& html) {
  // Derived from files that are durable themselves: no fsync, which would cost every evaluation
  // of a run a wait on the disk.
  atomic_write_file(path, html, false);
}

}  // namespace sg
