// Bad checkpoints (issue 6 point 5): a file that is not HDF5, a truncated file, a wrong format, a
// newer format_version, a missing dataset, a parameter of the wrong shape, part of the training
// lengths or a zero one. Each, given to `train --resume`, `eval` and `inspect`, gives exactly one
// stderr line "seqgrad: error: ..." naming the problem, exit code 1 and no HDF5 error stack. A flag
// that contradicts the checkpoint on resume is a usage error (exit 2) naming the flag.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <functional>
#include <string>

#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

// Edits a copy of a good checkpoint through the HDF5 C API (H5File only reads and creates).
class H5Edit {
 public:
  explicit H5Edit(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    EXPECT_GE(file_, 0) << path;
  }
  ~H5Edit() { H5Fclose(file_); }
  H5Edit(const H5Edit&) = delete;
  H5Edit& operator=(const H5Edit&) = delete;

  void remove(const std::string& link) {
    EXPECT_GE(H5Ldelete(file_, link.c_str(), H5P_DEFAULT), 0);
  }
  void remove_attr(const char* object, const char* name) {
    EXPECT_GE(H5Adelete_by_name(file_, object, name, H5P_DEFAULT), 0);
  }
  void set_root_i64(const char* name, int64_t v) { set_i64(file_, name, v); }
  void set_group_i64(const char* group, const char* name, int64_t v) {
    const hid_t g = H5Gopen2(file_, group, H5P_DEFAULT);
    EXPECT_GE(g, 0) << group;
    set_i64(g, name, v);
    H5Gclose(g);
  }
  void set_root_str(const char* name, const char* v) {
    H5Adelete(file_, name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(file_, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Awrite(a, type, &v), 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
  }
  // Replaces a dataset with float32 zeros of shape {rows, cols}.
  void replace_f32(const std::string& ds, hsize_t rows, hsize_t cols) {
    remove(ds);
    const hsize_t dims[2] = {rows, cols};
    const std::vector<float> zeros(rows * cols, 0.0f);
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t d =
        H5Dcreate2(file_, ds.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()), 0);
    H5Dclose(d);
    H5Sclose(space);
  }

 private:
  static void set_i64(hid_t object, const char* name, int64_t v) {
    H5Adelete(object, name);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(object, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Awrite(a, H5T_NATIVE_INT64, &v), 0);
    H5Aclose(a);
    H5Sclose(space);
  }

  hid_t file_ = H5I_INVALID_HID;
};

struct BadCase {
  std::string name;
  std::function<void(const fs::path& good, const fs::path& bad)> make;
  std::string message;      // what the error line must contain
  bool model_level = true;  // also refused by eval and inspect (not only by a resume)
  bool inspect_too = true;
};

void edit(const fs::path& good, const fs::path& bad, const std::function<void(H5Edit&)>& f) {
  fs::copy_file(good, bad);
  H5Edit e(bad.string());
  f(e);
}

const std::vector<BadCase>& bad_cases() {
  static const std::vector<BadCase> cases = {
      {"not_hdf5",
       [](const fs::path&, const fs::path& bad) { std::ofstream(bad) << "step\t3\nloss\t0.1\n"; },
       "bad.h5': file signature not found (not an HDF5 file)"},
      {"empty", [](const fs::path&, const fs::path& bad) { std::ofstream{bad}; },
       "bad.h5': file signature not found (not an HDF5 file)"},
      {"truncated",
       [](const fs::path& good, const fs::path& bad) {
         const std::string bytes = read_text(good);
         std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
       },
       "bad.h5': truncated file"},
      {"wrong_format",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad, [](H5Edit& e) { e.set_root_str("format", "keras-weights"); });
       },
       "bad.h5: not a seqgrad checkpoint (attribute 'format' is not 'seqgrad-checkpoint')"},
      {"newer_version",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad, [](H5Edit& e) { e.set_root_i64("format_version", 99); });
       },
       "bad.h5: format_version 99 is newer than this seqgrad reads (2)"},
      {"missing_parameter",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad, [](H5Edit& e) { e.remove("/model/generator.bias"); });
       },
       "bad.h5: missing parameter /model/generator.bias", true, false},
      {"missing_vocabulary",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad, [](H5Edit& e) { e.remove("/vocab/tgt"); });
       },
       "bad.h5: missing '/vocab/tgt'"},
      {"wrong_shape",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad, [](H5Edit& e) { e.replace_f32("/model/generator.weight", 3, 16); });
       },
       "bad.h5: parameter generator.weight has shape {3,16}, the model needs {14,16}", true, false},
      {"half_of_the_training_lengths",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad, [](H5Edit& e) { e.remove_attr("data", "max_len_ratio_den"); });
       },
       "bad.h5: /data has only some of max_tgt_len, max_len_ratio_num and max_len_ratio_den"},
      {"zero_training_length_ratio",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad, [](H5Edit& e) { e.set_group_i64("data", "max_len_ratio_den", 0); });
       },
       "bad.h5: /data: max_len_ratio_den must be at least 1, got 0"},
      {"missing_optimizer_state",
       [](const fs::path& good, const fs::path& bad) {
         edit(good, bad,
              [](H5Edit& e) { e.remove("/optimizer/exp_avg_sq/transformer.encoder.norm.weight"); });
       },
       "missing 'optimizer/exp_avg_sq/transformer.encoder.norm.weight'", false, false},
  };
  return cases;
}

