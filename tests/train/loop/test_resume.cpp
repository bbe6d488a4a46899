// Exact resume (docs/checkpoint.md, issue 6 point 2): N steps, save, resume, M steps gives the same
// parameters, optimizer state, generator states and data position bit for bit as N+M steps
// straight, with dropout and shuffling on, for Adam and SGD with momentum, on a TSV file (word
// tokens, and SentencePiece pieces), on a synthetic stream and on the image stream of the glyphs
// task, with token-based batches and shared embeddings; likewise after SIGINT or SIGTERM stopped
// a run, and with a training or held-out file that moved to another folder.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

// Flags of a run with dropout, evaluations every 3 steps and early-stopping bookkeeping on.
std::vector<std::string> recipe(const std::string& optim, const std::string& task,
                                const std::string& save_every = "0") {
  const bool generated = task == "copy" || task == "glyphs";
  std::vector<std::string> a =
      (generated ? tiny_model() : tiny_tsv_model()) +
      std::vector<std::string>{"--dropout",    "0.1",      "--eval-every", "3",
                               "--save-every", save_every, "--patience",   "1000"};
  if (optim == "sgd")
    a = a + std::vector<std::string>{"--optim", "sgd", "--momentum", "0.9", "--lr", "0.05"};
  else
    a = a + std::vector<std::string>{"--optim", "adam"};
  if (task == "copy") return a + std::vector<std::string>{"--task", "copy"};
  if (task == "glyphs")  // images of up to 3 digits, 16 x 36 pixels in 4 x 4 patches
    return a + std::vector<std::string>{"--task", "glyphs", "--symbols", "10", "--max-len", "3"};
  a = a + std::vector<std::string>{"--task", "tsv", "--train", "train.tsv", "--valid", "valid.tsv"};
  if (task == "spm") a = a + std::vector<std::string>{"--tokenize", "spm", "--vocab-size", "20"};
  return a;
}

class ExactResume : public ScratchTest,
                    public ::testing::WithParamInterface<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    // 22 lines in batches of 6: 4 batches an epoch, so N = 5 stops inside the second epoch.
    write_tsv(dir_ / "train.tsv", 22, 1);
    write_tsv(dir_ / "valid.tsv", 5, 2);
  }
};

TEST_P(ExactResume, NStepsSaveResumeMStepsEqualsNPlusMStraight) {
  const auto& [optim, task] = GetParam();
  const auto args = recipe(optim, task);
  constexpr int N = 5, M = 6;
  RunResult r = train(args + std::vector<std::string>{"--steps", std::to_string(N), "--out", "a"});
  ASSERT_EQ(r.code, 0) << describe(r);
  // The run options may be given again; the rest comes from the checkpoint.
  r = train({"--resume", "a/ckpt-5.h5", "--steps", std::to_string(N + M)});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train(args + std::vector<std::string>{"--steps", std::to_string(N + M), "--out", "b"});
  ASSERT_EQ(r.code, 0) << describe(r);

  const CheckpointContents c = read_checkpoint(path("a/ckpt-11.h5"));
  EXPECT_EQ(c.state.step, N + M);
  EXPECT_TRUE(c.config.shuffle);
  EXPECT_EQ(c.config.dropout, 0.1);
  EXPECT_EQ(c.optimizer_type, optim);
  if (task != "copy" && task != "glyphs") {
    EXPECT_EQ(c.state.epoch, 2);
  }  // 11 steps of 4 batches an epoch
  expect_same_training_state(path("a/ckpt-11.h5"), path("b/ckpt-11.h5"));
  // The checkpoint at N really is an intermediate state, not the final one.
  const H5File mid = H5File::open_read(path("a/ckpt-5.h5")),
               fin = H5File::open_read(path("b/ckpt-11.h5"));
  EXPECT_FALSE(bytes_of(mid.read_f32("model/generator.weight")) ==
               bytes_of(fin.read_f32("model/generator.weight")));
}

INSTANTIATE_TEST_SUITE_P(OptimizersAndTasks, ExactResume,
                         ::testing::Combine(::testing::Values("adam", "sgd"),
                                            ::testing::Values("tsv", "spm", "copy", "glyphs")),
                         [](const auto& param_info) {
                           return std::get<0>(param_info.param) + "_" +
                                  std::get<1>(param_info.param);
                         });

// A stop signal during training: the step finishes, a checkpoint is saved, the exit code is 1
// with one error line naming the checkpoint, and resuming from it continues exactly.
class StopSignal : public ScratchTest, public ::testing::WithParamInterface<int> {};

