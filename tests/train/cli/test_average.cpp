// seqgrad average (docs/cli.md#average): the element-wise mean of several checkpoints' parameters
// (float64 sums rounded once), --last N of a run folder, an output every command reads, and the
// errors for inputs that cannot be averaged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

// tiny_model() with one of its values changed.
std::vector<std::string> tiny_with(const std::string& flag, const std::string& value) {
  std::vector<std::string> a = tiny_model();
  for (size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == flag) a[i + 1] = value;
  return a;
}

class Average : public ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    // ckpt-1 .. ckpt-3 of one run; every save kept.
    const RunResult r =
        train(tiny_model() + std::vector<std::string>{"--steps", "3", "--save-every", "1", "--keep",
                                                      "3", "--eval-every", "0", "--out", "run"});
    ASSERT_EQ(r.code, 0) << describe(r);
  }
};

TEST_F(Average, EveryParameterIsTheMeanOfTheInputs) {
  const RunResult r =
      run({"average", "--out", "avg/two.h5", "run/ckpt-1.h5", "run/ckpt-3.h5", "--json"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const auto j = nlohmann::json::parse(lines_of(r.out).at(0));
  EXPECT_EQ(j["checkpoint"], "avg/two.h5");
  EXPECT_EQ(j["step"], 3);  // the last input's training state
  const H5File a = H5File::open_read(path("run/ckpt-1.h5")),
               b = H5File::open_read(path("run/ckpt-3.h5")),
               m = H5File::open_read(path("avg/two.h5"));
  ASSERT_EQ(m.list("model"), a.list("model"));
  int64_t differing = 0;
  for (const auto& name : a.list("model")) {
    const auto x = a.read_f32("model/" + name), y = b.read_f32("model/" + name),
               z = m.read_f32("model/" + name);
    ASSERT_EQ(z.shape, x.shape) << name;
    for (size_t i = 0; i < x.data.size(); ++i) {
      const float want =
          static_cast<float>((static_cast<double>(x.data[i]) + static_cast<double>(y.data[i])) / 2);
      ASSERT_EQ(z.data[i], want) << name << "[" << i << "]";
      differing += x.data[i] != y.data[i];
    }
  }
  EXPECT_GT(differing, 0);  // two updates apart: the mean is not a copy of either
  EXPECT_FALSE(m.exists("optimizer"));
}

TEST_F(Average, LastNTakesTheNewestNumberedCheckpoints) {
  ASSERT_EQ(run({"average", "--out", "last2.h5", "--last", "2", "run"}).code, 0);
  ASSERT_EQ(run({"average", "--out", "list.h5", "run/ckpt-2.h5", "run/ckpt-3.h5"}).code, 0);
  const H5File x = H5File::open_read(path("last2.h5")), y = H5File::open_read(path("list.h5"));
  for (const auto& name : x.list("model"))
    EXPECT_TRUE(bytes_of(x.read_f32("model/" + name)) == bytes_of(y.read_f32("model/" + name)))
        << name;
  // One input: its parameters unchanged.
  ASSERT_EQ(run({"average", "--out", "one.h5", "run/ckpt-2.h5"}).code, 0);
  const H5File o = H5File::open_read(path("one.h5")), c = H5File::open_read(path("run/ckpt-2.h5"));
  for (const auto& name : c.list("model"))
    EXPECT_TRUE(bytes_of(o.read_f32("model/" + name)) == bytes_of(c.read_f32("model/" + name)))
        << name;
}

TEST_F(Average, TheAverageWorksWithEveryCommand) {
  ASSERT_EQ(run({"average", "--out", "avg.h5", "--last", "3", "run"}).code, 0);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"inspect", "avg.h5"},
           {"eval", "--checkpoint", "avg.h5", "--threads", "1"},
           {"translate", "--checkpoint", "avg.h5", "--input", "1 2 3", "--threads", "1"},
           {"attention", "--checkpoint", "avg.h5", "--input", "1 2", "--out", "a.svg", "--threads",
            "1"}}) {
    const RunResult r = run(args);
    EXPECT_EQ(r.code, 0) << args[0] << ": " << describe(r);
  }
  // No optimizer state to resume from: an error naming it, not a crash.
  const RunResult r = train(tiny_model() + std::vector<std::string>{"--resume", "avg.h5", "--steps",
                                                                    "5", "--out", "again"});
  expect_one_error_line(r, 1, "optimizer");
}

