// seqgrad gradcheck [--only NAME] [--json]: runs the gradcheck table and prints one row per case.
#include <iostream>

#include "layers/gradcheck_table.h"
#include "train/cli/cli.h"

namespace sg::cli {

int cmd_gradcheck(const std::vector<std::string>& args) {
  po::options_description desc("gradcheck options");
  std::string only;
  uint64_t seed = 0;
  desc.add_options()("only", po::value(&only),
                     "run only the case NAME, or the cases whose name starts with NAME")(
      "seed", po::value(&seed)->default_value(0), "seed for inputs and upstream gradients")(
      "json", po::bool_switch(), "print one JSON object per case");
  po::variables_map vm;
  if (!parse_options("gradcheck", args, desc, vm)) return 0;

  std::vector<GradCase> selected;
  for (const auto& c : gradcheck_table())
    if (only.empty() || c.name == only) selected.push_back(c);
  if (selected.empty())
    for (const auto& c : gradcheck_table())
      if (c.name.rfind(only, 0) == 0) selected.push_back(c);
  if (selected.empty()) throw UsageError("--only: no gradcheck case named '" + only + "'");
  GradTableOptions opt;
  opt.seed = seed;
  opt.json = vm["json"].as<bool>();
  return run_gradchecks(selected, std::cout, opt) ? 1 : 0;
}

}  // namespace sg::cli
