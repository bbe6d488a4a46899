// Data-parallel training with MPI (issue 10): 2 ranks on loopback give a single process's result,
// resume under MPI continues exactly, an MPI checkpoint resumes in one process, and a rank that
// dies takes the whole job down instead of hanging it. Built only when MPI is compiled in.
#ifdef SEQGRAD_MPI

#include <signal.h>

#include <cmath>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

// mpirun -np 2 seqgrad train args..., in `cwd`; stdout/stderr to files there.
//
// Every job keeps its Open MPI files in `cwd`/.mpi-tmp, inside the test's own scratch folder
// (removed with it), not in /tmp. By default each mpirun creates and, at its end, removes the
// shared /tmp/ompi.<host>.<uid>; two jobs at once (ctest -j runs each test in its own process)
// race on it and one fails in orte_init with "A call to mkdir was unable to create the desired
// directory: /tmp/ompi.<host>.<uid>, File exists" (open-mpi/ompi#8510). orte_tmpdir_base moves
// the whole session directory, PMIx's files included. The vader BTL's shared-memory segments go
// there too, rather than to /dev/shm under names from a 16-bit job id hash that two jobs can share.
pid_t spawn_mpi(const fs::path& cwd, const std::vector<std::string>& args) {
  const std::string tmp = (cwd / ".mpi-tmp").string();
  fs::create_directories(tmp);
  std::vector<std::string> a = {"mpirun",
                                "--allow-run-as-root",
                                "--oversubscribe",
                                "--mca",
                                "btl",
                                "self,vader",
                                "--mca",
                                "orte_tmpdir_base",
                                tmp,
                                "--mca",
                                "btl_vader_backing_directory",
                                tmp,
                                "-np",
                                "2",
                                SEQGRAD_BINARY,
                                "train"};
  a.insert(a.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string dir = cwd.string(), out = (cwd / ".mpi-stdout").string(),
                    err = (cwd / ".mpi-stderr").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0 || !std::freopen(out.c_str(), "w", stdout) ||
        !std::freopen(err.c_str(), "w", stderr))
      ::_exit(127);
    // Under the sanitizer build, Open MPI's dlopen'ed components leave allocations behind at
    // MPI_Finalize that LeakSanitizer reports from unnamed modules (nothing suppressions can
    // name); leak checking is off for the ranks, memory-error checking stays on.
    if (const char* asan = std::getenv("ASAN_OPTIONS"))
      ::setenv("ASAN_OPTIONS", (std::string(asan) + ":detect_leaks=0").c_str(), 1);
    ::execvp("mpirun", argv.data());
    ::_exit(127);
  }
  return pid;
}

RunResult run_mpi(const fs::path& cwd, const std::vector<std::string>& args) {
  RunResult r;
  r.code = wait_exit(spawn_mpi(cwd, args));
  r.out = read_text(cwd / ".mpi-stdout");
  r.err = read_text(cwd / ".mpi-stderr");
  return r;
}

std::vector<std::string> recipe(const std::string& out, int steps) {
  std::vector<std::string> a = tiny_model();
  for (size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == "--batch") a[i + 1] = "8";  // split 4 + 4 over two ranks
  return a + std::vector<std::string>{"--out",        out, "--steps",      std::to_string(steps),
                                      "--eval-every", "0", "--save-every", "25"};
}

// sqrt(sum |a - b|^2 / sum |a|^2) over every parameter of two checkpoints.
double relative_difference(const std::string& a_path, const std::string& b_path) {
  const H5File a = H5File::open_read(a_path), b = H5File::open_read(b_path);
  double num = 0, den = 0;
  for (const auto& name : a.list("model")) {
    const auto x = a.read_f64("model/" + name).data, y = b.read_f64("model/" + name).data;
    for (size_t i = 0; i < x.size(); ++i) {
      num += (x[i] - y[i]) * (x[i] - y[i]);
      den += x[i] * x[i];
    }
  }
  return std::sqrt(num / den);
}

void expect_same_model_and_optimizer(const std::string& a_path, const std::string& b_path) {
  const H5File a = H5File::open_read(a_path), b = H5File::open_read(b_path);
  ASSERT_EQ(a.list("model"), b.list("model"));
  for (const auto& name : a.list("model"))
    EXPECT_TRUE(bytes_of(a.read_f32("model/" + name)) == bytes_of(b.read_f32("model/" + name)))
        << "/model/" << name;
  for (const auto& group : a.list("optimizer"))
    for (const auto& name : a.list("optimizer/" + group)) {
      const std::string ds = "optimizer/" + group + "/" + name;
      if (group == "step") continue;
      EXPECT_TRUE(bytes_of(a.read_f32(ds)) == bytes_of(b.read_f32(ds))) << ds;
    }
}

class Mpi : public ScratchTest {};

