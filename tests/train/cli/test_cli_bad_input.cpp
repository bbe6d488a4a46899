// Bad input through the executable (issue 5, point 7): every problem is one stderr line naming the
// file and line or the flag, with the exit codes of docs/cli.md (1 at run time, 2 for usage). Also:
// CRLF files are accepted, --max-len decides how long a TSV line may be, and a diverging run stops
// with exit 1 and keeps its last good checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "autograd/tensor.h"
#include "tests/train/test_cli_run.h"
#include "train/checkpoint/checkpoint.h"
#include "train/decode/inference.h"

namespace sg {
namespace {

using testing::cli_tiny_model;
using testing::concat;
using testing::expect_error;
using testing::run_seqgrad;
using testing::ScratchDir;

// `seqgrad train --task tsv` on the given training file (tiny model, no steps: reading the data
// and writing ckpt-0.h5 is all it does).
testing::RunResult train_tsv(const ScratchDir& dir, const std::string& train,
                             const std::vector<std::string>& more = {}) {
  return run_seqgrad(concat(concat({"train", "--task", "tsv", "--train", train, "--steps", "0",
                                    "--out", dir / "out"},
                                   cli_tiny_model()),
                            more),
                     dir);
}

// A checkpoint of the tiny model on the copy task, initialized (no steps) in dir; its path.
std::string tiny_copy_checkpoint(const ScratchDir& dir) {
  const auto made = run_seqgrad(
      concat({"train", "--steps", "0", "--valid-size", "10", "--out", dir / "m"}, cli_tiny_model()),
      dir);
  EXPECT_EQ(made.code, 0) << made.err;
  return dir / "m/latest.h5";
}

TEST(CliBadInput, TsvProblemsNameFileAndLine) {
  ScratchDir dir;
  const std::string good = "a b\tc d\n";
  // (file contents, what the message must contain besides "bad.tsv:<line>")
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {good + "no tab here\n", ":2:", "no tab"},
      {good + good + "a\t\n", ":3:", "empty target"},
      {"\tb\n", ":1:", "empty source"},
      {good + "a \t  \n", ":2:", "empty target"},
      {good + "a\xff b\tc\n", ":2:", "invalid UTF-8"},
      {good + "\xc3\x28\tc\n", ":2:", "invalid UTF-8"},
      {good + "\n" + good, ":2:", "blank line"},
      {good + "a\tb\tc\n", ":2:", "more than one tab"},
      // Old Mac line ends: the whole file is one line.
      {"a\tb\rc\td\r", ":1:",
       "more than one tab, expected source<TAB>target (the line holds a "
       "carriage return: line ends must be LF or CRLF, not CR alone)"},
  };
  for (const auto& [text, line, what] : cases) {
    SCOPED_TRACE(what);
    const std::string bad = dir.write("bad.tsv", text);
    expect_error(train_tsv(dir, bad), 1, {"bad.tsv" + line, what});
  }
}

TEST(CliBadInput, EmptyMissingAndUnreadableFiles) {
  ScratchDir dir;
  expect_error(train_tsv(dir, dir.write("empty.tsv", "")), 1, {"empty.tsv", "empty file"});
  expect_error(train_tsv(dir, dir / "missing.tsv"), 1, {"missing.tsv", "cannot open"});
  expect_error(train_tsv(dir, dir.path().string()), 1, {dir.path().string(), "directory"});
  // A bad held-out file is named too.
  const std::string train = dir.write("train.tsv", "a\tb\n");
  expect_error(train_tsv(dir, train, {"--valid", dir / "nope.tsv"}), 1, {"nope.tsv"});
  expect_error(train_tsv(dir, train, {"--valid", dir.write("v.tsv", "x y\n")}), 1,
               {"v.tsv:1:", "no tab"});
  // eval and translate on a missing or corrupt checkpoint: one line, no HDF5 error stack.
  expect_error(run_seqgrad({"eval", "--checkpoint", dir / "none.h5"}, dir), 1, {"none.h5"});
  const std::string junk = dir.write("junk.h5", "this is not HDF5\n");
  expect_error(run_seqgrad({"eval", "--checkpoint", junk}, dir), 1, {"junk.h5"});
  expect_error(run_seqgrad({"translate", "--checkpoint", junk}, dir, "1 2\n"), 1, {"junk.h5"});
  expect_error(run_seqgrad({"inspect", junk}, dir), 1, {"junk.h5"});
}

TEST(CliBadInput, CrlfLineEndingsAreAccepted) {
  ScratchDir dir;
  const std::string crlf = dir.write("crlf.tsv", "a b\tc d\r\ne\tf\r\n");
  const auto r = train_tsv(dir, crlf);
  ASSERT_EQ(r.code, 0) << r.err;
  const CheckpointContents ck = read_checkpoint(dir / "out/ckpt-0.h5");
  // No token kept the carriage return.
  for (const auto& vocab : {ck.src_vocab, ck.tgt_vocab})
    for (const auto& t : vocab) EXPECT_EQ(t.find('\r'), std::string::npos) << t;
  EXPECT_EQ(ck.tgt_vocab.size(), 4u + 3u);  // specials + c d f
}

TEST(CliBadInput, LongLinesAreRefusedUnlessMaxLenAllowsThem) {
  ScratchDir dir;
  std::string long_side;
  for (int i = 0; i < 10000; ++i) {
    long_side += 'w';
    long_side += std::to_string(i % 50);
    long_side += ' ';
  }
  const std::string file = dir.write("long.tsv", "a b\tc\nd\te\n" + long_side + "\tf\n");
  // The TSV default of --max-len is 256 tokens a side.
  expect_error(train_tsv(dir, file), 1,
               {"long.tsv:3:", "source has 10000 tokens", "--max-len 256"});
  expect_error(train_tsv(dir, file, {"--max-len", "9999"}), 1, {"long.tsv:3:", "--max-len 9999"});
  const auto ok = train_tsv(dir, file, {"--max-len", "10000"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(CliBadInput, TranslateInputProblemsNameTheLine) {
  ScratchDir dir;
  const std::string ck = tiny_copy_checkpoint(dir);
  expect_error(run_seqgrad({"translate", "--checkpoint", ck}, dir, "1 2\n3 \xff\n"), 1,
               {"stdin:2", "invalid UTF-8"});
  expect_error(run_seqgrad({"translate", "--checkpoint", ck, "--input", "1 \xfe"}, dir), 2,
               {"--input", "invalid UTF-8"});
  std::string huge;
  for (int i = 0; i < 10000; ++i) huge += "1 ";
  expect_error(run_seqgrad({"translate", "--checkpoint", ck}, dir, "1\n" + huge + "\n"), 1,
               {"stdin:2", "10000 tokens", "limit"});
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--data", dir / "none.tsv"}, dir), 1,
               {"none.tsv"});
}

// A file saved by a Windows editor: a byte-order mark and CRLF line ends. The mark was part of the
// first source's first token (an unknown token).
TEST(CliBadInput, TranslateReadsStdinWithAByteOrderMarkAndCrlf) {
  ScratchDir dir;
  const std::vector<std::string> args = {"translate", "--checkpoint", tiny_copy_checkpoint(dir),
                                         "--json",    "--threads",    "1"};
  const auto plain = run_seqgrad(args, dir, "1 2\n3\n");
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_NE(plain.out.find("\"source\":\"1 2\""), std::string::npos) << plain.out;
  const auto windows = run_seqgrad(args, dir,
                                   "\xEF\xBB\xBF"
                                   "1 2\r\n3\r\n");
  ASSERT_EQ(windows.code, 0) << windows.err;
  EXPECT_EQ(windows.out, plain.out);
}

TEST(CliBadInput, DivergingLossStopsAndKeepsTheLastGoodCheckpoint) {
  ScratchDir dir;
  // SGD with a learning rate of 1e30 and no clipping blows the weights up at once: the loss of a
  // later step is not finite. A checkpoint is saved after every good step.
  const auto r =
      run_seqgrad(concat({"train", "--optim", "sgd", "--lr", "1e30", "--schedule", "constant",
                          "--clip-norm", "0", "--steps", "50", "--save-every", "1", "--eval-every",
                          "0", "--valid-size", "10", "--out", dir / "run"},
                         cli_tiny_model()),
                  dir);
  expect_error(r, 1, {"non-finite", "ckpt-"});
  const std::string latest = dir / "run/latest.h5";
  ASSERT_TRUE(std::filesystem::exists(latest));
  const CheckpointContents ck = read_checkpoint(latest);
  EXPECT_GE(ck.state.step, 1);
  EXPECT_LT(ck.state.step, 50);
  EXPECT_NE(r.err.find("ckpt-" + std::to_string(ck.state.step) + ".h5"), std::string::npos)
      << r.err;
  // It loads, and every saved parameter is finite.
  const LoadedModel m = load_for_inference(latest);
  for (const auto& [name, p] : m.model->named_parameters()) {
    const Tensor t = p.contiguous_data();
    for (int64_t i = 0; i < t.numel(); ++i) ASSERT_TRUE(std::isfinite(t.data<float>()[i])) << name;
  }
}

// --max-tokens below the longest sentence or without a TSV corpus, and --share-embeddings on a
// checkpoint with two vocabularies, are usage errors naming the flag; a TSV corpus with shared
// embeddings gets one vocabulary for both sides.
TEST(CliBadInput, TokenBatchesAndSharedEmbeddingsNeedFittingData) {
  ScratchDir dir;
  const std::string train = dir.write("train.tsv", "a b\tc\nd e f g\th\n");  // line 2: 4 + <eos>
  expect_error(train_tsv(dir, train, {"--max-tokens", "4"}), 2,
               {"--max-tokens: 4 is smaller than the longest sentence, line 2 of ",
                "train.tsv (5 tokens with <eos>)"});
  expect_error(train_tsv(dir, train, {"--max-tokens", "-1"}), 2, {"--max-tokens"});
  const auto task = [&](const std::string& name, const std::vector<std::string>& more) {
    return run_seqgrad(concat(concat({"train", "--task", name, "--steps", "0", "--out", dir / name},
                                     cli_tiny_model()),
                              more),
                       dir);
  };
  expect_error(task("copy", {"--max-tokens", "50"}), 2,
               {"--max-tokens: token-based batches need a TSV corpus"});
  expect_error(
      train_tsv(dir, train, {"--share-embeddings", "--shared-vocab", "false"}), 2,
      {"--share-embeddings: needs one vocabulary for both sides, not --shared-vocab false"});
  // Every synthetic task has one vocabulary; a TSV run without --share-embeddings has two, and
  // its checkpoint cannot be resumed with them shared.
  ASSERT_EQ(train_tsv(dir, train).code, 0);
  expect_error(run_seqgrad({"train", "--resume", dir / "out/ckpt-0.h5", "--share-embeddings",
                            "--out", dir / "resumed"},
                           dir),
               2, {"--share-embeddings: true contradicts the checkpoint's false"});
  std::filesystem::remove_all(dir / "out");
  const auto ok = train_tsv(dir, train, {"--max-tokens", "5", "--share-embeddings"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  const CheckpointContents c = read_checkpoint(dir / "out/ckpt-0.h5");
  EXPECT_EQ(c.src_vocab, c.tgt_vocab);
  EXPECT_EQ(c.src_vocab.size(), 4u + 8u);  // a..h from both sides
  EXPECT_TRUE(c.config.share_embeddings);
  EXPECT_EQ(c.config.max_tokens, 5);
}

// TSV options given to another task went unused: train --train data.tsv without --task tsv
// trained the copy task, and eval --valid data.tsv on a copy model scored its synthetic set.
TEST(CliBadInput, TsvOptionsNeedTheTsvTask) {
  ScratchDir dir;
  const std::string tsv = dir.write("data.tsv", "1 2\t2 1\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--train", tsv}, "--train: only with --task tsv; the copy task makes its own data"},
      {{"--task", "reverse", "--valid", tsv}, "--valid: only with --task tsv; the reverse task"},
      {{"--tokenize", "char"}, "--tokenize: only with --task tsv"},
      {{"--task", "dates", "--min-freq", "2"}, "--min-freq: only with --task tsv"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(args[0]);
    expect_error(run_seqgrad(concat(concat({"train"}, args), {"--dump-config"}), dir), 2,
                 {message});
  }
  // A --dump-config file of a copy run, which lists these options at their defaults, reads back.
  const auto dumped = run_seqgrad({"train", "--dump-config"}, dir);
  ASSERT_EQ(dumped.code, 0) << dumped.err;
  const std::string ini = dir.write("copy.ini", dumped.out);
  const auto again = run_seqgrad({"train", "--config", ini, "--dump-config"}, dir);
  EXPECT_EQ(again.code, 0) << again.err;

  // A resume takes the task from its checkpoint: the TSV options given again agree with it.
  const auto tsv_run = run_seqgrad(concat({"train", "--task", "tsv", "--train", tsv, "--tokenize",
                                           "char", "--steps", "0", "--out", dir / "t"},
                                          cli_tiny_model()),
                                   dir);
  ASSERT_EQ(tsv_run.code, 0) << tsv_run.err;
  const auto resumed = run_seqgrad({"train", "--resume", dir / "t/ckpt-0.h5", "--train", tsv,
                                    "--tokenize", "char", "--steps", "1", "--out", dir / "t2"},
                                   dir);
  EXPECT_EQ(resumed.code, 0) << resumed.err;

  const auto made = run_seqgrad(
      concat({"train", "--steps", "0", "--valid-size", "10", "--out", dir / "m"}, cli_tiny_model()),
      dir);
  ASSERT_EQ(made.code, 0) << made.err;
  expect_error(run_seqgrad({"eval", "--checkpoint", dir / "m/latest.h5", "--valid", tsv}, dir), 2,
               {"--valid: the checkpoint's run is the copy task", "--data"});
  const auto with_data =
      run_seqgrad({"eval", "--checkpoint", dir / "m/latest.h5", "--data", tsv, "--json"}, dir);
  ASSERT_EQ(with_data.code, 0) << with_data.err;
  EXPECT_NE(with_data.out.find("\"n\":1"), std::string::npos) << with_data.out;
}

// --epochs decides the steps of a fresh run once the data is read: a --steps beside it went
// unused, and a cosine warmup as long as the run failed at run time naming no flag.
TEST(CliBadInput, EpochsSetTheSteps) {
  ScratchDir dir;
  const std::string train = dir.write("train.tsv", "a b\tc\nd\te\n");
  const auto run = [&](const std::vector<std::string>& more) {
    return run_seqgrad(concat(concat({"train", "--task", "tsv", "--train", train, "--batch", "1",
                                      "--out", dir / "out"},
                                     cli_tiny_model()),
                              more),
                       dir);
  };
  expect_error(run({"--epochs", "2", "--steps", "10"}), 2, {"--steps: not with --epochs 2"});
  expect_error(run({"--epochs", "1", "--schedule", "cosine"}), 2,
               {"--warmup: 400 must be below the 2 steps of --epochs 1 with --schedule cosine"});
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  // Two passes over two lines, one a batch: four steps.
  const auto r = run({"--epochs", "2", "--schedule", "cosine", "--warmup", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("{\"checkpoint\":\"" + (dir / "out") + "/ckpt-4.h5\",\"event\":\"done\""),
            std::string::npos)
      << r.out;
}

// A resume whose --steps ends before the checkpoint's step used to evaluate, save the same
// checkpoint again and exit 0; it is a usage error that leaves the checkpoint as it was.
TEST(CliBadInput, ResumingPastTheLastStepIsAUsageError) {
  ScratchDir dir;
  const auto train = [&](const std::vector<std::string>& more) {
    return run_seqgrad(
        concat(concat({"train", "--valid-size", "10", "--eval-every", "0"}, cli_tiny_model()),
               more),
        dir);
  };
  ASSERT_EQ(train({"--steps", "2", "--out", dir / "run"}).code, 0);
  const std::string ckpt = dir / "run/ckpt-2.h5";
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = bytes(ckpt);
  ASSERT_FALSE(before.empty());
  expect_error(train({"--resume", ckpt, "--steps", "1"}), 2,
               {"--steps: 1 ends before step 2 of the checkpoint it resumes (", "ckpt-2.h5)"});
  EXPECT_EQ(bytes(ckpt), before);
  // Resuming at the checkpoint's own step is still allowed: nothing to train, the run ends.
  const auto same = train({"--resume", ckpt, "--steps", "2"});
  EXPECT_EQ(same.code, 0) << same.err;
  // The run's folder given as the checkpoint: a run-time error naming the flag and the way to
  // continue the run.
  expect_error(train({"--resume", dir / "run"}), 1,
               {"--resume: '",
                "/run' is a folder, not a checkpoint (to continue the run in it: "
                "--resume auto --out "});
}

}  // namespace
}  // namespace sg
