// Helpers for tests that run build/seqgrad (SEQGRAD_BINARY) as a child process: a scratch folder
// per test, spawning and waiting, tiny-model flags, a small TSV corpus, and a bit-for-bit
// comparison of two checkpoints' training state.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "layers/transformer.h"
#include "optim/adam.h"
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/hdf5.h"
#include "train/config/model_config.h"
#include "train/loop/trainer.h"

namespace sg::testing {

namespace fs = std::filesystem;

// Exit status as a shell shows it: the exit code, or 128 + the signal that ended the process.
struct RunResult {
  int code = -1;
  std::string out, err;
};

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// Starts `seqgrad args...` in folder `cwd` with stdout and stderr written to the given files.
// `in_child` (async-signal-safe calls only) runs in the child just before exec.
inline pid_t spawn_seqgrad(const std::vector<std::string>& args, const fs::path& cwd,
                           const fs::path& out, const fs::path& err, void (*in_child)() = nullptr) {
  std::vector<std::string> argv_s = {SEQGRAD_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string cwd_s = cwd.string(), out_s = out.string(), err_s = err.string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd_s.c_str()) != 0 || !std::freopen(out_s.c_str(), "w", stdout) ||
        !std::freopen(err_s.c_str(), "w", stderr))
      ::_exit(127);
    if (in_child) in_child();
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

inline int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Polls (every millisecond) until `ready()` holds; false if the child `pid` ended first or a
// minute passed. The child is not reaped.
template <class F>
bool wait_until(F&& ready, pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ready()) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      return ready();
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::usleep(1000);
  }
  return true;
}

