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

}  // namespace
}  // namespace sg::testing
