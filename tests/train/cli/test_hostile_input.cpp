// Wrong invocations of the real `seqgrad` binary (SEQGRAD_BINARY), run as a child process with a
// time limit: bad flags and values, unknown commands, missing, empty, binary and huge files, wrong
// checkpoint kinds, an unwritable --out, models and inputs too large. Every case must exit with the
// code of docs/cli.md (1 a run-time failure, 2 a usage error), print exactly one stderr line that
// begins "seqgrad: error:" and names what was wrong, not die by a signal, and leave no file or
// folder behind (the child runs inside a scratch folder whose whole listing is compared).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "train/checkpoint/hdf5.h"

namespace sg {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kTimeoutSeconds = 60;  // far above what a case needs, also in a sanitizer build

struct Outcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs SEQGRAD_BINARY args... in `cwd` with stdin from `stdin_path` (or /dev/null). The child
// gets an alarm() that survives exec, so a hang ends in SIGALRM instead of a stuck test.
Outcome run_seqgrad(const std::vector<std::string>& args, const fs::path& cwd,
                    const fs::path& io_dir, const std::string& stdin_path = "/dev/null") {
  std::vector<std::string> argv_s = {SEQGRAD_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_path = (io_dir / "stdout").string();
  const std::string err_path = (io_dir / "stderr").string();
  const std::string cwd_s = cwd.string();
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls until exec
    const int in = ::open(stdin_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 ||
        ::dup2(err, 2) < 0 || ::chdir(cwd_s.c_str()) != 0)
      ::_exit(127);
    ::alarm(kTimeoutSeconds);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Outcome o;
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) {
    ADD_FAILURE() << "cannot run " << SEQGRAD_BINARY << ": " << std::strerror(errno);
    return o;
  }
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  o.out = read_all(out_path);
  o.err = read_all(err_path);
  return o;
}

// Every path below `dir` (files and folders), relative, sorted.
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    names.insert(fs::relative(e.path(), dir).string());
  return names;
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

// `n` bytes of splitmix64 noise: a binary file that is no text, no INI and no HDF5.
std::string junk(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    std::memcpy(&s[i], &z, std::min<size_t>(8, n - i));
  }
  return s;
}

struct Case {
  const char* name;
  std::vector<std::string> args;  // "@" at the start of an argument: a path in the fixtures
  int code;                       // expected exit code
  std::string mentions;           // the error line must contain this
  const char* stdin_file = nullptr;
};