// Runs seqgrad to the end in `cwd`; stdout and stderr pass through files in `cwd`.
inline RunResult run_seqgrad(const fs::path& cwd, const std::vector<std::string>& args,
                             void (*in_child)() = nullptr) {
  const fs::path out = cwd / ".test-stdout", err = cwd / ".test-stderr";
  RunResult r;
  r.code = wait_exit(spawn_seqgrad(args, cwd, out, err, in_child));
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

inline std::string describe(const RunResult& r) {
  return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// A failed command: the expected exit code and exactly one stderr line "seqgrad: error: ..."
// that contains `what`, with no HDF5 error stack.
inline void expect_one_error_line(const RunResult& r, int code, const std::string& what) {
  EXPECT_EQ(r.code, code) << describe(r);
  const auto lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << describe(r);
  EXPECT_EQ(lines[0].rfind("seqgrad: error: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(what), std::string::npos) << "expected '" << what << "' in: " << lines[0];
  EXPECT_EQ(r.err.find("HDF5-DIAG"), std::string::npos) << r.err;
}

// A fresh scratch folder per test, removed afterwards.
class ScratchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = fs::temp_directory_path() / ("seqgrad_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  RunResult run(const std::vector<std::string>& args, void (*in_child)() = nullptr) const {
    return run_seqgrad(dir_, args, in_child);
  }
  RunResult train(const std::vector<std::string>& args, void (*in_child)() = nullptr) const {
    std::vector<std::string> a = {"train"};
    a.insert(a.end(), args.begin(), args.end());
    return run_seqgrad(dir_, a, in_child);
  }

  fs::path dir_;
};

// `args` without the option `flag` and its value.
inline std::vector<std::string> without(std::vector<std::string> args, const std::string& flag) {
  const auto it = std::find(args.begin(), args.end(), flag);
  if (it != args.end()) args.erase(it, it + 2);
  return args;
}

// A model small enough that a step takes milliseconds, on one thread (exactness needs a fixed
// thread count), evaluating a small held-out set.
inline std::vector<std::string> tiny_model() {
  return {"--d-model",    "16",   "--heads",  "2", "--ff",      "32", "--enc-layers", "1",
          "--dec-layers", "1",    "--batch",  "6", "--threads", "1",  "--valid-size", "20",
          "--log-every",  "1000", "--warmup", "4"};
}

// tiny_model() for a TSV corpus, whose held-out set is a --valid file: without --valid-size,
// which only the generated tasks take.
inline std::vector<std::string> tiny_tsv_model() {
  return without(tiny_model(), "--valid-size");
}

// tiny_model() logging every `steps` steps.
inline std::vector<std::string> tiny_model_logging_every(int steps) {
  std::vector<std::string> a = tiny_model();
  *(std::find(a.begin(), a.end(), "--log-every") + 1) = std::to_string(steps);
  return a;
}

inline std::vector<std::string> operator+(std::vector<std::string> a,
                                          const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A reversal corpus of `lines` pairs over the words a..h (fixed seed), `source<TAB>target`.
inline void write_tsv(const fs::path& p, int lines, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::ofstream out(p);
  for (int i = 0; i < lines; ++i) {
    std::vector<std::string> words(1 + rng() % 6);
    for (auto& w : words) w = std::string(1, static_cast<char>('a' + rng() % 8));
    std::string src, tgt;
    for (size_t k = 0; k < words.size(); ++k) {
      src += (k ? " " : "") + words[k];
      tgt += (k ? " " : "") + words[words.size() - 1 - k];
    }
    out << src << '\t' << tgt << '\n';
  }
}

// The step of the newest ckpt-<step>.h5 in `dir`, or -1.
inline int64_t newest_step(const fs::path& dir) {
  int64_t best = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.rfind("ckpt-", 0) == 0 && f.size() > 8 && f.substr(f.size() - 3) == ".h5")
      best = std::max<int64_t>(best, std::stoll(f.substr(5, f.size() - 8)));
  }
  return best;
}

// Every attribute of an object as text, numbers exactly (hexadecimal float64).
inline std::map<std::string, std::string> attrs_of(const H5File& f, const std::string& obj) {
  std::map<std::string, std::string> out;
  for (const auto& name : f.attr_names(obj)) {
    try {
      out[name] = f.attr_str(obj, name);
    } catch (const std::runtime_error&) {
      char exact[64];
      std::snprintf(exact, sizeof exact, "%a", f.attr_f64(obj, name));
      out[name] = exact;
    }
  }
  return out;
}

// Bytes of a float32 or integer dataset, read as the given type.
template <class T>
std::string bytes_of(const H5Array<T>& a) {
  return std::string(reinterpret_cast<const char*>(a.data.data()), a.data.size() * sizeof(T));
}

// Checks that two checkpoints hold the same training state bit for bit: every /model, /ema (with
// --ema) and /optimizer dataset, the optimizer's and schedule's attributes, every generator state,
// the data position, and the early-stopping state. (best_score may differ: it also counts the extra
// evaluation at the end of each run.)
inline void expect_same_training_state(const std::string& a_path, const std::string& b_path) {
  const H5File a = H5File::open_read(a_path), b = H5File::open_read(b_path);
  EXPECT_EQ(a.attr_i64("/", "step"), b.attr_i64("/", "step"));
  EXPECT_EQ(a.attr_i64("/", "epoch"), b.attr_i64("/", "epoch"));
  ASSERT_EQ(a.list("model"), b.list("model"));
  ASSERT_FALSE(a.list("model").empty());
  for (const auto& name : a.list("model"))
    EXPECT_TRUE(bytes_of(a.read_f32("model/" + name)) == bytes_of(b.read_f32("model/" + name)))
        << "/model/" << name << " differs";
  ASSERT_EQ(a.exists("ema"), b.exists("ema"));
  if (a.exists("ema")) {
    EXPECT_EQ(attrs_of(a, "ema"), attrs_of(b, "ema"));
    ASSERT_EQ(a.list("ema"), a.list("model"));
    ASSERT_EQ(b.list("ema"), b.list("model"));
    for (const auto& name : a.list("ema"))
      EXPECT_TRUE(bytes_of(a.read_f32("ema/" + name)) == bytes_of(b.read_f32("ema/" + name)))
          << "/ema/" << name << " differs";
  }
  EXPECT_EQ(attrs_of(a, "optimizer"), attrs_of(b, "optimizer"));
  ASSERT_EQ(a.list("optimizer"), b.list("optimizer"));
  int64_t compared = 0;
  for (const auto& group : a.list("optimizer")) {
    ASSERT_EQ(a.list("optimizer/" + group), b.list("optimizer/" + group));
    for (const auto& name : a.list("optimizer/" + group)) {
      const std::string ds = "optimizer/" + group + "/" + name;
      if (group == "step")
        EXPECT_TRUE(a.read_i64(ds).data == b.read_i64(ds).data) << ds << " differs";
      else
        EXPECT_TRUE(bytes_of(a.read_f32(ds)) == bytes_of(b.read_f32(ds))) << ds << " differs";
      ++compared;
    }
  }
  EXPECT_GE(compared, 2 * static_cast<int64_t>(a.list("model").size()));
  EXPECT_EQ(attrs_of(a, "scheduler"), attrs_of(b, "scheduler"));
  ASSERT_EQ(a.list("rng"), b.list("rng"));
  for (const auto& name : a.list("rng"))
    EXPECT_EQ(a.read_u64("rng/" + name).data, b.read_u64("rng/" + name).data) << "/rng/" << name;
  auto da = attrs_of(a, "data"), db = attrs_of(b, "data");
  da.erase("best_score");
  db.erase("best_score");
  EXPECT_EQ(da, db);
}

// Loads a checkpoint the way a resume does: metadata, a model of its architecture, its
// parameters and its optimizer state. Throws on any problem.
inline CheckpointContents load_fully(const std::string& path) {
  CheckpointContents c = read_checkpoint(path);
  Seq2SeqTransformer model(model_config(c.config, static_cast<int64_t>(c.src_vocab.size()),
                                        static_cast<int64_t>(c.tgt_vocab.size())),
                           c.config.seed);
  load_model(path, model);
  NamedParams params = model.named_parameters();
  if (c.optimizer_type != "adam") throw std::runtime_error("expected an adam checkpoint");
  Adam adam(params, AdamOptions{});
  load_optimizer(path, adam);
  if (adam.step_count() != c.state.step) throw std::runtime_error("optimizer step mismatch");
  return c;
}

}  // namespace sg::testing
