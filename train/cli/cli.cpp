#include "train/cli/cli.h"
#include "train/cli/options.h"

#include <iostream>
#include <map>

namespace sg::cli {

namespace {

// Reaches the protected substitution table of a Program_options error.
struct Substitutions : po::error_with_option_name {
  static std::map<std::string, std::string>& of(po::error_with_option_name& e) {
    return e.*(&Substitutions::m_substitutions);
  }
};

}  // namespace

std::string message_of(po::error& e) {
  if (auto* named = dynamic_cast<po::error_with_option_name*>(&e))
    for (auto& [key, text] : Substitutions::of(*named))
      for (size_t i = text.find('%'); i != std::string::npos; i = text.find('%', i))
        text.replace(i, 1, "\xef\xbc\x85");  // U+FF05 FULLWIDTH PERCENT SIGN
  return e.what();
}

bool parse_options(const std::string& command, const std::vector<std::string>& args,
                   const po::options_description& desc, po::variables_map& vm,
                   const po::positional_options_description* pos) {
  po::options_description all(desc);
  all.add_options()("config", po::value<std::string>(), "read options from an INI file")(
      "dump-config", po::bool_switch(), "print the effective configuration as INI and exit")(
      "help,h", "show this help and exit");
  // Unique-prefix guessing is on by default in Program_options; it silently reads --batch as
  // any option that starts so. Only exact names are accepted here.
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    po::command_line_parser parser(args);
    parser.options(all).style(style);
    if (pos)
      parser.positional(*pos);
    else
      parser.positional(po::positional_options_description());
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: seqgrad " << command << " [options]\n\n" << all;
      return false;
    }
    if (vm.count("config")) store_config_file(vm["config"].as<std::string>(), desc, vm);
    po::notify(vm);
  } catch (po::error& e) {
    throw UsageError(message_of(e));
  }
  if (vm["dump-config"].as<bool>()) {
    std::cout << "# seqgrad " << command << ": read back with --config FILE\n"
              << dump_ini(desc, vm);
    return false;
  }
  return true;
}

const std::vector<Command>& commands() {
  static const std::vector<Command> cmds = {
      {"train", "trains a model (default: the copy task, checkpoints under runs/copy/)", cmd_train},
      {"eval", "loss and accuracy of a checkpoint on a task or a TSV file", cmd_eval},
      {"translate", "decodes source lines (stdin, or --input TEXT) with a checkpoint",
       cmd_translate},
      {"inspect", "describes a checkpoint: config, step, parameters, optimizer", cmd_inspect},
      {"bench", "training-throughput benchmark on the reference recipe (docs/cli.md)", cmd_bench},
      {"attention", "renders the self- and cross-attention maps of one input (SVG or HTML)",
       cmd_attention},
      {"report", "writes report.html for run folders: curves, checkpoints, attention, config",
       cmd_report},
      {"average", "writes a checkpoint whose parameters are the mean of several", cmd_average},
      {"gradcheck", "finite-difference gradient checks of every op and layer, in float64",
       cmd_gradcheck},
  };
  return cmds;
}

}  // namespace sg::cli
