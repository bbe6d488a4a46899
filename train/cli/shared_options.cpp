#include "train/cli/shared_options.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace sg::cli {

namespace {

// Options that describe the data a command reads rather than the model: eval's choices, which
// never contradict the checkpoint. --max-tokens forms training batches (eval batches by --batch).
constexpr const char* kDataChoices[] = {"valid",   "data",       "min-len",
                                        "max-len", "valid-size", "max-tokens"};

bool is_data_choice(const std::string& name) {
  return std::find(std::begin(kDataChoices), std::end(kDataChoices), name) !=
         std::end(kDataChoices);
}

// Options whose value is a file name: the same file under another name agrees.
bool names_a_file(const std::string& name) {
  return name == "train" || name == "spm-model";
}

bool given(const po::variables_map& vm, const std::string& name) {
  return vm.count(name) && !vm[name].defaulted();
}

std::string json_key(const std::string& option) {
  if (option == "train") return "train_file";
  std::string k = option;
  std::replace(k.begin(), k.end(), '-', '_');
  return k;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return a == b || std::filesystem::equivalent(a, b, ec);
}

}  // namespace

po::options_description shared_train_options(Config& c) {
  po::options_description d(
      "options shared with train (given again, they must agree with the "
      "checkpoint; see docs/cli.md)");
  d.add(data_options(c, false)).add(model_options(c, false));
  po::options_description batches;
  batches.add_options()("max-tokens", po::value(&c.max_tokens),
                        "token-based training batches (accepted for train's sake, not used)");
  d.add(batches);
  return d;
}

void check_against_run(const Config& c, const po::variables_map& vm, const Config& run,
                       const std::string& checkpoint) {
  const nlohmann::json mine = c.to_json(), theirs = run.to_json();
  Config probe;
  const po::options_description shared = shared_train_options(probe);
  for (const auto& opt : shared.options()) {
    const std::string name = opt->long_name();
    if (is_data_choice(name) || !given(vm, name)) continue;
    const std::string key = json_key(name);
    if (!mine.contains(key) || !theirs.contains(key) || mine[key] == theirs[key]) continue;
    if (names_a_file(name) && mine[key].is_string() && theirs[key].is_string() &&
        same_file(mine[key].get<std::string>(), theirs[key].get<std::string>()))
      continue;
    throw UsageError("--" + name + ": " + mine[key].dump() + " contradicts the checkpoint's " +
                     theirs[key].dump() + " (" + checkpoint + ")");
  }
}

HeldOutOptions held_out_options(const Config& c, const po::variables_map& vm) {
  HeldOutOptions o;
  o.data_file = c.data_file;
  if (given(vm, "valid")) o.valid_file = c.valid_file;
  if (given(vm, "min-len")) o.min_len = c.min_len;
  if (given(vm, "max-len")) o.max_len = c.max_len;
  if (given(vm, "valid-size")) o.valid_size = c.valid_size;
  return o;
}

}  // namespace sg::cli
