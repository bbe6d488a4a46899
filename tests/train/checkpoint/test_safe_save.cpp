// Safe saves (docs/checkpoint.md, issue 6 points 3, 5 and 6): a training process killed at random
// moments always leaves a newest checkpoint that loads and resumes; between saves no checkpoint
// file is held open; a failed save reports one error line and leaves the previous checkpoint
// intact; temporaries that a killed save left behind are removed at start.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <random>
#include <string>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

// Files in `dir` that a save writes and renames ("." + name + ".tmp-" + pid).
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f[0] == '.' && f.find(".tmp-") != std::string::npos) out.push_back(f);
  }
  return out;
}

// Checkpoint files (not temporaries) that process `pid` has open.
std::vector<std::string> open_checkpoints(pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const fs::path target = fs::read_symlink(e.path(), ec);
    if (ec) continue;
    const std::string f = target.filename().string();
    if (f.find(".h5") != std::string::npos && f[0] != '.') out.push_back(target.string());
  }
  return out;
}

using SafeSave = ScratchTest;

// 20 kills, each at a random moment (fixed seed) after the process has saved at least once:
// every process after the first resumes from the previous one's newest checkpoint (the wait
// for a newer checkpoint shows that this resume loaded and ran a step), and after each kill both
// latest.h5 and the newest ckpt-<step>.h5 load completely.
TEST_F(SafeSave, KillAtRandomMomentsAlwaysLeavesALoadableCheckpoint) {
  const auto args =
      std::vector<std::string>{"train",   "--resume",     "auto", "--out",  "run", "--steps",
                               "1000000", "--save-every", "1",    "--keep", "2",   "--eval-every",
                               "0",       "--dropout",    "0.1"} +
      tiny_model();
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> delay_us(0, 50000);
  const fs::path run_dir = dir_ / "run";
  int64_t newest = -1;
  for (int kill = 0; kill < 20; ++kill) {
    const pid_t pid = spawn_seqgrad(args, dir_, dir_ / "out", dir_ / "err");
    const bool progressed = wait_until([&] { return newest_step(run_dir) > newest; }, pid);
    // Between saves (and during them: the only file open is the temporary) no checkpoint file
    // is held open.
    const auto held = open_checkpoints(pid);
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    const int code = wait_exit(pid);
    ASSERT_TRUE(progressed) << "kill " << kill << ": no new checkpoint; exit " << code << "\n"
                            << read_text(dir_ / "err");
    EXPECT_EQ(code, 128 + SIGKILL);
    EXPECT_EQ(held, std::vector<std::string>{}) << "kill " << kill;

    const int64_t step = newest_step(run_dir);
    ASSERT_GT(step, newest);
    newest = step;
    const std::string numbered = (run_dir / ("ckpt-" + std::to_string(step) + ".h5")).string();
    EXPECT_EQ(load_fully(numbered).state.step, step) << "kill " << kill;
    const CheckpointContents latest = load_fully((run_dir / "latest.h5").string());
    // latest.h5 moves right after the rename, so a kill in between leaves it one save behind.
    EXPECT_GE(latest.state.step, step - 1) << "kill " << kill;
  }
  // A last resume runs to its end: the temporaries of killed saves are gone.
  const std::string target = std::to_string(newest + 2);
  auto final_args = args;
  final_args[6] = target;  // --steps
  const RunResult r = run(final_args);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(fs::read_symlink(run_dir / "latest.h5"), "ckpt-" + target + ".h5");
  EXPECT_EQ(temporaries(run_dir), std::vector<std::string>{});
}