TEST_P(StopSignal, SavesAndResumesExactly) {
  const int sig = GetParam();
  write_tsv(dir_ / "train.tsv", 22, 1);
  write_tsv(dir_ / "valid.tsv", 5, 2);
  const auto args = recipe("adam", "tsv", "4");
  const pid_t pid = spawn_seqgrad(std::vector<std::string>{"train"} + args +
                                      std::vector<std::string>{"--steps", "1000000", "--out", "a"},
                                  dir_, dir_ / "a.out", dir_ / "a.err");
  // Training is under way once the first periodic checkpoint is there.
  const bool started = wait_until([&] { return newest_step(dir_ / "a") >= 4; }, pid);
  ASSERT_EQ(::kill(pid, sig), 0);
  const int code = wait_exit(pid);
  RunResult stopped{code, read_text(dir_ / "a.out"), read_text(dir_ / "a.err")};
  const int64_t k = newest_step(dir_ / "a");
  ASSERT_TRUE(started) << describe(stopped);
  ASSERT_GE(k, 4) << describe(stopped);
  const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  expect_one_error_line(stopped, 1,
                        "stopped by " + name + " at step " + std::to_string(k) + "; saved a/ckpt-" +
                            std::to_string(k) + ".h5");
  EXPECT_EQ(fs::read_symlink(dir_ / "a/latest.h5"), "ckpt-" + std::to_string(k) + ".h5");

  const std::string total = std::to_string(k + 5);
  RunResult r = train({"--resume", "auto", "--out", "a", "--steps", total});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train(args + std::vector<std::string>{"--steps", total, "--out", "b"});
  ASSERT_EQ(r.code, 0) << describe(r);
  expect_same_training_state(path("a/ckpt-" + total + ".h5"), path("b/ckpt-" + total + ".h5"));
}

INSTANTIATE_TEST_SUITE_P(IntAndTerm, StopSignal, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& param_info) {
                           return std::string(param_info.param == SIGINT ? "SIGINT" : "SIGTERM");
                         });

// The files of a folder by name, with their contents.
std::map<std::string, std::string> files_of(const fs::path& d) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(d))
    files[e.path().filename().string()] = read_text(e.path());
  return files;
}

// A file of a TSV run (--train or --valid) that moves to another folder after the run began: the
// option, the file's name in old/ and new/, its lines, how the errors call it and what the run
// did with it, and the other flags of the run.
struct MovedFile {
  std::string option, name;
  int lines;
  unsigned seed;
  std::string role, use;
  std::vector<std::string> args;
};

class ResumeOptions : public ScratchTest {
 protected:
  // The run trains 3 steps with the file in old/, then it moves to new/. The old name is gone: the
  // error names the flag that gives the new one. Another file under the new name (other bytes of
  // the same size, and a longer file) is a usage error naming the flag, and the run's folder stays
  // as it was. The new name resumes as an uninterrupted run on it does, and the next checkpoint
  // records it. The file changed where the checkpoint found it is refused even without the flag.
  void resumes_by_content(const MovedFile& m) const {
    const std::string flag = "--" + m.option, old_name = "old/" + m.name,
                      new_name = "new/" + m.name;
    fs::create_directories(dir_ / "old");
    write_tsv(dir_ / old_name, m.lines, m.seed);
    RunResult r =
        train(m.args + std::vector<std::string>{flag, old_name, "--steps", "3", "--out", "a"});
    ASSERT_EQ(r.code, 0) << describe(r);
    fs::create_directories(dir_ / "new");
    fs::rename(dir_ / old_name, dir_ / new_name);
    const auto before = files_of(dir_ / "a");

    expect_one_error_line(
        train({"--resume", "a/ckpt-3.h5", "--steps", "5"}), 1,
        flag + ": '" + old_name + "', the checkpoint's " + m.role + ", cannot be read");
    write_tsv(dir_ / "other.tsv", m.lines, m.seed + 1);
    std::string same_size = read_text(dir_ / new_name);
    same_size[0] = same_size[0] == 'a' ? 'b' : 'a';
    std::ofstream(dir_ / "same_size.tsv") << same_size;
    for (const std::string other : {"other.tsv", "same_size.tsv"}) {
      SCOPED_TRACE(other);
      expect_one_error_line(train({"--resume", "a/ckpt-3.h5", flag, other, "--steps", "5"}), 2,
                            flag + ": '" + other + "' is not the file the checkpoint " + m.use);
    }
    EXPECT_EQ(files_of(dir_ / "a"), before);

    r = train({"--resume", "a/ckpt-3.h5", flag, new_name, "--steps", "5"});
    ASSERT_EQ(r.code, 0) << describe(r);
    const Config resumed = read_checkpoint(path("a/ckpt-5.h5")).config;
    EXPECT_EQ(m.option == "train" ? resumed.train_file : resumed.valid_file, new_name);
    r = train(m.args + std::vector<std::string>{flag, new_name, "--steps", "5", "--out", "b"});
    ASSERT_EQ(r.code, 0) << describe(r);
    expect_same_training_state(path("a/ckpt-5.h5"), path("b/ckpt-5.h5"));

    std::ofstream(dir_ / new_name, std::ios::app) << "a b\tb a\n";
    expect_one_error_line(train({"--resume", "a/ckpt-5.h5", "--steps", "7"}), 1,
                          flag + ": '" + new_name + "' is not the file the checkpoint " + m.use);
  }
};

