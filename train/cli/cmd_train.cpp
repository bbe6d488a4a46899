// seqgrad train: trains a model (with no options, the copy task with the default config).
#include <filesystem>

#include "train/cli/options.h"
#include "train/loop/trainer.h"

namespace sg::cli {

int cmd_train(const std::vector<std::string>& args) {
  Config c;
  const po::options_description groups = train_options(c);
  po::variables_map vm;
  if (!parse_config("train", args, groups, c, vm)) return 0;
  std::vector<std::string> given;
  for (const auto& [name, value] : vm)
    if (!value.defaulted() && name != "no-shuffle") given.push_back(name);
  if (vm.count("no-shuffle") && vm["no-shuffle"].as<bool>()) given.push_back("no-shuffle");
  // A run that fails before writing anything leaves no --out folder behind: the folders it
  // created are removed again if they are still empty (a non-empty folder is never removed).
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> created;  // innermost first
  for (fs::path p = c.out.empty() ? fs::path("runs") / c.task : fs::path(c.out);
       !p.empty() && p != p.parent_path() && !fs::exists(p, ec); p = p.parent_path())
    created.push_back(p);
  try {
    Trainer trainer(c, given);
    return trainer.run();
  } catch (...) {
    for (const fs::path& p : created)
      if (fs::is_empty(p, ec)) fs::remove(p, ec);
    throw;
  }
}

}  // namespace sg::cli