// Temporaries of dead processes are removed at start; another live process's are kept, and so is
// every other file.
TEST_F(SafeSave, StaleTemporariesAreRemovedAtStart) {
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  wait_exit(dead);
  const std::string d = std::to_string(dead), live = std::to_string(::getpid());
  fs::create_directories(dir_ / "run");
  const std::vector<std::string> stale = {".ckpt-7.h5.tmp-" + d, ".best.h5.tmp-" + d,
                                          ".latest.h5.tmp-" + d, ".latest.h5.tmp-link"};
  const std::vector<std::string> kept = {".ckpt-8.h5.tmp-" + live, "notes.txt", ".hidden.h5"};
  for (const auto& f : stale) std::ofstream(dir_ / "run" / f) << "partial";
  for (const auto& f : kept) std::ofstream(dir_ / "run" / f) << "keep";
  const RunResult r =
      train(tiny_model() + std::vector<std::string>{"--steps", "0", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  for (const auto& f : stale) EXPECT_FALSE(fs::exists(dir_ / "run" / f)) << f;
  for (const auto& f : kept) EXPECT_TRUE(fs::exists(dir_ / "run" / f)) << f;
  EXPECT_TRUE(fs::exists(dir_ / "run/ckpt-0.h5"));
}

// Two steps saved, then a resumed run whose next save fails: one error line naming the failed
// file and the last good checkpoint, exit 1, latest.h5 still on ckpt-2.h5, which loads, and no
// temporary left behind.
class FailedSave : public ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    const RunResult r =
        train(tiny_model() + std::vector<std::string>{"--steps", "2", "--save-every", "1", "--keep",
                                                      "5", "--eval-every", "0", "--out", "run"});
    ASSERT_EQ(r.code, 0) << describe(r);
  }
  void expect_previous_checkpoint_intact() const {
    EXPECT_EQ(fs::read_symlink(dir_ / "run/latest.h5"), "ckpt-2.h5");
    EXPECT_EQ(load_fully(path("run/latest.h5")).state.step, 2);
    EXPECT_FALSE(fs::is_regular_file(dir_ / "run/ckpt-3.h5"));
    EXPECT_EQ(temporaries(dir_ / "run"), std::vector<std::string>{});
  }
};

// The rename fails: a non-empty folder is in the way of ckpt-3.h5 (works as root too).
TEST_F(FailedSave, RenameIntoPlaceFails) {
  fs::create_directories(dir_ / "run/ckpt-3.h5");
  std::ofstream(dir_ / "run/ckpt-3.h5/x") << "in the way";
  const RunResult r = train({"--resume", "run/latest.h5", "--steps", "4"});
  expect_one_error_line(r, 1,
                        "cannot save checkpoint run/ckpt-3.h5 (run/ckpt-3.h5: cannot rename the "
                        "saved file into place");
  EXPECT_NE(r.err.find("the last good checkpoint is run/ckpt-2.h5"), std::string::npos) << r.err;
  expect_previous_checkpoint_intact();
}

// A full disk, simulated by a file-size limit (writes past it fail with EFBIG once SIGXFSZ is
// ignored): the write of the temporary fails.
void limit_file_size() {
  ::signal(SIGXFSZ, SIG_IGN);
  const rlimit lim{20000, 20000};
  ::setrlimit(RLIMIT_FSIZE, &lim);
}

TEST_F(FailedSave, WriteFailsOnAFullDisk) {
  const RunResult r = train({"--resume", "run/latest.h5", "--steps", "4"}, limit_file_size);
  expect_one_error_line(r, 1, "cannot save checkpoint run/ckpt-3.h5 (hdf5: ");
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the last good checkpoint is run/ckpt-2.h5"), std::string::npos) << r.err;
  expect_previous_checkpoint_intact();
}

// --out below a regular file cannot be created (a robust "unwritable folder", also as root).
TEST_F(SafeSave, UnwritableOutFolderIsOneErrorLine) {
  std::ofstream(dir_ / "file") << "not a folder";
  const RunResult r =
      train(tiny_model() + std::vector<std::string>{"--steps", "1", "--out", "file/sub"});
  expect_one_error_line(r, 1, "--out: cannot create the folder 'file/sub'");
}

}  // namespace
}  // namespace sg::testing
