// seqgrad inspect PATH [--json]: a checkpoint's format version, step, config, parameters with
// their shapes, parameter count, optimizer and schedule, and the training data's lengths.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/hdf5.h"
#include "train/cli/options.h"

namespace sg::cli {

int cmd_inspect(const std::vector<std::string>& args) {
  std::string path;
  bool json = false;
  po::options_description desc("inspect options");
  desc.add_options()("checkpoint", po::value(&path), "checkpoint file (or give it as PATH)")(
      "json", po::bool_switch(&json), "print one JSON object");
  po::positional_options_description pos;
  pos.add("checkpoint", 1);
  po::variables_map vm;
  if (!parse_options("inspect", args, desc, vm, &pos)) return 0;
  if (path.empty()) throw UsageError("inspect: give a checkpoint PATH");
  const CheckpointContents c = read_checkpoint(path);
  const H5File f = H5File::open_read(path);
  nlohmann::json params = nlohmann::json::array();
  int64_t count = 0;
  for (const auto& name : f.list("model")) {
    const Shape s = f.shape_of("model/" + name);
    count += shape_numel(s);
    params.push_back({{"name", name}, {"shape", s}});
  }
  nlohmann::json optim = nlohmann::json::object();
  if (f.exists("optimizer"))
    for (const auto& a : f.attr_names("optimizer")) {
      if (a == "type")
        optim[a] = f.attr_str("optimizer", a);
      else if (a == "step")
        optim[a] = f.attr_i64("optimizer", a);
      else
        optim[a] = f.attr_f64("optimizer", a);
    }
  nlohmann::json sched = nlohmann::json::object();
  if (c.state.schedule) {
    sched = {{"kind", schedule_kind_name(c.state.schedule->kind)},
             {"base_lr", c.state.schedule->base_lr},
             {"warmup", c.state.schedule->warmup},
             {"total_steps", c.state.schedule->total_steps}};
    for (const char* a : {"step", "last_lr"})
      if (f.has_attr("scheduler", a))
        sched[a] = std::string(a) == "step" ? nlohmann::json(f.attr_i64("scheduler", a))
                                            : nlohmann::json(f.attr_f64("scheduler", a));
  }
  // The training data's lengths (the default decode limit's basis); null in older checkpoints.
  nlohmann::json lengths = nullptr;
  if (c.state.lengths.known())
    lengths = {{"max_tgt_len", c.state.lengths.max_tgt_len},
               {"max_len_ratio", c.state.lengths.ratio()}};
  const nlohmann::json out = {
      {"format_version", c.format_version},
      {"step", c.state.step},
      {"epoch", c.state.epoch},
      {"config", c.config.to_json()},
      {"parameters", params},
      {"parameter_count", count},
      {"optimizer", optim},
      {"scheduler", sched},
      {"vocab_sizes", {{"src", c.src_vocab.size()}, {"tgt", c.tgt_vocab.size()}}},
      {"train_lengths", lengths}};
  if (json) {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  std::printf("%s\n  format_version %lld, step %lld, epoch %lld\n", path.c_str(),
              static_cast<long long>(c.format_version), static_cast<long long>(c.state.step),
              static_cast<long long>(c.state.epoch));
  std::printf("  vocabulary: %zu source, %zu target tokens\n", c.src_vocab.size(),
              c.tgt_vocab.size());
  std::printf("  training data: %s\n",
              lengths.is_null() ? "lengths not recorded" : lengths.dump().c_str());
  std::printf("  optimizer: %s\n", optim.dump().c_str());
  std::printf("  scheduler: %s\n", sched.dump().c_str());
  std::printf("  config: %s\n", c.config.to_json().dump().c_str());
  std::printf("  parameters (%lld):\n", static_cast<long long>(count));
  for (const auto& p : params)
    std::printf("    %-60s %s\n", p["name"].get<std::string>().c_str(),
                shape_str(p["shape"].get<Shape>()).c_str());
  return 0;
}

}  // namespace sg::cli
