// Option values train/cli/options.cpp validate() refuses before anything runs, found by a hostile
// user: sizes with no sane use, and options that the rest of the configuration would leave unused
// (one error line naming the flag, exit 2, nothing written).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/train/test_cli_run.h"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;

// `seqgrad train` with the tiny model and `more`, writing (if it runs) into dir/out.
RunResult train_with(const ScratchDir& dir, const std::vector<std::string>& more) {
  return run_seqgrad(concat(concat({"train", "--out", dir / "out"}, cli_tiny_model()), more), dir);
}

// --batch 1000000000 ended in "seqgrad: error: out of memory", naming no flag.
TEST(OptionChecks, AHugeBatchIsAUsageError) {
  ScratchDir dir;
  // --dump-config runs validate() only: nothing is allocated even when the check is missing.
  ASSERT_NO_FATAL_FAILURE(expect_error(train_with(dir, {"--batch", "1000000000", "--dump-config"}),
                                       2, {"--batch: at most 1000000, got 1000000000"}));
  expect_error(train_with(dir, {"--batch", "1000001", "--steps", "1"}), 2,
               {"--batch: at most 1000000, got 1000001"});
  EXPECT_FALSE(fs::exists(dir / "out"));
  expect_error(run_seqgrad({"bench", "--batch", "2000000", "--dump-config"}, dir), 2,
               {"--batch: at most 1000000"});
  const auto most = train_with(dir, {"--batch", "1000000", "--dump-config"});
  EXPECT_EQ(most.code, 0) << most.err;
}

// --batch beside --max-tokens went unused: the token rule forms the batches. Refused when --batch
// is set away from its default, on the command line or in a --config file; a --dump-config file
// of a --max-tokens run (which lists batch = 64) still reads back, and eval, which batches by
// --batch and takes --max-tokens only for a shared INI file's sake, takes both.
TEST(OptionChecks, BatchBesideMaxTokensIsAUsageError) {
  ScratchDir dir;
  const std::string tsv = dir.write("train.tsv", "a b\tc d\ne\tf\n");
  const std::vector<std::string> token_run = {"--task",       "tsv", "--train", tsv,
                                              "--max-tokens", "50",  "--steps", "0"};
  const std::string message =
      "--batch: not with --max-tokens 50, which forms the batches (sentences of similar length, "
      "at most 50 tokens each)";
  expect_error(train_with(dir, concat(token_run, {"--batch", "3"})), 2, {message});
  const std::string ini = dir.write("tokens.ini", "max-tokens = 50\nbatch = 3\n");
  expect_error(train_with(dir, {"--task", "tsv", "--train", tsv, "--config", ini}), 2, {message});
  EXPECT_FALSE(fs::exists(dir / "out"));

  const auto dumped = train_with(dir, concat(token_run, {"--dump-config"}));
  ASSERT_EQ(dumped.code, 0) << dumped.err;
  EXPECT_NE(dumped.out.find("\nbatch = 64\n"), std::string::npos) << dumped.out;
  const std::string again = dir.write("dumped.ini", dumped.out);
  const auto read_back = train_with(dir, {"--config", again});
  EXPECT_EQ(read_back.code, 0) << read_back.err;
  EXPECT_TRUE(fs::exists(dir / "out/ckpt-0.h5"));

  const auto eval =
      run_seqgrad({"eval", "--max-tokens", "50", "--batch", "10", "--dump-config"}, dir);
  EXPECT_EQ(eval.code, 0) << eval.err;
}

// --symbols, --min-len and --valid-size on a TSV corpus went unused: its data comes from --train
// and --valid. Refused when set away from their defaults, so that a --dump-config file of a TSV
// run, which lists them, reads back.
TEST(OptionChecks, SyntheticTaskOptionsNeedASyntheticTask) {
  ScratchDir dir;
  const std::string tsv = dir.write("train.tsv", "a b\tc d\ne\tf\n");
  const std::vector<std::string> tsv_run = {"--task", "tsv", "--train", tsv, "--steps", "0"};
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--symbols", "20"}, {"--min-len", "3"}, {"--valid-size", "5"}}) {
    SCOPED_TRACE(flag);
    expect_error(train_with(dir, concat(tsv_run, {flag, value})), 2,
                 {flag + ": only with a generated task; the tsv task reads its data from --train "
                         "and --valid"});
    const std::string ini = dir.write("tsv.ini", flag.substr(2) + " = " + value + "\n");
    expect_error(train_with(dir, concat(tsv_run, {"--config", ini})), 2, {flag + ": only with"});
    // The generated tasks use them.
    const auto copy = train_with(dir, {flag, value, "--dump-config"});
    EXPECT_EQ(copy.code, 0) << copy.err;
  }
  EXPECT_FALSE(fs::exists(dir / "out"));

  const auto dumped = train_with(dir, concat(tsv_run, {"--dump-config"}));
  ASSERT_EQ(dumped.code, 0) << dumped.err;
  EXPECT_NE(dumped.out.find("\nsymbols = 10\n"), std::string::npos) << dumped.out;
  const auto read_back = train_with(dir, {"--config", dir.write("dumped.ini", dumped.out)});
  EXPECT_EQ(read_back.code, 0) << read_back.err;
  EXPECT_TRUE(fs::exists(dir / "out/ckpt-0.h5"));
}

// The dates task's dates decide its characters and lengths: --symbols and --min-len went unused.
// Refused when set away from their defaults, so that its --dump-config file reads back.
TEST(OptionChecks, DatesTakesNeitherSymbolsNorMinLen) {
  ScratchDir dir;
  const std::vector<std::string> dates_run = {"--task", "dates", "--steps", "0"};
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{{"--symbols", "20"}, {"--min-len", "3"}}) {
    SCOPED_TRACE(flag);
    expect_error(train_with(dir, concat(dates_run, {flag, value})), 2,
                 {flag + ": not with --task dates, whose dates decide its characters and lengths"});
  }
  EXPECT_FALSE(fs::exists(dir / "out"));
  const auto dumped = train_with(dir, concat(dates_run, {"--dump-config"}));
  ASSERT_EQ(dumped.code, 0) << dumped.err;
  const auto read_back = train_with(dir, {"--config", dir.write("dumped.ini", dumped.out)});
  EXPECT_EQ(read_back.code, 0) << read_back.err;
  EXPECT_TRUE(fs::exists(dir / "out/ckpt-0.h5"));
}

}  // namespace
}  // namespace sg::testing
