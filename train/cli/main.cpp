// seqgrad <command> [options]: dispatches to a command and turns every failure into one line on
// stderr that begins "seqgrad: error:", with exit code 2 for usage errors and 1 otherwise.
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <string_view>

#include "datasets/tokenizer.h"
#include "train/cli/cli.h"
#include "train/loop/distributed.h"

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
  // One line of UTF-8 text, whatever the message quotes (a binary file's bytes, say): line breaks
  // and tabs become spaces, other control characters '?', and a byte that is not part of valid
  // UTF-8 is written \xNN.
  std::string line;
  std::string_view rest = msg;
  while (!rest.empty()) {
    const size_t good = sg::Tokenizer::invalid_utf8_offset(rest).value_or(rest.size());
    for (char ch : rest.substr(0, good))
      line += ch == '\n' || ch == '\r' || ch == '\t' ? ' '
              : (ch >= 0 && ch < 0x20) || ch == 0x7f ? '?'
                                                     : ch;
    if (good == rest.size()) break;
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(rest[good]));
    line += hex;
    rest.remove_prefix(good + 1);
  }
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
  // Threads that wait for work spin briefly, then sleep. Long spinning (libgomp's default) takes
  // the core from the thread doing the work whenever the machine has other load, and 2-thread
  // steps then run several times slower than 1-thread ones. Never spinning costs a futex wake-up
  // per parallel region, which slows the small steps of a toy model on an idle machine
  // (bench/README.md has both measurements).
  // And train and bench ask malloc for transparent huge pages (glibc 2.35's
  // glibc.malloc.hugetlb=1; the kernel's default here is "madvise", so without it every tensor
  // sits on 4 KB pages): OpenBLAS packs GEMM operands that come from memory, and fewer TLB misses
  // make large steps faster. Faulting the huge pages in at start takes time in proportion to the
  // model's size, so the short commands (eval, translate, ...) keep 4 KB pages.
  // libgomp and glibc read these variables when the program loads, before main, so they are set
  // by executing this program once more; a user's own setting of any of them wins.
  bool reexec = false;
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
    ::setenv("GOMP_SPINCOUNT", "3000", 1);
    reexec = true;
  }
  const bool long_running =
      argc > 1 && (std::strcmp(argv[1], "train") == 0 || std::strcmp(argv[1], "bench") == 0);
  if (long_running && !std::getenv("GLIBC_TUNABLES")) {
    ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
    reexec = true;
  }
  if (reexec) ::execv("/proc/self/exe", argv);  // on failure, carry on with the defaults
  // Tensors up to 32 MB come from the heap and freed memory stays there, instead of every buffer of
  // 128 KB or more being a fresh mmap: a training step or decoding step allocates the same sizes
  // as the one before, and fresh pages cost a page fault each (measured on decoding:
  // bench/README.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
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
