// --out into folders that do not exist yet: train and average created them, while attention and
// report failed with exit 1 ("cannot create 'nodir/.x.html.tmp-...'"). Every command that writes
// --out now makes the missing folders, and a file standing where a folder should be is one error
// line naming --out.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/train/test_cli_run.h"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;

TEST(OutputFolders, EveryCommandCreatesTheFoldersOfOut) {
  ScratchDir dir;
  const auto made = run_seqgrad(concat({"train", "--steps", "1", "--valid-size", "10",
                                        "--eval-every", "0", "--out", "runs/a/b"},
                                       cli_tiny_model()),
                                dir);
  ASSERT_EQ(made.code, 0) << made.err;
  const std::string ck = dir / "runs/a/b/ckpt-1.h5";
  ASSERT_TRUE(fs::exists(ck));

  const auto avg = run_seqgrad({"average", "--out", "avg/x/mean.h5", ck}, dir);
  EXPECT_EQ(avg.code, 0) << avg.err;
  EXPECT_TRUE(fs::is_regular_file(dir / "avg/x/mean.h5"));

  for (const std::string out : {"maps/svg/a.svg", "maps/html/deeper/a.html"}) {
    SCOPED_TRACE(out);
    const auto r = run_seqgrad(
        {"attention", "--checkpoint", ck, "--input", "1 2 3", "--out", out, "--threads", "1"}, dir);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_GT(fs::file_size(dir / out), 0u);
  }

  const auto report = run_seqgrad(
      {"report", dir / "runs/a/b", "--out", "reports/r1/index.html", "--examples", "0"}, dir);
  EXPECT_EQ(report.code, 0) << report.err;
  EXPECT_GT(fs::file_size(dir / "reports/r1/index.html"), 0u);
}

TEST(OutputFolders, AFileInTheWayIsAnErrorNamingOut) {
  ScratchDir dir;
  const auto made = run_seqgrad(
      concat({"train", "--steps", "0", "--valid-size", "10", "--out", "run"}, cli_tiny_model()),
      dir);
  ASSERT_EQ(made.code, 0) << made.err;
  const std::string ck = dir / "run/ckpt-0.h5";
  const std::string file = dir.write("plain", "a file, not a folder\n");
  const std::string inside = file + "/sub/x.html";
  expect_error(run_seqgrad({"attention", "--checkpoint", ck, "--input", "1", "--out", inside}, dir),
               1, {"--out: cannot create the folder '" + file + "/sub'"});
  expect_error(run_seqgrad({"report", dir / "run", "--out", inside, "--examples", "0"}, dir), 1,
               {"--out: cannot create the folder '" + file + "/sub'"});
  expect_error(run_seqgrad({"average", "--out", file + "/sub/m.h5", ck}, dir), 1,
               {"--out: cannot create the folder '" + file + "/sub'"});
  expect_error(
      run_seqgrad(concat({"train", "--steps", "0", "--out", file + "/sub"}, cli_tiny_model()), dir),
      1, {"--out: cannot create the folder '" + file + "/sub'"});
  EXPECT_EQ(read_all(file), "a file, not a folder\n");
}

}  // namespace
}  // namespace sg::testing
