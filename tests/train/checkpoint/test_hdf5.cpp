// The HDF5 layer: every value type and attribute round-trips, and every failure is a one-line
// std::runtime_error naming the file and object, with nothing printed to stderr.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "train/checkpoint/hdf5.h"

namespace sg {
namespace {

namespace fs = std::filesystem;

// A fresh scratch directory per test, removed afterwards.
class Hdf5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("seqgrad_hdf5_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// Runs f, which must throw std::runtime_error; returns its message and checks stderr stayed
// silent.
template <class F>
std::string error_of(F&& f) {
  std::string msg;
  ::testing::internal::CaptureStderr();
  try {
    f();
    ADD_FAILURE() << "expected a std::runtime_error";
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "") << "HDF5 printed to stderr";
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  return msg;
}

TEST_F(Hdf5Test, RoundTripsEveryNumericType) {
  const std::vector<float> f = {1.5f,
                                -0.0f,
                                std::numeric_limits<float>::denorm_min(),
                                3e38f,
                                std::numeric_limits<float>::infinity(),
                                7.0f};
  const std::vector<double> d = {0.1, -2.5e-300, 1e300};
  const std::vector<int64_t> i = {std::numeric_limits<int64_t>::min(), -1, 0, 42};
  const std::vector<uint64_t> u = {0, std::numeric_limits<uint64_t>::max()};
  const double scalar = 6.25;
  {
    H5File h = H5File::create(file("a.h5"));
    h.write("/model/src_embed.weight", f.data(), {2, 3});
    h.write("opt/state/x.y", d.data(), {3});
    h.write("/ints", i.data(), {2, 2});
    h.write("/u", u.data(), {2});
    h.write("/scalar", &scalar, {});
    h.write("/empty", f.data(), {0, 4});
    h.close();
  }
  H5File h = H5File::open_read(file("a.h5"));
  const auto rf = h.read_f32("model/src_embed.weight");
  EXPECT_EQ(rf.shape, (Shape{2, 3}));
  ASSERT_EQ(rf.data.size(), f.size());
  for (size_t k = 0; k < f.size(); ++k) EXPECT_EQ(std::signbit(rf.data[k]), std::signbit(f[k]));
  EXPECT_EQ(rf.data, f);
  EXPECT_EQ(h.read_f64("/opt/state/x.y").data, d);
  EXPECT_EQ(h.read_i64("/ints").data, i);
  EXPECT_EQ(h.read_i64("/ints").shape, (Shape{2, 2}));
  EXPECT_EQ(h.read_u64("/u").data, u);
  EXPECT_EQ(h.shape_of("/scalar"), Shape{});
  EXPECT_EQ(h.read_f64("/scalar").data, std::vector<double>{6.25});
  EXPECT_EQ(h.shape_of("/empty"), (Shape{0, 4}));
  EXPECT_TRUE(h.read_f32("/empty").data.empty());
  // Reads convert through the memory type.
  EXPECT_EQ(h.read_f64("/model/src_embed.weight").data[0], 1.5);
  EXPECT_EQ(h.read_f32("/ints").data[3], 42.0f);
  std::vector<float> into(6);
  h.read_into("/model/src_embed.weight", into.data(), 6);
  EXPECT_EQ(into, f);
}

TEST_F(Hdf5Test, GroupsListAndExists) {
  H5File h = H5File::create(file("g.h5"));
  const float v = 1.0f;
  h.write("/model/b.weight", &v, {});
  h.write("/model/a.bias", &v, {});
  h.write("/model/a.weight", &v, {});
  h.create_group("/optimizer/exp_avg");
  h.create_group("/optimizer/exp_avg");  // already there: no-op
  EXPECT_EQ(h.list("/model"), (std::vector<std::string>{"a.bias", "a.weight", "b.weight"}));
  EXPECT_EQ(h.list("/"), (std::vector<std::string>{"model", "optimizer"}));
  EXPECT_EQ(h.list(""), h.list("/"));
  EXPECT_TRUE(h.list("/optimizer/exp_avg").empty());
  EXPECT_TRUE(h.exists("/model/a.bias"));
  EXPECT_TRUE(h.exists("model"));
  EXPECT_TRUE(h.exists("/"));
  EXPECT_FALSE(h.exists("/model/c"));
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(h.exists("/nothing/here/at/all"));
  EXPECT_FALSE(h.exists("/model/a.bias/below_a_dataset"));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  const std::string msg = error_of([&] { h.write("/model/a.bias", &v, {}); });
  EXPECT_NE(msg.find("already exists"), std::string::npos) << msg;
}

TEST_F(Hdf5Test, RoundTripsAttributesOnRootGroupsAndDatasets) {
  const std::string utf8 = "na\xC3\xAFve \xE2\x86\x92 caf\xC3\xA9";
  {
    H5File h = H5File::create(file("attrs.h5"));
    const float v = 2.0f;
    h.write("/model/w", &v, {});
    h.set_attr_str("/", "format", "seqgrad-checkpoint");
    h.set_attr_i64("", "format_version", 1);
    h.set_attr_i64("/", "step", std::numeric_limits<int64_t>::min());
    h.set_attr_f64("/model", "scale", 0.1);
    h.set_attr_str("/model/w", "note", utf8);
    h.set_attr_str("/model/w", "empty", "");
    h.set_attr_f64("/model/w", "lr", 1e-3);
    h.set_attr_f64("/model/w", "lr", 2e-3);  // replaces
    h.close();
  }
  H5File h = H5File::open_read(file("attrs.h5"));
  EXPECT_EQ(h.attr_str("/", "format"), "seqgrad-checkpoint");
  EXPECT_EQ(h.attr_i64("/", "format_version"), 1);
  EXPECT_EQ(h.attr_i64("/", "step"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(h.attr_f64("/model", "scale"), 0.1);
  EXPECT_EQ(h.attr_str("/model/w", "note"), utf8);
  EXPECT_EQ(h.attr_str("/model/w", "empty"), "");
  EXPECT_EQ(h.attr_f64("/model/w", "lr"), 2e-3);
  EXPECT_EQ(h.attr_f64("/", "format_version"), 1.0);  // integers read as double too
  EXPECT_TRUE(h.has_attr("/model", "scale"));
  EXPECT_FALSE(h.has_attr("/model", "nope"));
  EXPECT_FALSE(h.has_attr("/missing", "scale"));
  EXPECT_EQ(h.attr_names("/model/w"), (std::vector<std::string>{"empty", "lr", "note"}));
  EXPECT_NE(error_of([&] { h.attr_i64("/", "format"); }).find("not an integer"), std::string::npos);
  const std::string msg = error_of([&] { h.attr_str("/model", "missing_attr"); });
  EXPECT_NE(msg.find("missing_attr"), std::string::npos) << msg;
  EXPECT_NE(msg.find("attrs.h5"), std::string::npos) << msg;
}

TEST_F(Hdf5Test, RoundTripsStringDatasets) {
  const std::vector<std::string> vocab = {
      "<pad>", "<bos>", "<eos>", "<unk>", "", "\xC3\xA9t\xC3\xA9", "a b\tc"};
  {
    H5File h = H5File::create(file("s.h5"));
    h.write_strings("/vocab/src", vocab);
    h.write_strings("/vocab/tgt", {});
    h.flush();
  }
  H5File h = H5File::open_read(file("s.h5"));
  EXPECT_EQ(h.read_strings("/vocab/src"), vocab);
  EXPECT_EQ(h.shape_of("/vocab/src"), Shape{7});
  EXPECT_TRUE(h.read_strings("vocab/tgt").empty());
  const std::string msg = error_of([&] { h.read_f32("/vocab/src"); });
  EXPECT_NE(msg.find("not numeric"), std::string::npos) << msg;
}

// Strings are stored fixed-length (their bytes inside checksummed parts of the file), a block of
// rows at a time: a 3 MB string among short ones round-trips, as do empty ones.
TEST_F(Hdf5Test, LongAndEmptyStringsRoundTrip) {
  const std::string big(3 << 20, 'x');
  std::vector<std::string> v = {"", "a", big, "\xC3\xA9"};
  for (int i = 0; i < 5; ++i) v.push_back(std::to_string(i));
  {
    H5File h = H5File::create(file("long.h5"));
    h.write_strings("/vocab/src", v);
    h.set_attr_str("/", "big", big);
    h.close();
  }
  H5File h = H5File::open_read(file("long.h5"));
  EXPECT_EQ(h.read_strings("/vocab/src"), v);
  EXPECT_EQ(h.attr_str("/", "big"), big);
  EXPECT_LT(fs::file_size(file("long.h5")), size_t{4} << 20);  // the padding is compressed
}

// H5File::check reads everything: a file of this layer has every byte in a checksummed part and
// none that nothing reads; a changed byte in a dataset's values is found and named.
TEST_F(Hdf5Test, CheckFindsEveryChecksummedPartAndNamesTheDamagedOne) {
  std::vector<float> w(1000);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);
  const int64_t step = 3;
  {
    H5File h = H5File::create(file("c.h5"));
    h.write("/model/w", w.data(), {10, 100});
    h.write("/optimizer/step/w", &step, {});
    h.write_strings("/vocab/src", {"<pad>", "a"});
    h.set_attr_str("/", "format", "seqgrad-checkpoint");
    h.close();
  }
  const H5Check good = H5File::check(file("c.h5"));
  EXPECT_TRUE(good.damaged.empty());
  EXPECT_TRUE(good.unchecksummed.empty()) << good.unchecksummed.front();
  EXPECT_EQ(good.superblock_version, 3u);
  EXPECT_EQ(good.accounted_bytes, good.file_bytes);
  EXPECT_EQ(good.data_bytes, 4000 + 8 + 2 * 5);
  EXPECT_EQ(good.objects, 8);  // the root, 4 groups, 3 datasets
  EXPECT_EQ(good.attributes, 1);

  // The value 500.0f (bytes 00 00 fa 43) becomes 500.0001f.
  std::string bytes;
  {
    std::ifstream in(file("c.h5"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string needle("\x00\x00\xfa\x43", 4);
  const size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 1;
  std::ofstream(file("d.h5"), std::ios::binary) << bytes;
  const H5Check bad = H5File::check(file("d.h5"));
  ASSERT_EQ(bad.damaged.size(), 1u);
  EXPECT_EQ(bad.damaged[0].object, "/model/w");
  EXPECT_NE(bad.damaged[0].reason.find("Fletcher32"), std::string::npos) << bad.damaged[0].reason;
  const std::string msg = error_of([&] { H5File::open_read(file("d.h5")).read_f32("/model/w"); });
  EXPECT_NE(msg.find("d.h5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(the file is damaged)"), std::string::npos) << msg;
}

// What older files (HDF5's default format, variable-length strings) lack is listed, not damaged.
TEST_F(Hdf5Test, CheckListsWhatHasNoChecksum) {
  {
    const hid_t f = H5Fcreate(file("old.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = 3;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t ds =
        H5Dcreate2(f, "w", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const float v[3] = {1, 2, 3};
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, H5T_VARIABLE);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, "format", str, scalar, H5P_DEFAULT, H5P_DEFAULT);
    const char* text = "seqgrad-checkpoint";
    H5Awrite(a, str, &text);
    H5Aclose(a);
    H5Sclose(scalar);
    H5Tclose(str);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(f);
  }
  const H5Check h = H5File::check(file("old.h5"));
  EXPECT_TRUE(h.damaged.empty());
  EXPECT_EQ(h.superblock_version, 0u);
  const std::string all = [&] {
    std::string s;
    for (const auto& u : h.unchecksummed) s += u + "\n";
    return s;
  }();
  EXPECT_NE(all.find("/ (superblock version 0)"), std::string::npos) << all;
  EXPECT_NE(all.find("/w (object header version 1)"), std::string::npos) << all;
  EXPECT_NE(all.find("/w (values without a Fletcher32 checksum)"), std::string::npos) << all;
  EXPECT_NE(all.find("attribute 'format' of / (variable-length values"), std::string::npos) << all;
  EXPECT_EQ(h.data_bytes, 12);
}

TEST_F(Hdf5Test, NonHdf5FileIsAOneLineError) {
  {
    std::ofstream out(file("text.h5"));
    out << "this is not an HDF5 file\n";
  }
  const std::string msg = error_of([&] { H5File::open_read(file("text.h5")); });
  EXPECT_NE(msg.find("text.h5"), std::string::npos) << msg;
}

TEST_F(Hdf5Test, TruncatedFileIsAOneLineError) {
  {
    H5File h = H5File::create(file("full.h5"));
    std::vector<float> big(4096, 1.0f);
    h.write("/model/w", big.data(), {64, 64});
    h.close();
  }
  const auto size = fs::file_size(file("full.h5"));
  fs::copy_file(file("full.h5"), file("cut.h5"));
  fs::resize_file(file("cut.h5"), size / 2);
  const std::string msg = error_of([&] {
    H5File h = H5File::open_read(file("cut.h5"));
    h.read_f32("/model/w");
  });
  EXPECT_NE(msg.find("cut.h5"), std::string::npos) << msg;
}

TEST_F(Hdf5Test, MissingFileIsAOneLineError) {
  const std::string msg = error_of([&] { H5File::open_read(file("nowhere.h5")); });
  EXPECT_NE(msg.find("nowhere.h5"), std::string::npos) << msg;
  const std::string msg2 = error_of([&] { H5File::create(file("no_dir/x.h5")); });
  EXPECT_NE(msg2.find("no_dir/x.h5"), std::string::npos) << msg2;
}

TEST_F(Hdf5Test, MissingDatasetIsNamed) {
  H5File h = H5File::create(file("m.h5"));
  const float v = 1.0f;
  h.write("/model/w", &v, {});
  for (const std::string path : {"/model/missing.weight", "/no_group/deeper/x"}) {
    const std::string msg = error_of([&] { h.read_f32(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("m.h5"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of([&] { h.shape_of("/model/nope"); }).find("/model/nope"), std::string::npos);
  EXPECT_NE(error_of([&] { h.list("/nope"); }).find("/nope"), std::string::npos);
  EXPECT_NE(error_of([&] { h.read_strings("/nope"); }).find("/nope"), std::string::npos);
  std::vector<float> wrong(3);
  EXPECT_NE(error_of([&] { h.read_into("/model/w", wrong.data(), 3); }).find("expected 3"),
            std::string::npos);
}

TEST_F(Hdf5Test, HandlesAreMoveOnlyAndClosed) {
  H5File a = H5File::create(file("mv.h5"));
  H5File b = std::move(a);
  const int64_t v = 5;
  b.write("/x", &v, {});
  b.close();
  H5File c = H5File::open_read(file("mv.h5"));
  EXPECT_EQ(c.read_i64("/x").data, std::vector<int64_t>{5});
  static_assert(!std::is_copy_constructible_v<Handle>);
  static_assert(!std::is_copy_constructible_v<H5File>);
}

}  // namespace
}  // namespace sg
