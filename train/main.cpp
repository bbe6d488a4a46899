// seqgrad <command> [options]: dispatches to a command and turns every failure into one line on
// stderr that begins "seqgrad: error:", with exit code 2 for usage errors and 1 otherwise.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>

#include "train/cli.h"
#include "train/distributed.h"

namespace {

void print_usage(std::ostream& os) {
  os << "Usage: seqgrad <command> [options]\n\nCommands:\n";
  for (const auto& c : sg::cli::commands()) {
    os << "  " << c.name;
    for (size_t i = std::strlen(c.name); i < 12; ++i) os << ' ';
    os << c.summary << '\n';
  }
  os << "\nRun 'seqgrad <command> --help' for a command's options.\n";
}

int error(const std::string& msg, int code) {
  // One line of text, whatever the message quotes (a binary file's bytes, say).
  std::string line = msg;
  for (char& ch : line)
    if (ch == '\n' || ch == '\r' || ch == '\t')
      ch = ' ';
    else if ((ch >= 0 && ch < 0x20) || ch == 0x7f)
      ch = '?';
  std::cerr << "seqgrad: error: " << line << std::endl;
  return code;
}

}  // namespace

int run_command(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cout);  // stderr keeps the one error line
    return error("no command given (see 'seqgrad --help')", 2);
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return 0;
  }
  if (name == "--version") {
    std::cout << "seqgrad " << SEQGRAD_VERSION << '\n';
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    for (const auto& c : sg::cli::commands())
      if (name == c.name) return c.run(args);
    return error("unknown command '" + name + "' (see 'seqgrad --help')", 2);
  } catch (const sg::cli::UsageError& e) {
    return error(e.what(), 2);
  } catch (const std::bad_alloc&) {
    return error("out of memory", 1);
  } catch (const std::exception& e) {
    return error(e.what(), 1);
  }
}

// Under mpirun, a rank that fails takes the whole job down rather than leaving the others waiting.
int main(int argc, char** argv) {
  // Threads that wait for work sleep instead of spinning: a spinning thread takes the core from
  // the one doing the work whenever the machine has other load, which made 2-thread steps 6x
  // slower than 1-thread ones on a busy 2-core machine. libgomp reads the policy when it loads,
  // before main, so it is set by executing this program once more; a user's own setting wins.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    ::setenv("OMP_WAIT_POLICY", "passive", 1);
    ::execv("/proc/self/exe", argv);  // on failure, carry on with the default policy
  }
  try {
    sg::dist::init(&argc, &argv);
  } catch (const std::exception& e) {
    return error(e.what(), 1);
  }
  const int code = run_command(argc, argv);
  if (code != 0 && sg::dist::active()) sg::dist::abort_all(code);
  sg::dist::finalize();
  return code;
}