class BadCheckpoint : public ScratchTest, public ::testing::WithParamInterface<size_t> {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    const RunResult r =
        train(tiny_model() + std::vector<std::string>{"--steps", "1", "--out", "good"});
    ASSERT_EQ(r.code, 0) << describe(r);
    const BadCase& c = bad_cases()[GetParam()];
    c.make(dir_ / "good/ckpt-1.h5", dir_ / "bad.h5");
  }
};

TEST_P(BadCheckpoint, ResumeIsOneErrorLineExitOne) {
  const BadCase& c = bad_cases()[GetParam()];
  expect_one_error_line(train({"--resume", "bad.h5", "--steps", "3", "--out", "r"}), 1, c.message);
  EXPECT_FALSE(fs::exists(dir_ / "r/ckpt-3.h5"));
}

TEST_P(BadCheckpoint, EvalIsOneErrorLineExitOne) {
  const BadCase& c = bad_cases()[GetParam()];
  const RunResult r = run({"eval", "--checkpoint", "bad.h5"});
  if (c.model_level)
    expect_one_error_line(r, 1, c.message);
  else
    EXPECT_EQ(r.code, 0) << describe(r);  // eval needs no optimizer state
}

TEST_P(BadCheckpoint, InspectIsOneErrorLineExitOne) {
  const BadCase& c = bad_cases()[GetParam()];
  const RunResult r = run({"inspect", "bad.h5", "--json"});
  if (c.inspect_too)
    expect_one_error_line(r, 1, c.message);
  else
    EXPECT_EQ(r.code, 0) << describe(r);  // describes the file as it is
}

INSTANTIATE_TEST_SUITE_P(Files, BadCheckpoint, ::testing::Range<size_t>(0, bad_cases().size()),
                         [](const auto& param_info) { return bad_cases()[param_info.param].name; });

// On resume, a flag that would change the model or the data is a usage error naming the flag;
// the same value given again is accepted.
using ResumeFlags = ScratchTest;

TEST_F(ResumeFlags, AFlagContradictingTheCheckpointIsAUsageError) {
  RunResult r = train(tiny_model() + std::vector<std::string>{"--steps", "1", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const std::vector<std::string> resume = {"--resume", "run/ckpt-1.h5", "--steps", "2"};
  expect_one_error_line(train(resume + std::vector<std::string>{"--d-model", "32"}), 2,
                        "--d-model: 32 contradicts the checkpoint's 16 (run/ckpt-1.h5)");
  expect_one_error_line(train(resume + std::vector<std::string>{"--norm-first"}), 2,
                        "--norm-first: true contradicts the checkpoint's false");
  expect_one_error_line(train(resume + std::vector<std::string>{"--task", "reverse"}), 2,
                        "--task: \"reverse\" contradicts the checkpoint's \"copy\"");
  expect_one_error_line(train(resume + std::vector<std::string>{"--no-shuffle"}), 2,
                        "shuffle: false contradicts the checkpoint's true");
  expect_one_error_line(train(resume + std::vector<std::string>{"--lr", "0.5"}), 2, "--lr: 0.5");
  expect_one_error_line(train(resume + std::vector<std::string>{"--best-metric", "chrf"}), 2,
                        "--best-metric: \"chrf\" contradicts the checkpoint's \"loss\"");
  EXPECT_FALSE(fs::exists(dir_ / "run/ckpt-2.h5"));
  // Repeating the architecture, or changing a run option, is fine.
  r = train(resume + tiny_model());
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(read_checkpoint(path("run/latest.h5")).state.step, 2);
}

// With --share-embeddings a file whose three copies of the shared matrix differ is refused:
// loading could keep only one of them.
using SharedEmbeddings = ScratchTest;

TEST_F(SharedEmbeddings, AFileWhoseTiedCopiesDifferIsRefused) {
  const RunResult r = train(tiny_model() + std::vector<std::string>{"--steps", "1", "--out", "good",
                                                                    "--share-embeddings"});
  ASSERT_EQ(r.code, 0) << describe(r);
  edit(dir_ / "good/ckpt-1.h5", dir_ / "bad.h5",
       [](H5Edit& e) { e.replace_f32("/model/generator.weight", 14, 16); });
  const std::string what =
      "bad.h5: parameter generator.weight differs from src_embed.weight, which the model ties it "
      "to";
  expect_one_error_line(run({"eval", "--checkpoint", "bad.h5"}), 1, what);
  expect_one_error_line(train({"--resume", "bad.h5", "--steps", "3", "--out", "r"}), 1, what);
  EXPECT_FALSE(fs::exists(dir_ / "r/ckpt-3.h5"));
}

}  // namespace
}  // namespace sg::testing
