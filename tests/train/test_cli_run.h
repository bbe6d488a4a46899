// Helpers for tests that run the seqgrad executable (SEQGRAD_BINARY): a scratch folder, running a
// command with optional stdin and capturing exit code, stdout and stderr, and checking the error
// contract of docs/cli.md (exactly one stderr line beginning "seqgrad: error:", the right exit
// code).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sg::testing {

namespace fs = std::filesystem;

// A fresh folder under the system temp folder, removed with everything in it at the end.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("seqgrad-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }
  // Writes bytes exactly as given (no newline translation); returns the file's path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = *this / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  fs::path path_;
};

struct RunResult {
  int code = -1;
  std::string out, err;
  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(err);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
};

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `seqgrad args...` in folder `cwd` with `input` on stdin.
inline RunResult run_seqgrad(const std::vector<std::string>& args, const ScratchDir& cwd,
                             const std::string& input = "") {
  static std::atomic<int> counter{0};
  const std::string tag = "run" + std::to_string(counter++);
  const std::string in = cwd.write(tag + ".in", input);
  std::string cmd = "cd ";
  cmd += shell_quote(cwd.path().string());
  cmd += " && " SEQGRAD_BINARY;
  for (const auto& a : args) {
    cmd += ' ';
    cmd += shell_quote(a);
  }
  cmd += " <" + shell_quote(in) + " >" + shell_quote(cwd / (tag + ".out")) + " 2>" +
         shell_quote(cwd / (tag + ".err"));
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_all(cwd / (tag + ".out"));
  r.err = read_all(cwd / (tag + ".err"));
  return r;
}

// The error contract of docs/cli.md: exit code `code`, and stderr is exactly one line that begins
// "seqgrad: error:" and contains every one of `names` (the flag, file, line...).
inline void expect_error(const RunResult& r, int code, const std::vector<std::string>& names) {
  EXPECT_EQ(r.code, code) << "stderr: " << r.err;
  const auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "stderr: " << r.err;
  EXPECT_EQ(lines[0].rfind("seqgrad: error: ", 0), 0u) << lines[0];
  for (const auto& n : names) EXPECT_NE(lines[0].find(n), std::string::npos) << lines[0];
}

// Options of a tiny, fast model for runs in tests.
inline std::vector<std::string> cli_tiny_model() {
  return {"--d-model",    "32", "--heads",      "2", "--ff",      "64",
          "--enc-layers", "1",  "--dec-layers", "1", "--threads", "1"};
}

inline std::vector<std::string> concat(std::vector<std::string> a,
                                       const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace sg::testing
