// One run per folder (issue 20 points 2 and 3): a second `train` into a folder in use fails at
// once naming the holder's process id, and the lock goes with the process; a fresh run into a
// folder that holds another run is a usage error saying how to continue it or start over, and
// --overwrite removes the old run's files only once the new run can start. Nothing is lost on
// any of these paths.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

// Every file of a folder with its bytes (a symlink as "-> target").
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    out[name] = e.is_symlink() ? "-> " + fs::read_symlink(e.path()).string() : read_text(e.path());
  }
  return out;
}

std::vector<std::string> names(const std::map<std::string, std::string>& files) {
  std::vector<std::string> out;
  for (const auto& [name, bytes] : files) out.push_back(name);
  return out;
}

class RunFolder : public ScratchTest {
 protected:
  // A finished 3-step run in `out`: ckpt-3.h5, latest.h5, best.h5, metrics.jsonl, report.html.
  void finished_run(const std::string& out) {
    const RunResult r = train(
        tiny_model() + std::vector<std::string>{"--steps", "3", "--eval-every", "2", "--out", out});
    ASSERT_EQ(r.code, 0) << describe(r);
  }
};

TEST_F(RunFolder, AFreshRunIntoAnotherRunsFolderIsAUsageErrorAndChangesNothing) {
  finished_run("run");
  std::ofstream(dir_ / "run/notes.txt") << "the user's own file\n";
  const auto before = snapshot(dir_ / "run");
  EXPECT_EQ(names(before), (std::vector<std::string>{"best.h5", "ckpt-3.h5", "latest.h5",
                                                     "metrics.jsonl", "notes.txt", "report.html"}));
  const std::string refusal =
      "--out: 'run' holds another run (ckpt-3.h5, latest.h5, best.h5, metrics.jsonl, "
      "report.html); continue it with --resume auto, or start over with --overwrite, which "
      "removes them";
  expect_one_error_line(train(tiny_model() + std::vector<std::string>{"--out", "run"}), 2, refusal);
  // --steps 0 would write ckpt-0.h5 and point latest.h5 to it.
  expect_one_error_line(
      train(tiny_model() + std::vector<std::string>{"--out", "run", "--steps", "0"}), 2, refusal);
  // Resuming a run from another folder into this one is refused too.
  ASSERT_EQ(train(tiny_model() + std::vector<std::string>{"--steps", "1", "--out", "other"}).code,
            0);
  expect_one_error_line(train({"--resume", "other/ckpt-1.h5", "--out", "run", "--steps", "2"}), 2,
                        refusal);
  EXPECT_EQ(snapshot(dir_ / "run"), before);

  // What the message says works: the run continues where it stopped.
  const RunResult r = train({"--resume", "auto", "--out", "run", "--steps", "4"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(read_checkpoint(path("run/latest.h5")).state.step, 4);
  EXPECT_TRUE(fs::exists(dir_ / "run/ckpt-3.h5"));
}

TEST_F(RunFolder, OverwriteRemovesTheOldRunsFilesAndKeepsOthers) {
  finished_run("run");
  std::ofstream(dir_ / "run/report.html") << "<html>the old run's report</html>\n";
  std::ofstream(dir_ / "run/notes.txt") << "the user's own file\n";
  const RunResult r =
      train(tiny_model() + std::vector<std::string>{"--out", "run", "--steps", "2", "--save-every",
                                                    "1", "--eval-every", "1", "--overwrite"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("--overwrite: removed ckpt-3.h5, latest.h5, best.h5, metrics.jsonl, "
                       "report.html from run"),
            std::string::npos)
      << r.out;
  const auto after = snapshot(dir_ / "run");
  EXPECT_EQ(names(after),
            (std::vector<std::string>{"best.h5", "ckpt-1.h5", "ckpt-2.h5", "latest.h5",
                                      "metrics.jsonl", "notes.txt", "report.html"}));
  EXPECT_EQ(after.at("notes.txt"), "the user's own file\n");
  EXPECT_NE(after.at("report.html"), "<html>the old run's report</html>\n");
  // best.h5, metrics.jsonl and report.html belong to the new run alone.
  EXPECT_LE(read_checkpoint(path("run/best.h5")).state.step, 2);
  int64_t done = 0;
  for (const auto& line : lines_of(after.at("metrics.jsonl"))) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_LE(j["step"].get<int64_t>(), 2) << line;
    done += j["event"] == "done";
  }
  EXPECT_EQ(done, 1);
}

TEST_F(RunFolder, OverwriteRemovesNothingBeforeTheNewRunCanStart) {
  finished_run("run");
  const auto before = snapshot(dir_ / "run");
  // A usage error, a run-time failure while reading the data, and a model too large for memory.
  expect_one_error_line(train(tiny_model() + std::vector<std::string>{"--out", "run", "--overwrite",
                                                                      "--d-model", "15"}),
                        2, "--d-model");
  expect_one_error_line(
      train(tiny_tsv_model() + std::vector<std::string>{"--out", "run", "--overwrite", "--task",
                                                        "tsv", "--train", "missing.tsv"}),
      1, "missing.tsv");
  expect_one_error_line(
      train({"--out", "run", "--overwrite", "--d-model", "65536", "--ff", "65536", "--heads", "1"}),
      1, "--d-model");
  // Overwriting the run that --resume continues from would lose it.
  expect_one_error_line(train({"--out", "run", "--overwrite", "--resume", "auto"}), 2,
                        "--overwrite: would remove the checkpoint that --resume continues from "
                        "(run/latest.h5)");
  EXPECT_EQ(snapshot(dir_ / "run"), before);
}

TEST_F(RunFolder, AResumeAutoWithoutLatestContinuesFromTheNewestCheckpoint) {
  finished_run("run");
  fs::remove(dir_ / "run/latest.h5");  // as when a run is killed between its first save and link
  const RunResult r = train({"--resume", "auto", "--out", "run", "--steps", "5"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(read_checkpoint(path("run/latest.h5")).state.step, 5);
}

TEST_F(RunFolder, ASecondTrainerFailsAtOnceAndTheLockGoesWithTheProcess) {
  const std::vector<std::string> first_args =
      std::vector<std::string>{"train",   "--out",        "run", "--steps",
                               "1000000", "--save-every", "1",   "--eval-every",
                               "0",       "--resume",     "auto"} +
      tiny_model();
  const pid_t first = spawn_seqgrad(first_args, dir_, dir_ / "first.out", dir_ / "first.err");
  ASSERT_TRUE(wait_until([&] { return fs::exists(dir_ / "run/latest.h5"); }, first))
      << read_text(dir_ / "first.err");
  const std::string in_use =
      "--out: 'run' is in use by another training run (pid " + std::to_string(first) + ")";
  expect_one_error_line(train({"--out", "run", "--resume", "auto", "--steps", "1000000"}), 1,
                        in_use);
  expect_one_error_line(train(tiny_model() + std::vector<std::string>{"--out", "run"}), 1, in_use);
  expect_one_error_line(
      train(tiny_model() + std::vector<std::string>{"--out", "run", "--overwrite"}), 1, in_use);
  // The first run went on undisturbed: it stops cleanly on SIGINT, its files whole.
  ASSERT_EQ(::kill(first, SIGINT), 0);
  EXPECT_EQ(wait_exit(first), 1);
  EXPECT_NE(read_text(dir_ / "first.err").find("stopped by SIGINT"), std::string::npos)
      << read_text(dir_ / "first.err");
  const int64_t step = load_fully(path("run/latest.h5")).state.step;
  EXPECT_GE(step, 1);
  int64_t last = 0;
  for (const auto& line : lines_of(read_text(dir_ / "run/metrics.jsonl"))) {
    const int64_t s = nlohmann::json::parse(line)["step"].get<int64_t>();
    EXPECT_GE(s, last) << "metrics.jsonl interleaves two runs: " << line;
    last = s;
  }
  EXPECT_FALSE(fs::exists(dir_ / "run" / ".seqgrad.lock"));

  // A run killed outright leaves its lock file, but not the lock.
  const pid_t killed = spawn_seqgrad(first_args, dir_, dir_ / "first.out", dir_ / "first.err");
  ASSERT_TRUE(wait_until([&] { return newest_step(dir_ / "run") > step; }, killed))
      << read_text(dir_ / "first.err");
  ASSERT_EQ(::kill(killed, SIGKILL), 0);
  EXPECT_EQ(wait_exit(killed), 128 + SIGKILL);
  EXPECT_TRUE(fs::exists(dir_ / "run" / ".seqgrad.lock"));
  const int64_t reached = newest_step(dir_ / "run");
  const RunResult r =
      train({"--out", "run", "--resume", "auto", "--steps", std::to_string(reached + 1)});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_FALSE(fs::exists(dir_ / "run" / ".seqgrad.lock"));
}

}  // namespace
}  // namespace sg::testing
