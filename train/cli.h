// Command-line plumbing shared by every `seqgrad <command>`: errors with SPEC exit codes
// (usage errors exit 2, run-time failures exit 1) and Program_options parsing without guessing.
#pragma once

#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace sg::cli {

namespace po = boost::program_options;

// A wrong invocation: unknown option, invalid value. Exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A failure at run time: missing file, corrupt checkpoint, NaN loss. Exit code 1.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses args (without the command name) into vm; exact option names only, no positional
// arguments unless `pos` names them. Throws UsageError. Returns false if --help was given (and
// prints usage to stdout).
bool parse_options(const std::string& command, const std::vector<std::string>& args,
                   const po::options_description& desc, po::variables_map& vm,
                   const po::positional_options_description* pos = nullptr);

// Sets the threads of our parallel loops and of OpenBLAS (0: all cores).
void use_threads(int threads);
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

}  // namespace sg::cli
