// seqgrad report RUN_DIR [RUN_DIR...] [--out FILE]: writes report.html for training runs (their
// curves, checkpoints, attention maps and configuration; train/draw/report.h), by default into
// the first run folder. Several runs share the charts, a colour each.
#include <filesystem>
#include <iostream>

#include "autograd/parallel.h"
#include "train/checkpoint/checkpoint.h"
#include "train/cli/options.h"
#include "train/draw/report.h"

namespace sg::cli {

int cmd_report(const std::vector<std::string>& args) {
  Config c;
  std::vector<std::string> dirs;
  std::string out;
  int64_t examples = 3;
  po::options_description groups("report options");
  groups.add_options()("run", po::value(&dirs),
                       "run folders (--out of seqgrad train), given as the arguments")(
      "out", po::value(&out), "file to write (default: report.html in the first run folder)")(
      "examples", po::value(&examples)->default_value(examples),
      "validation examples whose attention maps are drawn (0: none)")(
      "threads", po::value(&c.threads)->default_value(0), "threads (0: all cores)");
  po::positional_options_description pos;
  pos.add("run", -1);
  po::variables_map vm;
  if (!parse_config("report RUN_DIR [RUN_DIR...]", args, groups, c, vm, &pos)) return 0;
  if (dirs.empty()) throw UsageError("no run folder given (seqgrad report RUN_DIR [RUN_DIR...])");
  if (examples < 0)
    throw UsageError("--examples: must be at least 0, got " + std::to_string(examples));
  use_threads(c.threads);

  std::vector<ReportRun> runs;
  for (const std::string& dir : dirs) {
    runs.push_back(load_report_run(dir));
    if (examples > 0) add_attention_from_checkpoints(runs.back(), examples);
  }
  const std::string path =
      out.empty() ? (std::filesystem::path(dirs[0]) / "report.html").string() : out;
  try {
    create_parent_folders(path);
    write_report(path, render_report(runs));
  } catch (const std::exception& e) {
    throw RunError((out.empty() ? std::string() : "--out: ") + e.what());
  }
  std::cout << "wrote " << path << std::endl;
  return 0;
}

}  // namespace sg::cli
