// seqgrad gradcheck [--only NAME] [--json]: runs the gradcheck table and prints one row per case.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

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
  const bool json = vm["json"].as<bool>();

  std::vector<const GradCase*> selected;
  for (const auto& c : gradcheck_table())
    if (only.empty() || c.name == only) selected.push_back(&c);
  if (selected.empty())
    for (const auto& c : gradcheck_table())
      if (c.name.rfind(only, 0) == 0) selected.push_back(&c);
  if (selected.empty()) throw UsageError("--only: no gradcheck case named '" + only + "'");

  int failed = 0;
  if (!json)
    std::printf("%-40s %-6s %12s %12s  %s\n", "case", "kind", "max_abs_err", "max_rel_err", "ok");
  for (const GradCase* c : selected) {
    const GradResult r = check_gradients(*c, seed);
    failed += !r.passed;
    if (json) {
      nlohmann::json j = {{"name", r.name},
                          {"kind", r.kind},
                          {"max_abs_err", r.max_abs_err},
                          {"max_rel_err", r.max_rel_err},
                          {"passed", r.passed}};
      if (!r.error.empty()) j["error"] = r.error;
      std::cout << j.dump() << std::endl;
    } else {
      std::printf("%-40s %-6s %12.3e %12.3e  %s%s%s\n", r.name.c_str(), r.kind.c_str(),
                  r.max_abs_err, r.max_rel_err, r.passed ? "ok" : "FAIL",
                  r.error.empty() ? "" : "  ", r.error.c_str());
      std::fflush(stdout);
    }
  }
  if (!json)
    std::printf("%zu cases, %zu passed, %d failed\n", selected.size(), selected.size() - failed,
                failed);
  return failed ? 1 : 0;
}

}  // namespace sg::cli
