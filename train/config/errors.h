// The two kinds of failure a command reports (docs/cli.md, exit codes): a wrong invocation
// (unknown option, invalid value: exit 2) and a failure at run time (missing file, corrupt
// checkpoint, NaN loss: exit 1). Thrown wherever the problem is found; the command line turns
// each into one `seqgrad: error:` line and its exit code.
#pragma once

#include <stdexcept>

namespace sg {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sg