std::vector<Case> cases() {
  const std::string tiny_model[] = {"--d-model", "8", "--heads", "2", "--ff", "16"};
  auto tiny = [&](std::vector<std::string> a) {
    a.insert(a.end(), std::begin(tiny_model), std::end(tiny_model));
    a.insert(a.end(), {"--enc-layers", "1", "--dec-layers", "1", "--threads", "1"});
    return a;
  };
  std::string tokens_600;
  for (int i = 0; i < 600; ++i) tokens_600 += "1 ";
  return {
      // ---- usage errors: exit 2
      {"no_command", {}, 2, "no command"},
      {"unknown_command", {"frobnicate"}, 2, "frobnicate"},
      {"unknown_flag", {"train", "--no-such-flag"}, 2, "no-such-flag"},
      {"guessed_prefix_flag", {"train", "--ste", "5"}, 2, "ste"},
      {"flag_without_value", {"train", "--steps"}, 2, "steps"},
      {"non_numeric_value", {"train", "--steps", "abc"}, 2, "steps"},
      {"value_with_placeholder", {"train", "--steps", "%value%"}, 2, "--steps"},
      {"negative_steps", {"train", "--steps", "-5"}, 2, "--steps"},
      {"integer_overflow", {"train", "--d-model", "99999999999999999999"}, 2, "d-model"},
      {"zero_d_model", {"train", "--d-model", "0"}, 2, "--d-model"},
      {"heads_not_dividing", {"train", "--heads", "3"}, 2, "--heads"},
      {"dropout_out_of_range", {"train", "--dropout", "1.5"}, 2, "--dropout"},
      {"nan_learning_rate", {"train", "--lr", "nan"}, 2, "--lr"},
      {"unknown_task", {"train", "--task", "poetry"}, 2, "--task"},
      {"unknown_optimizer", {"train", "--optim", "lbfgs"}, 2, "--optim"},
      {"huge_max_len", {"train", "--max-len", "100000000"}, 2, "--max-len"},
      {"huge_symbols", {"train", "--symbols", "1000000000"}, 2, "--symbols"},
      // Drawing ten million held-out examples took all the memory before the first step.
      {"huge_valid_size",
       {"train", "--valid-size", "10000000", "--out", "@out"},
       2,
       "--valid-size"},
      {"min_len_above_max_len", {"train", "--min-len", "5", "--max-len", "2"}, 2, "--min-len"},
      {"huge_beam", {"translate", "--checkpoint", "@ck.h5", "--beam", "1000000"}, 2, "--beam"},
      // A team of 100000 OpenMP threads crashed libgomp at the first parallel region.
      {"huge_threads_train", {"train", "--threads", "100000", "--out", "@out"}, 2, "--threads"},
      {"huge_threads_eval",
       {"eval", "--checkpoint", "@ck.h5", "--threads", "100000"},
       2,
       "--threads"},
      {"huge_threads_bench", {"bench", "--threads", "100000", "--steps", "1"}, 2, "--threads"},
      {"translate_without_checkpoint", {"translate", "--input", "1 2"}, 2, "--checkpoint"},
      {"inspect_without_path", {"inspect"}, 2, "inspect"},
      {"inspect_two_paths", {"inspect", "@ck.h5", "@ck.h5"}, 2, "positional"},
      {"config_unknown_option", {"train", "--config", "@unknown.ini"}, 2, "unknown.ini"},
      {"config_invalid_value", {"train", "--config", "@bad_value.ini"}, 2, "bad_value.ini"},
      {"config_binary_50mb", {"train", "--config", "@junk.bin"}, 2, "junk.bin"},
      {"resume_changes_model",
       {"train", "--resume", "@ck.h5", "--d-model", "16", "--out", "@out"},
       2,
       "--d-model"},
      // ---- run-time failures: exit 1
      {"config_missing", {"train", "--config", "@missing.ini"}, 1, "missing.ini"},
      {"config_is_directory", {"train", "--config", "@dir"}, 1, "dir"},
      {"tsv_missing",
       {"train", "--task", "tsv", "--train", "@missing.tsv", "--out", "@out"},
       1,
       "missing.tsv"},
      {"tsv_empty",
       {"train", "--task", "tsv", "--train", "@empty.tsv", "--out", "@out"},
       1,
       "empty.tsv"},
      {"tsv_no_tab",
       {"train", "--task", "tsv", "--train", "@no_tab.tsv", "--out", "@out"},
       1,
       "no_tab.tsv:2"},
      {"tsv_binary_50mb",
       {"train", "--task", "tsv", "--train", "@junk.bin", "--out", "@out"},
       1,
       "junk.bin:1"},
      {"tsv_line_of_10m_tokens",
       {"train", "--task", "tsv", "--train", "@long_line.tsv", "--out", "@out"},
       1,
       "long_line.tsv:1"},
      {"tsv_is_directory",
       {"train", "--task", "tsv", "--train", "@dir", "--out", "@out"},
       1,
       "dir"},
      {"valid_missing",
       {"train", "--task", "tsv", "--train", "@good.tsv", "--valid", "@missing.tsv", "--out",
        "@out/a/b"},
       1,
       "missing.tsv"},
      {"checkpoint_missing",
       {"translate", "--checkpoint", "@missing.h5", "--input", "1"},
       1,
       "missing.h5"},
      {"checkpoint_is_tsv",
       {"translate", "--checkpoint", "@good.tsv", "--input", "1"},
       1,
       "good.tsv"},
      {"checkpoint_is_directory", {"eval", "--checkpoint", "@dir"}, 1, "dir"},
      {"checkpoint_empty_file", {"eval", "--checkpoint", "@empty.tsv"}, 1, "empty.tsv"},
      {"checkpoint_binary_50mb", {"inspect", "@junk.bin"}, 1, "junk.bin"},
      {"checkpoint_not_seqgrad_hdf5",
       {"translate", "--checkpoint", "@other.h5", "--input", "1"},
       1,
       "not a seqgrad checkpoint"},
      {"checkpoint_newer_version", {"inspect", "@future.h5"}, 1, "format_version"},
      {"checkpoint_truncated",
       {"translate", "--checkpoint", "@truncated.h5", "--input", "1"},
       1,
       "truncated.h5"},
      {"resume_truncated", tiny({"train", "--resume", "@truncated.h5", "--out", "@out"}), 1,
       "truncated.h5"},
      {"resume_tsv_file", tiny({"train", "--resume", "@good.tsv", "--out", "@out"}), 1, "good.tsv"},
      {"out_below_a_file", tiny({"train", "--steps", "0", "--out", "@good.tsv/run"}), 1, "--out"},
      {"model_too_large",
       {"train", "--d-model", "1000000", "--ff", "1000000", "--out", "@out"},
       1,
       "--d-model 1000000 --ff 1000000"},
      {"too_many_layers",
       {"train", "--enc-layers", "100000000", "--d-model", "4096", "--out", "@out"},
       1,
       "--enc-layers 100000000"},
      {"translate_input_too_long",
       {"translate", "--checkpoint", "@ck.h5", "--input", tokens_600},
       2,
       "--input: 600 tokens"},
      {"translate_stdin_line_too_long",
       {"translate", "--checkpoint", "@ck.h5"},
       1,
       "stdin:2: 600 tokens",
       "long_stdin.txt"},
      {"eval_data_line_too_long",
       {"eval", "--checkpoint", "@ck.h5", "--data", "@long600.tsv"},
       1,
       "long600.tsv:2"},
      {"eval_data_binary",
       {"eval", "--checkpoint", "@ck.h5", "--data", "@junk.bin"},
       1,
       "junk.bin"},
      {"diverging_loss", tiny({"train", "--lr", "1e308", "--steps", "5", "--out", "@out"}), 1,
       "non-finite loss"},
  };
}

class HostileInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("seqgrad_hostile_" + std::to_string(::getpid()));
    io_ = dir_.string() + "_io";
    fs::remove_all(dir_);
    fs::remove_all(io_);
    fs::create_directories(dir_ / "dir");
    fs::create_directories(io_);
    write_file(dir_ / "empty.tsv", "");
    write_file(dir_ / "good.tsv", "1 2 3\t3 2 1\n4 5\t5 4\n");
    write_file(dir_ / "no_tab.tsv", "1 2\t2 1\n1 2 2 1\n");
    write_file(dir_ / "unknown.ini", "steps = 5\nno-such-option = 1\n");
    write_file(dir_ / "bad_value.ini", "d-model = twelve\n");
    write_file(dir_ / "junk.bin", junk(50u << 20, 1));
    std::string line;
    line.reserve(20'000'010);
    for (int i = 0; i < 10'000'000; ++i) line += "a ";
    write_file(dir_ / "long_line.tsv", line + "\tb\n");
    // 600 tokens: more than the 511 the tiny checkpoint's positional table takes.
    std::string tokens_600;
    for (int i = 0; i < 600; ++i) tokens_600 += "1 ";
    write_file(dir_ / "long_stdin.txt", "1 2\n" + tokens_600 + "\n");
    write_file(dir_ / "long600.tsv", "1 2\t2 1\n" + tokens_600 + "\t1\n");
    // A real checkpoint of a tiny model, made by the binary under test.
    const Outcome made =
        run_seqgrad({"train", "--steps", "0", "--d-model", "8", "--heads", "2", "--ff", "16",
                     "--enc-layers", "1", "--dec-layers", "1", "--threads", "1", "--out", "made"},
                    dir_, io_);
    ASSERT_EQ(made.exit_code, 0) << made.err;
    fs::rename(dir_ / "made" / "ckpt-0.h5", dir_ / "ck.h5");
    fs::remove_all(dir_ / "made");
    const std::string ck = read_all(dir_ / "ck.h5");
    write_file(dir_ / "truncated.h5", ck.substr(0, ck.size() / 2));
    {
      H5File f = H5File::create((dir_ / "other.h5").string());
      const float x[3] = {1, 2, 3};
      f.write("data", x, {3});
      f.set_attr_str("/", "format", "someone-elses-format");
      f.close();
    }
    {
      H5File f = H5File::create((dir_ / "future.h5").string());
      f.set_attr_str("/", "format", "seqgrad-checkpoint");
      f.set_attr_i64("/", "format_version", 99);
      f.close();
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(dir_);
    fs::remove_all(io_);
  }

  static fs::path dir_, io_;
};

fs::path HostileInput::dir_, HostileInput::io_;

TEST_F(HostileInput, EveryCaseFailsWithOneErrorLineAndItsExitCode) {
  const std::set<std::string> before = listing(dir_);
  const auto all = cases();
  ASSERT_GE(all.size(), 30u);
  for (const Case& c : all) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> args;
    for (const auto& a : c.args) args.push_back(a[0] == '@' ? (dir_ / a.substr(1)).string() : a);
    const std::string in = c.stdin_file ? (dir_ / c.stdin_file).string() : "/dev/null";
    const Outcome o = run_seqgrad(args, dir_, io_, in);
    EXPECT_EQ(o.signal, 0) << "killed by signal " << o.signal << "; stderr: " << o.err;
    EXPECT_EQ(o.exit_code, c.code) << o.err;
    const std::string prefix = "seqgrad: error: ";
    EXPECT_EQ(o.err.rfind(prefix, 0), 0u) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_TRUE(!o.err.empty() && o.err.back() == '\n') << o.err;
    EXPECT_NE(o.err.find(c.mentions), std::string::npos)
        << "expected '" << c.mentions << "' in " << o.err;
    EXPECT_EQ(listing(dir_), before) << "a file or folder was left behind";
  }
}

}  // namespace
}  // namespace sg
