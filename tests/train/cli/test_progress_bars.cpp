// Progress as a user sees it, with stderr on a pseudo-terminal: `train` redraws one bar in place
// (with the rate and the time left) and prints the evaluations above it, `eval` shows a bar
// that it erases for its result, `translate` of a file shows a bar on stderr while the
// translations go to stdout. Not on a terminal, training logs plain lines; with --json, stdout
// holds JSON only and nothing reaches stderr.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include "tests/train/seqgrad_process.h"

namespace sg {
namespace {

using namespace sg::testing;

struct TerminalRun {
  int code = -1;
  std::string tty;  // what the terminal received (its line discipline turns "\n" into "\r\n")
  std::string out;  // stdout (a file, unless it is the terminal too)
};

constexpr int kColumns = 100;

// Runs `seqgrad args...` in `cwd` with stderr on a new pseudo-terminal of kColumns columns (its
// controlling terminal), stdin from `input` (or /dev/null) and stdout to a file, or to the
// terminal too.
TerminalRun run_on_terminal(const fs::path& cwd, const std::vector<std::string>& args,
                            const fs::path& input = "/dev/null", bool stdout_on_terminal = false) {
  int master = -1, slave = -1;
  winsize ws{};
  ws.ws_row = 30;
  ws.ws_col = kColumns;
  if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) throw std::runtime_error("openpty");
  std::vector<std::string> argv_s = {SEQGRAD_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_path = (cwd / ".terminal-stdout").string(), cwd_s = cwd.string(),
                    in_path = input.string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out =
        stdout_on_terminal ? slave : ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (::chdir(cwd_s.c_str()) != 0 || in < 0 || out < 0 || ::dup2(in, 0) < 0 ||
        ::dup2(out, 1) < 0 || ::dup2(slave, 2) < 0)
      ::_exit(127);
    ::close(master);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(slave);
  TerminalRun r;
  // Read until the last process holding the terminal closes it (EIO), within 10 minutes.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  char buf[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "no end in 10 minutes";
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    r.tty.append(buf, static_cast<size_t>(n));
  }
  ::close(master);
  r.code = wait_exit(pid);
  if (!stdout_on_terminal) r.out = read_text(out_path);
  return r;
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + what.size())) ++n;
  return n;
}

// The drawings of a bar: the texts between a '\r' and the erase-to-end-of-line that ends them.
std::vector<std::string> drawings(const std::string& tty, const std::string& label) {
  std::vector<std::string> out;
  for (size_t i = tty.find("\r" + label); i != std::string::npos;
       i = tty.find("\r" + label, i + 1)) {
    const size_t end = tty.find("\x1b[K", i);
    if (end != std::string::npos) out.push_back(tty.substr(i + 1, end - i - 1));
  }
  return out;
}

