// The options eval, translate and attention share with train: its data options (and
// --max-tokens) and its model options, so that a command line or --config file written for train
// serves them too (docs/cli.md, "Options shared with train"). Given again, an option that decides
// the model or its vocabularies must agree with the checkpoint's run; the ones that describe the
// held-out data are eval's choices (HeldOutOptions), and translate and attention ignore them.
#pragma once

#include <string>

#include "train/cli/options.h"
#include "train/decode/inference.h"

namespace sg::cli {

// The data and model options without defaults: one is in the variables_map only when given.
po::options_description shared_train_options(Config& c);

// A usage error naming the first given option whose value contradicts the checkpoint's run
// (`run`, read from `checkpoint`), with both values. File names agree when they are equal or
// name the same file.
void check_against_run(const Config& c, const po::variables_map& vm, const Config& run,
                       const std::string& checkpoint);

// eval's choices among the shared options: --data, --valid, --min-len, --max-len, --valid-size.
HeldOutOptions held_out_options(const Config& c, const po::variables_map& vm);

}  // namespace sg::cli
