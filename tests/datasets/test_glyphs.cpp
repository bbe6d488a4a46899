// The glyphs task (datasets/glyphs.h): the font, rendering (deterministic per seed, varied across
// draws, the characters left to right), held-out strings that training never draws, the
// stream's position, image batches and the option checks.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>

#include "datasets/batch.h"
#include "datasets/bitmap_font.h"
#include "datasets/glyphs.h"

namespace sg {
namespace {

GlyphOptions small_options() {
  GlyphOptions o;
  o.symbols = 36, o.min_len = 1, o.max_len = 6, o.height = 16, o.width = 64;
  return o;
}

double total_ink(const Image& im) {
  double s = 0;
  for (float v : im.ink) s += v;
  return s;
}

TEST(BitmapFont, ThirtySixDistinctGlyphs) {
  const auto alphabet = font_alphabet();
  ASSERT_EQ(alphabet.size(), 36u);
  std::set<std::string> bitmaps;
  for (char ch : alphabet) {
    const Glyph& g = glyph_of(ch);
    EXPECT_EQ(g.ch, ch);
    std::string bits;
    for (const auto& row : g.rows) {
      ASSERT_EQ(row.size(), 5u) << ch;
      for (char b : row) ASSERT_TRUE(b == '#' || b == '.') << ch;
      bits += row;
    }
    EXPECT_NE(bits.find('#'), std::string::npos) << ch;
    bitmaps.insert(bits);
  }
  EXPECT_EQ(bitmaps.size(), 36u);
  EXPECT_THROW(glyph_of('a'), std::out_of_range);
}

TEST(Glyphs, RenderingIsSeededAndVaried) {
  const GlyphsTask task(small_options());
  const std::vector<int64_t> ids = {4 + 1, 4 + 10, 4 + 35};  // "1AZ"
  EXPECT_EQ(task.text_of(ids), "1AZ");
  Generator g1(7), g2(7);
  const Image a = task.render(ids, g1), b = task.render(ids, g2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.height, 16);
  EXPECT_EQ(a.width, 64);
  for (float v : a.ink) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
  // The next draw of the same string differs (scale, place, noise...).
  EXPECT_NE(task.render(ids, g1), a);
  // More characters, more ink: the background and the noise (up to 0.2 and 0.12 a pixel, the
  // same for both) are most of one character's total, so six come to about twice one.
  Generator g3(1);
  double one = 0, six = 0;
  for (int i = 0; i < 20; ++i) {
    one += total_ink(task.render({4 + 8}, g3));
    six += total_ink(task.render({4 + 8, 4 + 8, 4 + 8, 4 + 8, 4 + 8, 4 + 8}, g3));
  }
  EXPECT_GT(six, 1.5 * one);
}

// The characters run left to right: with the same draws (a copy of the generator), changing the
// first character of a string changes pixels left of those that changing its last one does.
TEST(Glyphs, CharactersRunLeftToRight) {
  const GlyphsTask task(small_options());
  // The mean column of the pixels where two renderings differ.
  auto diff_column = [](const Image& a, const Image& b) {
    double s = 0, sx = 0;
    for (int64_t y = 0; y < a.height; ++y)
      for (int64_t x = 0; x < a.width; ++x) {
        const double d = std::abs(a.at(y, x) - b.at(y, x));
        s += d;
        sx += d * static_cast<double>(x);
      }
    return sx / s;
  };
  Generator g(3);
  for (int i = 0; i < 20; ++i) {
    const Generator::State st = g.state();
    auto render = [&](std::vector<int64_t> ids) {
      g.set_state(st);
      return task.render(ids, g);
    };
    const Image base = render({4 + 21, 4 + 7, 4 + 19});  // "L7J"
    const double first = diff_column(base, render({4 + 8, 4 + 7, 4 + 19}));
    const double last = diff_column(base, render({4 + 21, 4 + 7, 4 + 8}));
    EXPECT_LT(first + 5, last) << "draw " << i;
  }
}

TEST(Glyphs, HeldOutStringsNeverTrainAndAreFixed) {
  auto task = std::make_shared<const GlyphsTask>(small_options());
  GlyphStream stream(task, 200, 5);
  const auto& held = stream.held_out();
  ASSERT_EQ(held.size(), 200u);
  std::set<std::vector<int64_t>> held_text;
  for (const auto& e : held) held_text.insert(e.tgt);
  EXPECT_EQ(held_text.size(), 200u);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(held_text.count(stream.next().tgt), 0u);
  // The held-out set does not depend on the run's seed.
  GlyphStream other(task, 200, 99);
  ASSERT_EQ(other.held_out().size(), held.size());
  for (size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(other.held_out()[i].tgt, held[i].tgt);
    EXPECT_EQ(other.held_out()[i].image, held[i].image);
  }
}

TEST(Glyphs, StreamPositionRestores) {
  auto task = std::make_shared<const GlyphsTask>(small_options());
  GlyphStream a(task, 10, 1), b(task, 10, 1);
  for (int i = 0; i < 5; ++i) a.next();
  b.generator().set_state(a.generator().state());
  for (int i = 0; i < 5; ++i) {
    const ImageExample x = a.next(), y = b.next();
    EXPECT_EQ(x.tgt, y.tgt);
    EXPECT_EQ(x.image, y.image);
  }
}

TEST(Glyphs, ImageBatch) {
  const Image im{2, 3, {0, 0.5f, 1, 0, 0, 0}};
  const Batch b = make_image_batch({{im, {5, 6}}, {im, {7}}});
  EXPECT_TRUE(b.has_images());
  EXPECT_EQ(b.size(), 2);
  EXPECT_EQ(b.src.numel(), 0);
  EXPECT_EQ(b.images.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(b.images.to_vector()[7], 0.5);
  EXPECT_EQ(b.tgt_in.data, (std::vector<int64_t>{1, 5, 6, 1, 7, 0}));
  EXPECT_EQ(b.tgt_out.data, (std::vector<int64_t>{5, 6, 2, 7, 2, 0}));
  EXPECT_EQ(b.n_tgt_tokens, 5);
  const Image other{3, 2, std::vector<float>(6, 0.0f)};
  EXPECT_THROW(make_image_batch({{im, {5}}, {other, {5}}}), std::invalid_argument);
  EXPECT_THROW(make_image_batch(std::vector<ImageExample>{}), std::invalid_argument);
}

TEST(Glyphs, OptionsAreChecked) {
  auto error_of = [](GlyphOptions o) -> std::string {
    try {
      GlyphsTask t(o);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  GlyphOptions o = small_options();
  o.symbols = 37;
  EXPECT_NE(error_of(o).find("--symbols"), std::string::npos);
  o = small_options();
  o.height = 9;
  EXPECT_NE(error_of(o).find("--image-height"), std::string::npos);
  o = small_options();
  o.width = 30;
  EXPECT_NE(error_of(o).find("--image-width"), std::string::npos);
  o = small_options();
  o.min_len = 7;
  EXPECT_NE(error_of(o).find("--max-len"), std::string::npos);
  EXPECT_EQ(error_of(small_options()), "");
}

}  // namespace
}  // namespace sg