// Without a fixed reduction order the sums differ in their last bits. SGD keeps that difference
// at float-noise size; Adam would rescale the noise in gradients that are exactly zero in exact
// arithmetic (the attention key biases), which is why the bit-identical test below fixes the order.
TEST_F(Mpi, TwoRanksGiveTheSingleProcessParameters) {
  const std::vector<std::string> sgd = {"--optim",    "sgd", "--lr",       "0.05",
                                        "--momentum", "0.9", "--schedule", "constant"};
  const RunResult one = train(recipe("one", 50) + sgd);
  ASSERT_EQ(one.code, 0) << describe(one);
  const RunResult two = run_mpi(dir_, recipe("two", 50) + sgd);
  ASSERT_EQ(two.code, 0) << two.err;
  // Rank 0 alone logs: one "saved" line, not two.
  EXPECT_EQ(lines_of(two.out).size(), lines_of(one.out).size()) << two.out;
  EXPECT_LT(relative_difference(path("one/ckpt-50.h5"), path("two/ckpt-50.h5")), 1e-5);
}

// With the batch cut into the same two pieces, one process sums the two gradients exactly as a
// 2-rank allreduce does: bit-identical parameters and optimizer state.
TEST_F(Mpi, TwoRanksEqualTwoMicroBatchesBitForBit) {
  const RunResult one = train(recipe("one", 50) + std::vector<std::string>{"--micro-batches", "2"});
  ASSERT_EQ(one.code, 0) << describe(one);
  const RunResult two = run_mpi(dir_, recipe("two", 50));
  ASSERT_EQ(two.code, 0) << two.err;
  expect_same_model_and_optimizer(path("one/ckpt-50.h5"), path("two/ckpt-50.h5"));
}

// The glyphs task's image batches split over two ranks as text batches do.
TEST_F(Mpi, ImageBatchesSplitOverTwoRanksBitForBit) {
  const std::vector<std::string> glyphs = {"--task", "glyphs", "--symbols", "10", "--max-len", "3"};
  const RunResult one =
      train(recipe("one", 25) + glyphs + std::vector<std::string>{"--micro-batches", "2"});
  ASSERT_EQ(one.code, 0) << describe(one);
  const RunResult two = run_mpi(dir_, recipe("two", 25) + glyphs);
  ASSERT_EQ(two.code, 0) << two.err;
  expect_same_model_and_optimizer(path("one/ckpt-25.h5"), path("two/ckpt-25.h5"));
  EXPECT_TRUE(H5File::open_read(path("two/ckpt-25.h5")).exists("model/patch_embed.weight"));
}

TEST_F(Mpi, ResumeUnderMpiContinuesExactlyWithDropout) {
  const std::vector<std::string> drop = {"--dropout", "0.1"};
  ASSERT_EQ(run_mpi(dir_, recipe("straight", 50) + drop).code, 0);
  ASSERT_EQ(run_mpi(dir_, recipe("resumed", 25) + drop).code, 0);
  // Each rank's dropout stream is in the checkpoint.
  EXPECT_TRUE(H5File::open_read(path("resumed/ckpt-25.h5")).exists("rng/dropout.1"));
  const RunResult r = run_mpi(dir_, {"--resume", path("resumed/ckpt-25.h5"), "--steps", "50"});
  ASSERT_EQ(r.code, 0) << r.err;
  expect_same_training_state(path("straight/ckpt-50.h5"), path("resumed/ckpt-50.h5"));
}

TEST_F(Mpi, AnMpiCheckpointResumesInOneProcess) {
  ASSERT_EQ(run_mpi(dir_, recipe("run", 25)).code, 0);
  const RunResult r = train({"--resume", path("run/ckpt-25.h5"), "--steps", "30"});
  ASSERT_EQ(r.code, 0) << describe(r);
  load_fully(path("run/ckpt-30.h5"));
}

// The pid of rank 1 of the job writing to `out`, or 0.
pid_t find_rank1(const std::string& out) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmd = read_text(e.path() / "cmdline"), env = read_text(e.path() / "environ");
    if (cmd.find(out) != std::string::npos && cmd.find("mpirun") == std::string::npos &&
        env.find(std::string("OMPI_COMM_WORLD_RANK=1") + '\0') != std::string::npos)
      return static_cast<pid_t>(std::stoi(pid));
  }
  return 0;
}

TEST_F(Mpi, ARankThatDiesEndsTheWholeJob) {
  const std::string out = path("dies");
  const pid_t job = spawn_mpi(dir_, recipe(out, 100000));
  pid_t rank1 = 0;
  ASSERT_TRUE(wait_until([&] { return (rank1 = find_rank1(out)) != 0; }, job));
  // Let it train a little, then kill rank 1 outright.
  ASSERT_TRUE(wait_until([&] { return fs::exists(out + "/ckpt-25.h5"); }, job));
  ::kill(rank1, SIGKILL);
  // mpirun must notice and end (wait_until gives up after a minute, which would be a hang).
  ASSERT_TRUE(wait_until([&] { return false; }, job) == false);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(job), &info, WEXITED | WNOHANG | WNOWAIT), 0);
  ASSERT_EQ(info.si_pid, job) << "the job is still running a minute after rank 1 died";
  EXPECT_NE(wait_exit(job), 0);
}

}  // namespace
}  // namespace sg::testing

#endif  // SEQGRAD_MPI
