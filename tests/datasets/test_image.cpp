// Image files (datasets/image.h): PNG and PGM read back what was written, any PNG colour type
// reads as luminance with its polarity found from the pixels, fitting keeps the aspect ratio, and
// every broken file is one error line naming it.
#include <gtest/gtest.h>

#include <png.h>

#include <cstring>
#include <stdexcept>

#include "datasets/image.h"
#include "tests/train/test_cli_run.h"

namespace sg {
namespace {

using testing::ScratchDir;

// A 5 x 3 image with every ink level of 8 bits that round-trips exactly.
Image ramp() {
  Image im{3, 5, {}};
  for (int i = 0; i < 15; ++i) im.ink.push_back(static_cast<float>(i * 17) / 255.0f);
  // Mostly background, so that the polarity reads back as written.
  for (int i = 0; i < 10; ++i) im.ink[i] = 0.0f;
  return im;
}

void expect_near_image(const Image& a, const Image& b, double tol) {
  ASSERT_EQ(a.height, b.height);
  ASSERT_EQ(a.width, b.width);
  ASSERT_EQ(a.ink.size(), b.ink.size());
  for (size_t i = 0; i < a.ink.size(); ++i) EXPECT_NEAR(a.ink[i], b.ink[i], tol) << "pixel " << i;
}

// A one-line std::runtime_error that names `path` and contains `what`.
template <class F>
void expect_file_error(F&& f, const std::string& path, const std::string& what) {
  try {
    f();
    FAIL() << "no error for " << path;
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(ImageFiles, PngAndPgmRoundTrip) {
  ScratchDir dir;
  const Image im = ramp();
  write_png(dir / "a.png", im);
  write_pgm(dir / "a.pgm", im);
  expect_near_image(read_image(dir / "a.png"), im, 1e-6);
  expect_near_image(read_image(dir / "a.pgm"), im, 1e-6);
  // Written as dark ink on white: the first bytes of the PGM's pixels are white.
  const std::string pgm = testing::read_all(dir / "a.pgm");
  EXPECT_EQ(pgm.substr(0, 11), "P5\n5 3\n255\n");
  EXPECT_EQ(static_cast<unsigned char>(pgm[11]), 255);
}

TEST(ImageFiles, PgmTextSixteenBitAndComments) {
  ScratchDir dir;
  // P2 with comments; light ink (high values) on a dark ground of 0s reads as ink = value.
  dir.write("t.pgm", "P2\n# a comment\n3 2 # width height\n4\n0 0 4\n0 2 0\n");
  const Image t = read_image(dir / "t.pgm");
  EXPECT_EQ(t.width, 3);
  EXPECT_EQ(t.height, 2);
  EXPECT_EQ(t.ink, (std::vector<float>{0, 0, 1, 0, 0.5f, 0}));
  // P5 with maxval 1000: two big-endian bytes per pixel; a white ground (1000) is background.
  std::string p5 = "P5 2 2 1000\n";
  for (int v : {1000, 1000, 1000, 250})
    p5 += {static_cast<char>(v >> 8), static_cast<char>(v & 255)};
  dir.write("w.pgm", p5);
  const Image w = read_image(dir / "w.pgm");
  EXPECT_EQ(w.ink, (std::vector<float>{0, 0, 0, 0.75f}));
}

TEST(ImageFiles, PngColourAlphaAndPolarity) {
  ScratchDir dir;
  // RGBA: black opaque ink, the rest transparent (composited on white: background).
  std::vector<unsigned char> rgba(4 * 4 * 2, 0);
  for (int i = 0; i < 8; ++i) rgba[4 * i + 3] = i == 5 ? 255 : 0;
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = 4;
  png.height = 2;
  png.format = PNG_FORMAT_RGBA;
  ASSERT_TRUE(
      png_image_write_to_file(&png, (dir / "rgba.png").c_str(), 0, rgba.data(), 0, nullptr));
  const Image a = read_image(dir / "rgba.png");
  EXPECT_EQ(a.ink, (std::vector<float>{0, 0, 0, 0, 0, 1, 0, 0}));
  // Light text on a dark ground reads the same as dark text on a light one.
  const Image im = ramp();
  Image inverted = im;
  for (float& v : inverted.ink) v = 1.0f - v;
  write_png(dir / "inv.png", inverted);  // written as 1 - ink: light on dark
  expect_near_image(read_image(dir / "inv.png"), im, 1e-6);
}

TEST(ImageFiles, FitKeepsTheAspectRatio) {
  const Image im = ramp();
  EXPECT_EQ(fit_image(im, 3, 5), im);
  // A 2 x 2 block of ink halved: one pixel with the block's mean.
  Image block{2, 2, {1, 0, 1, 0}};
  const Image half = fit_image(block, 1, 1);
  EXPECT_EQ(half.ink, (std::vector<float>{0.5f}));
  // A 4-wide, 2-high image into 4 x 8: scaled by 2 (limited by the width), centred vertically.
  const Image wide{2, 4, {1, 1, 1, 1, 0, 0, 0, 0}};
  const Image f = fit_image(wide, 8, 8);
  ASSERT_EQ(f.height, 8);
  ASSERT_EQ(f.width, 8);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x)
      EXPECT_EQ(f.at(y, x), y >= 2 && y < 4 ? 1.0f : 0.0f) << y << "," << x;
  // A tall image is limited by the height and placed at the left.
  const Image tall{4, 1, {1, 1, 1, 1}};
  const Image g = fit_image(tall, 2, 3);
  EXPECT_EQ(g.ink, (std::vector<float>{1, 0, 0, 1, 0, 0}));
}

TEST(ImageFiles, BrokenFilesAreOneErrorNamingThem) {
  ScratchDir dir;
  write_png(dir / "ok.png", ramp());
  const std::string png = testing::read_all(dir / "ok.png");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir / "missing.png", "cannot open"},
      {dir.write("empty.png", ""), "empty file"},
      {dir.write("text.png", "hello world\n"), "not a PNG or PGM"},
      {dir.write("cut.png", png.substr(0, png.size() / 2)), "PNG"},
      {dir.write("header.png", png.substr(0, 12)), "PNG"},
      {dir.write("cut.pgm", "P5 4 4 255\nabc"), "truncated PGM"},
      {dir.write("short.pgm", "P2 2 2 255\n1 2 3"), "truncated PGM"},
      {dir.write("nosize.pgm", "P5\n"), "PGM header"},
      {dir.write("maxval.pgm", "P2 1 1 0\n0"), "maxval"},
      {dir.write("above.pgm", "P2 1 1 10\n11"), "above maxval"},
      {dir.write("huge.pgm", "P5 100000 100000 255\n"), "more than"},
      {dir.write("zero.pgm", "P5 0 3 255\n"), "empty image"},
      {dir.path().string(), "folder"},
  };
  for (const auto& [path, what] : cases) expect_file_error([&] { read_image(path); }, path, what);
  expect_file_error([&] { write_png(dir / "no/such/dir.png", ramp()); }, "dir.png", "cannot write");
}

}  // namespace
}  // namespace sg