int columns(const std::string& s) {
  return static_cast<int>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::vector<std::string> run40(const std::vector<std::string>& extra = {}) {
  return std::vector<std::string>{"train", "--steps", "40", "--eval-every", "20", "--out", "run"} +
         tiny_model_logging_every(10) + extra;
}

class ProgressBars : public ScratchTest {};

TEST_F(ProgressBars, TrainingRedrawsOneBarAndPrintsEvaluationsAboveIt) {
  const TerminalRun r = run_on_terminal(dir_, run40());
  ASSERT_EQ(r.code, 0) << r.tty;
  const auto bars = drawings(r.tty, "train ");
  ASSERT_GE(bars.size(), 3u) << r.tty;
  for (const std::string& b : bars) {
    EXPECT_LE(columns(b), kColumns - 1) << b;  // fits, so the terminal never wraps it
    EXPECT_NE(b.find(" steps/s"), std::string::npos) << b;
  }
  EXPECT_NE(bars.front().find("0/40 steps"), std::string::npos) << bars.front();
  EXPECT_NE(bars[bars.size() / 2].find(" left"), std::string::npos) << bars[bars.size() / 2];
  EXPECT_NE(bars.back().find("train 100% |"), std::string::npos) << bars.back();
  EXPECT_NE(bars.back().find("40/40 steps"), std::string::npos) << bars.back();
  EXPECT_NE(r.tty.find("loss "), std::string::npos);  // the latest loss rides along
  // Each evaluation has a bar of its own on the same line, erased when it is done.
  EXPECT_GE(drawings(r.tty, "eval ").size(), 2u) << r.tty;
  EXPECT_NE(r.tty.find("sequences"), std::string::npos);
  // The log lines are not printed: the bar replaces them. The evaluations go to stdout.
  EXPECT_EQ(r.tty.find("step 10/40"), std::string::npos);
  EXPECT_EQ(count(r.out, "eval step 20 "), 1) << r.out;
  EXPECT_EQ(count(r.out, "eval step 40 "), 1) << r.out;
  EXPECT_NE(r.out.find("saved run/ckpt-40.h5"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  // The finished bar stays, on a line of its own.
  EXPECT_EQ(r.tty.substr(r.tty.size() - 2), "\r\n");
}

TEST_F(ProgressBars, JsonPutsNothingOnTheTerminal) {
  const TerminalRun r = run_on_terminal(dir_, run40({"--json"}));
  ASSERT_EQ(r.code, 0) << r.tty;
  EXPECT_EQ(r.tty, "");
  const auto lines = lines_of(r.out);
  EXPECT_EQ(lines.size(), 4u + 2u + 1u);  // train records, evaluations, done
  for (const std::string& l : lines) EXPECT_NO_THROW(nlohmann::json::parse(l)) << l;
}

TEST_F(ProgressBars, NotOnATerminalTrainingLogsPlainLines) {
  const RunResult r =
      train(std::vector<std::string>{"--steps", "40", "--eval-every", "20", "--out", "run"} +
            tiny_model_logging_every(10));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(r.err, "");
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4u + 2u + 1u) << r.out;
  EXPECT_EQ(lines[0].rfind("step 10/40  loss ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("tok/s  pad "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("%  ETA "), std::string::npos) << lines[0];
  EXPECT_EQ(lines[2].rfind("eval step 20 ", 0), 0u) << lines[2];
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
}

TEST_F(ProgressBars, EvalErasesItsBarForTheResult) {
  ASSERT_EQ(train(std::vector<std::string>{"--steps", "0", "--out", "run"} + tiny_model()).code, 0);
  const TerminalRun r = run_on_terminal(
      dir_, {"eval", "--checkpoint", "run/latest.h5", "--batch", "4", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << r.tty;
  const auto bars = drawings(r.tty, "eval ");
  ASSERT_GE(bars.size(), 1u) << r.tty;
  EXPECT_NE(bars.front().find("/20 sequences"), std::string::npos) << bars.front();
  // Erased at the end: after it comes at most the warning about outputs cut at the length limit
  // (an untrained model rarely stops by itself), on a line of its own.
  const size_t erased = r.tty.rfind("\r\x1b[K");
  ASSERT_NE(erased, std::string::npos) << r.tty;
  const std::string after = r.tty.substr(erased + 4);
  EXPECT_TRUE(after.empty() || after.rfind("seqgrad: warning: ", 0) == 0) << after;
  EXPECT_EQ(after.find('|'), std::string::npos) << after;
  EXPECT_EQ(r.out.rfind("n 20  loss ", 0), 0u) << r.out;
}

TEST_F(ProgressBars, TranslatingAFileShowsABarOnStderrOnly) {
  ASSERT_EQ(train(std::vector<std::string>{"--steps", "0", "--out", "run"} + tiny_model()).code, 0);
  std::string text;
  for (int i = 0; i < 30; ++i) text += std::to_string(i % 10) + " 3 5\n";
  std::ofstream(dir_ / "in.txt") << text;
  const std::vector<std::string> args = {
      "translate", "--checkpoint", "run/latest.h5", "--batch", "7", "--threads", "1"};
  const TerminalRun r = run_on_terminal(dir_, args, dir_ / "in.txt");
  ASSERT_EQ(r.code, 0) << r.tty;
  const auto bars = drawings(r.tty, "translate ");
  ASSERT_GE(bars.size(), 2u) << r.tty;
  EXPECT_NE(bars.front().find("0/30 lines"), std::string::npos) << bars.front();
  EXPECT_NE(bars.back().find("100% |"), std::string::npos) << bars.back();
  EXPECT_NE(bars.back().find("30/30 lines"), std::string::npos) << bars.back();
  EXPECT_EQ(lines_of(r.out).size(), 30u);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  // With the translations on the terminal too, no bar mixes with them.
  const TerminalRun both = run_on_terminal(dir_, args, dir_ / "in.txt", true);
  ASSERT_EQ(both.code, 0) << both.tty;
  EXPECT_EQ(both.tty.find("translate"), std::string::npos) << both.tty;
  EXPECT_EQ(both.tty.find('\x1b'), std::string::npos) << both.tty;
}

}  // namespace
}  // namespace sg
