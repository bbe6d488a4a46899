#include "train/draw/run_contents.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "train/checkpoint/checkpoint.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

// Records of one step come in this order: train, then eval, then done.
int event_rank(const std::string& event) {
  return event == "train" ? 0 : event == "eval" ? 1 : 2;
}

Series& series_of(std::vector<Series>& all, const std::string& name) {
  for (Series& s : all)
    if (s.name == name) return s;
  all.push_back(Series{name, {}, {}});
  return all.back();
}

// Drops the points of step `from` and later from every series.
void cut_from(std::vector<Series>& all, int64_t from) {
  for (Series& s : all) {
    const auto keep = std::lower_bound(s.steps.begin(), s.steps.end(), from) - s.steps.begin();
    s.steps.resize(keep);
    s.values.resize(keep);
  }
}

void add_fields(std::vector<Series>& all, const nlohmann::json& record, int64_t step,
                std::initializer_list<const char*> skip) {
  for (const auto& [key, value] : record.items()) {
    if (key == "event" || key == "step" ||
        std::any_of(skip.begin(), skip.end(), [&](const char* s) { return key == s; }))
      continue;
    if (!value.is_number()) continue;
    Series& s = series_of(all, key);
    s.steps.push_back(step);
    s.values.push_back(value.get<double>());
  }
}

}  // namespace

const Series* RunMetrics::find(const std::vector<Series>& of, const std::string& name) const {
  for (const Series& s : of)
    if (s.name == name) return &s;
  return nullptr;
}

RunMetrics read_metrics(const std::string& path) {
  RunMetrics m;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (fs::exists(path)) throw std::runtime_error(path + ": cannot read");
    return m;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int64_t last_step = -1;
  int last_rank = 0;
  size_t begin = 0;
  for (int64_t line_no = 1; begin < text.size(); ++line_no) {
    size_t end = text.find('\n', begin);
    const bool complete = end != std::string::npos;
    if (!complete) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      if (!complete) break;  // the last append was cut short
      throw std::runtime_error(where + "not a JSON object");
    }
    if (!record.is_object() || !record.contains("event") || !record["event"].is_string())
      throw std::runtime_error(where + "not a record with an \"event\"");
    const std::string event = record["event"].get<std::string>();
    if (event != "train" && event != "eval" && event != "done") continue;  // written by others
    if (!record.contains("step") || !record["step"].is_number_integer() ||
        record["step"].get<int64_t>() < 0)
      throw std::runtime_error(where + "no \"step\" (a whole number >= 0)");
    const int64_t step = record["step"].get<int64_t>();
    const int rank = event_rank(event);
    if (step < last_step || (step == last_step && rank <= last_rank)) {
      cut_from(m.train, step);
      cut_from(m.eval, step);
    }
    last_step = step;
    last_rank = rank;
    m.last_step = step;
    m.done = event == "done";
    if (event == "train") {
      add_fields(m.train, record, step, {"epoch"});
    } else if (event == "eval") {
      add_fields(m.eval, record, step, {"elapsed_s"});
      if (record.contains("elapsed_s") && record["elapsed_s"].is_number())
        m.elapsed_s = record["elapsed_s"].get<double>();
    }
  }
  return m;
}

std::vector<CheckpointEntry> list_checkpoints(const std::string& dir) {
  std::vector<CheckpointEntry> out;
  std::error_code ec;
  std::vector<std::pair<int64_t, std::string>> names;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (const int64_t step = checkpoint_step_of(f); step >= 0) names.emplace_back(step, f);
  }
  std::sort(names.begin(), names.end());
  const fs::path latest = fs::path(dir) / "latest.h5";
  const bool latest_is_link = fs::is_symlink(latest, ec);
  const std::string latest_target =
      latest_is_link ? fs::read_symlink(latest, ec).filename().string() : "";
  auto add = [&](const std::string& name) {
    out.emplace_back();
    out.back().file = name;
  };
  for (const auto& [step, name] : names) add(name);
  if (fs::exists(fs::path(dir) / "best.h5", ec)) add("best.h5");
  if (fs::exists(latest, ec) && !latest_is_link) add("latest.h5");
  for (CheckpointEntry& c : out) {
    const fs::path p = fs::path(dir) / c.file;
    c.bytes = fs::file_size(p, ec);
    if (ec) c.bytes = 0;
    c.latest = c.file == latest_target || c.file == "latest.h5";
    try {
      const CheckpointContents contents = read_checkpoint(p.string());
      c.step = contents.state.step;
      c.config = contents.config.to_json();
    } catch (const std::exception& e) {
      c.error = e.what();
    }
  }
  int64_t best_step = -1;
  for (const CheckpointEntry& c : out)
    if (c.file == "best.h5") best_step = c.step;
  for (CheckpointEntry& c : out)
    c.best =
        c.file == "best.h5" || (best_step >= 0 && c.step == best_step && c.file != "latest.h5");
  return out;
}

nlohmann::json run_config(const std::vector<CheckpointEntry>& checkpoints) {
  const CheckpointEntry* pick = nullptr;
  auto better = [](const CheckpointEntry& c, const CheckpointEntry* than) {
    if (!than) return true;
    if (c.latest != than->latest) return c.latest;
    if ((c.file == "best.h5") != (than->file == "best.h5")) return c.file == "best.h5";
    return c.step > than->step;
  };
  for (const CheckpointEntry& c : checkpoints)
    if (!c.config.is_null() && better(c, pick)) pick = &c;
  return pick ? pick->config : nlohmann::json();
}

}  // namespace sg
