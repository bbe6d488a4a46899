// Command-line plumbing shared by every `seqgrad <command>`: errors with the exit codes of
// docs/cli.md
// (usage errors exit 2, run-time failures exit 1) and Program_options parsing without guessing.
#pragma once

#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "train/config/errors.h"

namespace sg::cli {

namespace po = boost::program_options;

using sg::RunError;    // exit code 1
using sg::UsageError;  // exit code 2

// Parses args (without the command name) into vm; exact option names only, no positional
// arguments unless `pos` names them; --config FILE reads options from an INI file (the command
// line wins) and --dump-config prints the effective options as one. Throws UsageError (RunError
// for an unreadable --config file). Returns false if --help or --dump-config was given (having
// printed what was asked to stdout).
bool parse_options(const std::string& command, const std::vector<std::string>& args,
                   const po::options_description& desc, po::variables_map& vm,
                   const po::positional_options_description* pos = nullptr);

// The message of a Program_options error. Boost 1.74 builds it by replacing placeholders such as
// %value% until none is left, so a value that itself contains one ("--steps %value%") loops
// forever inside what(); the '%' of the user's text is replaced by U+FF05 first.
std::string message_of(po::error& e);

using CommandFn = int (*)(const std::vector<std::string>& args);
struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
};
const std::vector<Command>& commands();

int cmd_gradcheck(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_translate(const std::vector<std::string>& args);
int cmd_inspect(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_attention(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_average(const std::vector<std::string>& args);

}  // namespace sg::cli