// --out over a run's latest.h5 used to replace the link with an average that has no optimizer
// state (the run could no longer --resume auto), and --out over an input replaced that input.
TEST_F(Average, AnExistingOutIsReplacedOnlyWithOverwrite) {
  const std::string input = read_text(path("run/ckpt-1.h5"));
  expect_one_error_line(run({"average", "--out", "run/latest.h5", "--last", "2", "run"}), 2,
                        "--out: 'run/latest.h5' exists; give --overwrite");
  expect_one_error_line(
      run({"average", "--out", "run/ckpt-1.h5", "run/ckpt-1.h5", "run/ckpt-2.h5"}), 2,
      "--out: 'run/ckpt-1.h5' exists");
  EXPECT_TRUE(fs::is_symlink(path("run/latest.h5")));
  EXPECT_TRUE(read_text(path("run/ckpt-1.h5")) == input);  // no byte dump on failure
  // A folder is not replaced either.
  expect_one_error_line(run({"average", "--out", "run", "run/ckpt-1.h5"}), 2,
                        "--out: 'run' exists");
  // With --overwrite the file is replaced by the new average.
  ASSERT_EQ(run({"average", "--out", "avg.h5", "run/ckpt-1.h5"}).code, 0);
  ASSERT_EQ(run({"average", "--out", "avg.h5", "run/ckpt-3.h5", "--overwrite"}).code, 0);
  const H5File o = H5File::open_read(path("avg.h5")), c = H5File::open_read(path("run/ckpt-3.h5"));
  for (const auto& name : c.list("model"))
    EXPECT_TRUE(bytes_of(o.read_f32("model/" + name)) == bytes_of(c.read_f32("model/" + name)))
        << name;
}

TEST_F(Average, InputsThatCannotBeAveragedAreErrors) {
  // Another network (more heads, the same shapes) and another vocabulary.
  ASSERT_EQ(
      train(tiny_with("--heads", "4") + std::vector<std::string>{"--steps", "0", "--out", "heads"})
          .code,
      0);
  ASSERT_EQ(train(tiny_model() +
                  std::vector<std::string>{"--symbols", "12", "--steps", "0", "--out", "vocab"})
                .code,
            0);
  ASSERT_EQ(train(tiny_with("--d-model", "8") +
                  std::vector<std::string>{"--steps", "0", "--out", "small"})
                .code,
            0);
  expect_one_error_line(run({"average", "--out", "x.h5", "heads/ckpt-0.h5", "run/ckpt-3.h5"}), 1,
                        "--heads");
  expect_one_error_line(run({"average", "--out", "x.h5", "vocab/ckpt-0.h5", "run/ckpt-3.h5"}), 1,
                        "vocabulary");
  expect_one_error_line(run({"average", "--out", "x.h5", "small/ckpt-0.h5", "run/ckpt-3.h5"}), 1,
                        "--d-model");
  expect_one_error_line(run({"average", "--out", "x.h5", "run/ckpt-3.h5", "nothing.h5"}), 1,
                        "nothing.h5");
  expect_one_error_line(run({"average", "--out", "x.h5", "--last", "4", "run"}), 2, "--last 4");
  expect_one_error_line(run({"average", "--out", "x.h5", "--last", "2", "nowhere"}), 1, "nowhere");
  expect_one_error_line(run({"average", "--out", "x.h5", "--last", "0", "run"}), 2, "--last");
  expect_one_error_line(run({"average", "--last", "2", "run"}), 2, "--out");
  expect_one_error_line(run({"average", "--out", "x.h5"}), 2, "average");
  EXPECT_FALSE(fs::exists(path("x.h5")));
}

}  // namespace
}  // namespace sg::testing
