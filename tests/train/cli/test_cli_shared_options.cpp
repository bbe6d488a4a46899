// The data and model options of train given to eval, translate and attention (issue 16, point 7;
// docs/cli.md, "Options shared with train"): a value that agrees with the checkpoint's run is
// accepted, one that contradicts it is a usage error naming the flag and both values, and eval
// takes the held-out options (--valid, --min-len, --max-len, --valid-size, --data) as its choice.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/train/test_cli_run.h"

namespace sg {
namespace {

using testing::cli_tiny_model;
using testing::concat;
using testing::expect_error;
using testing::run_seqgrad;
using testing::RunResult;
using testing::ScratchDir;

// `eval --json` (on one thread unless args say otherwise) must succeed; its object.
nlohmann::json eval_json(const std::vector<std::string>& args, const ScratchDir& dir) {
  std::vector<std::string> all = concat({"eval", "--json"}, args);
  if (std::find(all.begin(), all.end(), "--threads") == all.end())
    all = concat(all, {"--threads", "1"});
  const RunResult r = run_seqgrad(all, dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

TEST(CliSharedOptions, SyntheticTaskFlagsOfTrainWorkForEveryCommand) {
  ScratchDir dir;
  // The flags the run was trained with, given again as a user would.
  const std::vector<std::string> flags =
      concat({"--task", "reverse", "--max-len", "6", "--symbols", "8", "--valid-size", "12"},
             cli_tiny_model());
  const auto made = run_seqgrad(concat({"train", "--steps", "0", "--out", dir / "m"}, flags), dir);
  ASSERT_EQ(made.code, 0) << made.err;
  const std::string ck = dir / "m/latest.h5";
  EXPECT_EQ(eval_json(concat({"--checkpoint", ck}, flags), dir)["n"], 12);
  const RunResult tr = run_seqgrad(concat({"translate", "--checkpoint", ck}, flags), dir, "1 2\n");
  EXPECT_EQ(tr.code, 0) << tr.err;
  const RunResult at = run_seqgrad(
      concat({"attention", "--checkpoint", ck, "--input", "1 2", "--json"}, flags), dir);
  EXPECT_EQ(at.code, 0) << at.err;
  // An INI file written for train serves eval too.
  const std::string ini = dir.write("run.ini", "task = reverse\nmax-len = 6\nsymbols = 8\n");
  EXPECT_EQ(eval_json({"--checkpoint", ck, "--config", ini}, dir)["n"], 12);

  // Contradictions name the flag and both values, for each command.
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> bad = {
      {{"--task", "copy"}, {"--task", "\"copy\"", "\"reverse\""}},
      {{"--symbols", "9"}, {"--symbols", "9", "8"}},
      {{"--tokenize", "char"}, {"--tokenize", "\"char\"", "\"word\""}},
      {{"--d-model", "64"}, {"--d-model", "64", "32"}},
      {{"--norm-first"}, {"--norm-first", "true", "false"}},
  };
  for (const auto& [given, named] : bad) {
    SCOPED_TRACE(given[0]);
    expect_error(run_seqgrad(concat({"eval", "--checkpoint", ck}, given), dir), 2, named);
    expect_error(run_seqgrad(concat({"translate", "--checkpoint", ck}, given), dir, "1\n"), 2,
                 named);
    expect_error(
        run_seqgrad(concat({"attention", "--checkpoint", ck, "--input", "1", "--json"}, given),
                    dir),
        2, named);
  }
  // In a --config file, the file's value is the one named.
  const std::string other = dir.write("other.ini", "task = sort\n");
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--config", other}, dir), 2,
               {"--task", "\"sort\"", "\"reverse\""});
}

TEST(CliSharedOptions, EvalTakesTheHeldOutOptionsAsItsChoice) {
  ScratchDir dir;
  const auto made = run_seqgrad(
      concat({"train", "--steps", "0", "--out", dir / "m", "--max-len", "6", "--valid-size", "12"},
             cli_tiny_model()),
      dir);
  ASSERT_EQ(made.code, 0) << made.err;
  const std::string ck = dir / "m/latest.h5";
  // A held-out set of other lengths and size, drawn as the run's own is.
  const auto j = eval_json({"--checkpoint", ck, "--valid-size", "7", "--min-len", "20", "--max-len",
                            "30", "--decode-max-len", "40"},
                           dir);
  EXPECT_EQ(j["n"], 7);
  // Lengths the model cannot read, or that contradict each other, are usage errors.
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--max-len", "5000"}, dir), 2,
               {"--max-len", "5000"});
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--min-len", "8"}, dir), 2,
               {"--min-len", "8", "--max-len 6"});
  // --max-tokens forms training batches: accepted, and the result is the same.
  const auto a = eval_json({"--checkpoint", ck}, dir);
  const auto b = eval_json({"--checkpoint", ck, "--max-tokens", "100"}, dir);
  EXPECT_EQ(a, b);
}

TEST(CliSharedOptions, TsvFlagsOfTrainWorkForEval) {
  ScratchDir dir;
  const std::string train = dir.write("train.tsv", "a b\tx y\nb c\ty z\nc a\tz x\n");
  const std::string valid = dir.write("valid.tsv", "a b\tx y\nc a\tz x\n");
  const std::vector<std::string> flags = {"--task",  "tsv", "--train",    train,
                                          "--valid", valid, "--tokenize", "word"};
  const auto made = run_seqgrad(
      concat(concat({"train", "--steps", "0", "--out", dir / "m"}, flags), cli_tiny_model()), dir);
  ASSERT_EQ(made.code, 0) << made.err;
  const std::string ck = dir / "m/latest.h5";
  EXPECT_EQ(eval_json(concat({"--checkpoint", ck}, flags), dir)["n"], 2);
  // --valid names the held-out file (here under another path); --data wins over it.
  const std::string other = dir.write("other.tsv", "a\tx\nb\ty\nc\tz\n");
  EXPECT_EQ(eval_json({"--checkpoint", ck, "--valid", "other.tsv"}, dir)["n"], 3);
  EXPECT_EQ(eval_json({"--checkpoint", ck, "--valid", "other.tsv", "--data", valid}, dir)["n"], 2);
  // The training file under another name is the same file.
  EXPECT_EQ(eval_json({"--checkpoint", ck, "--train", "train.tsv"}, dir)["n"], 2);
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--train", other}, dir), 2,
               {"--train", "other.tsv", "train.tsv"});
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--tokenize", "char"}, dir), 2,
               {"--tokenize", "\"char\"", "\"word\""});
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--task", "copy"}, dir), 2,
               {"--task", "\"copy\"", "\"tsv\""});
  // --max-len: the most tokens a side of an evaluated line may have, as in train.
  const std::string longer = dir.write("longer.tsv", "a b\tx y\na b c\tx\n");
  expect_error(run_seqgrad({"eval", "--checkpoint", ck, "--data", longer, "--max-len", "2"}, dir),
               1, {"longer.tsv:2", "--max-len 2"});
  EXPECT_EQ(eval_json({"--checkpoint", ck, "--data", longer, "--max-len", "3"}, dir)["n"], 2);
}

TEST(CliSharedOptions, EvalDumpConfigListsOnlyWhatWasGiven) {
  ScratchDir dir;
  const auto r =
      run_seqgrad({"eval", "--checkpoint", "x.h5", "--task", "sort", "--dump-config"}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("task = sort\n"), std::string::npos) << r.out;
  // Options not given take the checkpoint's values: none is printed with a default.
  EXPECT_EQ(r.out.find("d-model"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("symbols"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("norm-first"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sg
