// seqgrad train: trains a model (with no options, the copy task with the default config).
#include "train/options.h"
#include "train/trainer.h"

namespace sg::cli {

int cmd_train(const std::vector<std::string>& args) {
  Config c;
  po::options_description groups;
  groups.add(data_options(c)).add(model_options(c)).add(optim_options(c)).add(run_options(c));
  po::variables_map vm;
  if (!parse_config("train", args, groups, c, vm)) return 0;
  std::vector<std::string> given;
  for (const auto& [name, value] : vm)
    if (!value.defaulted() && name != "no-shuffle") given.push_back(name);
  if (vm.count("no-shuffle") && vm["no-shuffle"].as<bool>()) given.push_back("no-shuffle");
  Trainer trainer(c, given);
  return trainer.run();
}

}  // namespace sg::cli