// Without --out a resumed run continues in the checkpoint's folder, with the checkpoint's
// run options (here --save-every 2) unless given again.
TEST_F(ResumeOptions, ContinuesInTheCheckpointsFolderWithItsRunOptions) {
  RunResult r = train(tiny_model() + std::vector<std::string>{"--steps", "2", "--save-every", "2",
                                                              "--keep", "10", "--out", "a"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train({"--resume", "a/latest.h5", "--steps", "6"});
  ASSERT_EQ(r.code, 0) << describe(r);
  for (const char* f : {"a/ckpt-2.h5", "a/ckpt-4.h5", "a/ckpt-6.h5"})
    EXPECT_TRUE(fs::exists(dir_ / f)) << f;
  EXPECT_FALSE(fs::exists(dir_ / "a/ckpt-3.h5"));
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
  EXPECT_EQ(read_checkpoint(path("a/latest.h5")).state.step, 6);
}

// --resume auto without latest.h5 starts a fresh run in --out.
TEST_F(ResumeOptions, AutoWithoutACheckpointStartsFresh) {
  const RunResult r = train(
      tiny_model() + std::vector<std::string>{"--steps", "1", "--resume", "auto", "--out", "a"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(read_checkpoint(path("a/latest.h5")).state.step, 1);
}

// Token-based batches and shared embeddings keep resuming exact: with --max-tokens and
// --share-embeddings, N steps + save + resume + M steps equals N + M steps straight (the batches
// come from --max-tokens alone: a --batch beside it is a usage error).
using ExactResumeTokenBatches = ScratchTest;

TEST_F(ExactResumeTokenBatches, MaxTokensAndSharedEmbeddingsResumeExactly) {
  write_tsv(dir_ / "train.tsv", 22, 1);
  write_tsv(dir_ / "valid.tsv", 5, 2);
  const auto args = without(recipe("adam", "tsv"), "--batch") +
                    std::vector<std::string>{"--max-tokens", "20", "--share-embeddings"};
  RunResult r = train(args + std::vector<std::string>{"--steps", "4", "--out", "a"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train({"--resume", "a/ckpt-4.h5", "--steps", "9"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train(args + std::vector<std::string>{"--steps", "9", "--out", "b"});
  ASSERT_EQ(r.code, 0) << describe(r);
  expect_same_training_state(path("a/ckpt-9.h5"), path("b/ckpt-9.h5"));
  const CheckpointContents c = read_checkpoint(path("a/ckpt-9.h5"));
  EXPECT_EQ(c.config.max_tokens, 20);
  EXPECT_TRUE(c.config.share_embeddings);
  // The log reports the padding share of the batches.
  int train_events = 0;
  for (const auto& line : lines_of(read_text(dir_ / "b/metrics.jsonl"))) {
    const auto j = nlohmann::json::parse(line);
    if (j["event"] != "train") continue;
    ++train_events;
    EXPECT_GE(j["pad_share"].get<double>(), 0.0) << line;
    EXPECT_LT(j["pad_share"].get<double>(), 0.5) << line;
  }
  EXPECT_GT(train_events, 0);
}

// A training file moved to another folder after the run began could not be named again
// (--train "new" contradicts the checkpoint's "old"), nor be found at its old name. The size and
// hash of the file that the checkpoint records decide now.
TEST_F(ResumeOptions, AMovedTrainingFileResumesByItsContent) {
  resumes_by_content(
      {"train", "corpus.tsv", 22, 1, "training file", "trained on",
       tiny_tsv_model() + std::vector<std::string>{"--task", "tsv", "--eval-every", "0"}});
}

// Likewise the held-out file (--valid): moved, it could be named neither by its old name
// ('old/valid.tsv: cannot open') nor by its new one (--valid "new/valid.tsv" contradicts the
// checkpoint's "old/valid.tsv"), and one changed in place was evaluated on without a word. With
// evaluations at steps 2 and 4, the resumed run's scores of the moved file are compared too.
TEST_F(ResumeOptions, AMovedHeldOutFileResumesByItsContent) {
  write_tsv(dir_ / "train.tsv", 22, 1);
  resumes_by_content(
      {"valid", "valid.tsv", 5, 2, "held-out file", "evaluated on",
       tiny_tsv_model() +
           std::vector<std::string>{"--task", "tsv", "--train", "train.tsv", "--eval-every", "2"}});
}

}  // namespace
}  // namespace sg::testing
