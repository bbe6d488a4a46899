// The same bits at any thread count (issue 17 point 4): every reduction runs in an order that does
// not depend on the number of threads (GEMMs split by output rows or columns, never by the summed
// dimension; fixed blocks elsewhere), so training with --threads 1 and --threads 2 writes
// bit-identical checkpoints, and a run resumed at another thread count continues exactly.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

// Large enough that every threaded path runs at 2 threads: linear's row halves, dX and dW side by
// side, GEMMs split by our threads, parallel loops above their grain (704 rows of 64 to 256
// columns), attention heads in parallel; dropout on, so the generators are covered too.
std::vector<std::string> threaded_model() {
  return {"--d-model",    "64",   "--heads",  "4",  "--ff",      "256", "--enc-layers", "1",
          "--dec-layers", "1",    "--batch",  "64", "--dropout", "0.1", "--eval-every", "0",
          "--log-every",  "1000", "--warmup", "4",  "--task",    "copy"};
}

using ThreadCount = ScratchTest;

// With --ema on: expect_same_training_state compares /ema too.
TEST_F(ThreadCount, OneAndTwoThreadsWriteTheSameCheckpoint) {
  for (const char* t : {"1", "2"}) {
    const RunResult r =
        train(threaded_model() +
              std::vector<std::string>{"--steps", "3", "--ema", "0.9", "--threads", t, "--out", t});
    ASSERT_EQ(r.code, 0) << describe(r);
  }
  expect_same_training_state(path("1/ckpt-3.h5"), path("2/ckpt-3.h5"));
  EXPECT_TRUE(H5File::open_read(path("1/ckpt-3.h5")).exists("ema"));
}

TEST_F(ThreadCount, ResumeAtAnotherThreadCountIsExact) {
  RunResult r = train(threaded_model() +
                      std::vector<std::string>{"--steps", "2", "--threads", "2", "--out", "a"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train({"--resume", "a/ckpt-2.h5", "--steps", "4", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = train(threaded_model() +
            std::vector<std::string>{"--steps", "4", "--threads", "1", "--out", "b"});
  ASSERT_EQ(r.code, 0) << describe(r);
  expect_same_training_state(path("a/ckpt-4.h5"), path("b/ckpt-4.h5"));
}

}  // namespace
}  // namespace sg::testing
