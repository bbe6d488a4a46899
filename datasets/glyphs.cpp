#include "datasets/glyphs.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "datasets/bitmap_font.h"
#include "datasets/synthetic.h"

namespace sg {

namespace {

// Ranges of the random changes (glyphs.h), in font dots unless said otherwise.
constexpr double kScaleLo = 1.4, kScaleHi = 1.7;  // image pixels per dot, times height / 16
constexpr double kStrokeLo = 0.75, kStrokeHi = 1.3;
constexpr double kGapLo = 0.6, kGapHi = 1.5;
constexpr double kJitterX = 0.4, kJitterY = 0.6;
constexpr double kInkLo = 0.65, kInkHi = 1.0, kBackgroundHi = 0.2;
constexpr double kNoiseLo = 0.02, kNoiseHi = 0.12;
constexpr int kSamples = 4;      // per pixel and axis
constexpr double kMargin = 1.0;  // image pixels kept free around the string
constexpr double kIndent = 4.0;  // most image pixels between the left margin and the string

// Width in dots of n characters with `gap` dots between them, stroke overhang included.
double string_dots(int64_t n, double gap, double stroke) {
  return static_cast<double>(n) * Glyph::kCols + static_cast<double>(n - 1) * gap +
         std::max(0.0, stroke - 1.0);
}

}  // namespace

GlyphsTask::GlyphsTask(const GlyphOptions& opt) : opt_(opt) {
  const auto alphabet = font_alphabet();
  const auto n_chars = static_cast<int64_t>(alphabet.size());
  if (opt.symbols < 1 || opt.symbols > n_chars)
    throw std::invalid_argument(
        "--symbols must be in [1, " + std::to_string(n_chars) +
        "] with --task glyphs (the font's digits and capital letters), got " +
        std::to_string(opt.symbols));
  // The copy task checks --min-len and --max-len.
  texts_ = std::make_shared<SyntheticTask>(SyntheticKind::copy,
                                           TaskOptions{opt.symbols, opt.min_len, opt.max_len});
  const int64_t min_height = static_cast<int64_t>(std::ceil(Glyph::kRows + 2 * kMargin + 1));
  if (opt.height < min_height)
    throw std::invalid_argument("--image-height must be at least " + std::to_string(min_height) +
                                ", got " + std::to_string(opt.height));
  // The longest string must fit at the smallest scale with the narrowest spacing.
  const double smallest = kScaleLo * static_cast<double>(opt.height) / 16.0;
  const auto min_width = static_cast<int64_t>(
      std::ceil(smallest * string_dots(opt.max_len, kGapLo, kStrokeLo) + 2 * kMargin + 1));
  if (opt.width < min_width)
    throw std::invalid_argument("--image-width " + std::to_string(opt.width) +
                                " is too narrow for --max-len " + std::to_string(opt.max_len) +
                                " characters at --image-height " + std::to_string(opt.height) +
                                " (at least " + std::to_string(min_width) + ")");
  std::vector<std::string> chars;
  for (int64_t k = 0; k < opt.symbols; ++k) chars.emplace_back(1, alphabet[k]);
  vocab_ = Vocab::from_tokens(chars);
}

std::string GlyphsTask::text_of(const std::vector<int64_t>& ids) const {
  std::string s;
  for (const int64_t id : ids) s += vocab_.token(id);
  return s;
}

Image GlyphsTask::render(const std::vector<int64_t>& ids, Generator& g) const {
  const int64_t H = opt_.height, W = opt_.width, n = static_cast<int64_t>(ids.size());
  const double unit = static_cast<double>(H) / 16.0;
  double scale = g.uniform(kScaleLo, kScaleHi) * unit;
  const double stroke = g.uniform(kStrokeLo, kStrokeHi);
  const double gap = g.uniform(kGapLo, kGapHi);
  // Shrink a string that would not fit across (or a scale that would not fit down).
  scale = std::min({scale, (static_cast<double>(W) - 2 * kMargin) / string_dots(n, gap, stroke),
                    (static_cast<double>(H) - 2 * kMargin) / (Glyph::kRows + 2 * kJitterY)});
  const double width = scale * string_dots(n, gap, stroke);
  const double height = scale * (Glyph::kRows + 2 * kJitterY);
  const double x0 = g.uniform(
      kMargin, std::clamp(static_cast<double>(W) - kMargin - width, kMargin, kMargin + kIndent));
  const double y0 =
      g.uniform(kMargin, std::max(kMargin, static_cast<double>(H) - kMargin - height)) +
      scale * kJitterY;
  const double ink = g.uniform(kInkLo, kInkHi);
  const double background = g.uniform(0.0, kBackgroundHi);
  const double noise = g.uniform(kNoiseLo, kNoiseHi);

  // Ink coverage on a grid of kSamples x kSamples samples per pixel.
  const int64_t SW = W * kSamples, SH = H * kSamples;
  std::vector<uint8_t> covered(static_cast<size_t>(SW * SH), 0);
  const double half = 0.5 * stroke * scale;  // half the side of a dot's square, in pixels
  for (int64_t c = 0; c < n; ++c) {
    const Glyph& glyph = glyph_of(vocab_.token(ids[c])[0]);
    const double cx =
        x0 + scale * (static_cast<double>(c) * (Glyph::kCols + gap) +
                      0.5 * std::max(0.0, stroke - 1.0) + g.uniform(-kJitterX, kJitterX));
    const double cy = y0 + scale * g.uniform(-kJitterY, kJitterY);
    for (int r = 0; r < Glyph::kRows; ++r)
      for (int k = 0; k < Glyph::kCols; ++k) {
        if (!glyph.on(r, k)) continue;
        // The dot's square [x_lo, x_hi) x [y_lo, y_hi) in pixels, then in samples.
        const double mx = cx + scale * (k + 0.5), my = cy + scale * (r + 0.5);
        auto lo = [](double v, int64_t limit) {
          return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(v * kSamples - 0.5)), 0, limit);
        };
        const int64_t sx0 = lo(mx - half, SW), sx1 = lo(mx + half, SW);
        const int64_t sy0 = lo(my - half, SH), sy1 = lo(my + half, SH);
        for (int64_t sy = sy0; sy < sy1; ++sy)
          std::fill(covered.begin() + sy * SW + sx0, covered.begin() + sy * SW + sx1, 1);
      }
  }
  Image im{H, W, std::vector<float>(static_cast<size_t>(H * W))};
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      int count = 0;
      for (int sy = 0; sy < kSamples; ++sy)
        for (int sx = 0; sx < kSamples; ++sx)
          count += covered[(y * kSamples + sy) * SW + x * kSamples + sx];
      const double cover = static_cast<double>(count) / (kSamples * kSamples);
      const double v = background + cover * (ink - background) + noise * g.normal();
      im.ink[y * W + x] = static_cast<float>(std::clamp(v, 0.0, 1.0));
    }
  return im;
}

std::vector<ImageExample> GlyphsTask::held_out(int64_t n, uint64_t seed) const {
  const std::vector<Example> strings = texts_->held_out(n, seed);
  Generator g(seed ^ 0x61C8864680B583EBULL);
  std::vector<ImageExample> out;
  out.reserve(strings.size());
  for (const Example& e : strings) out.push_back({render(e.tgt, g), e.tgt});
  return out;
}

GlyphStream::GlyphStream(std::shared_ptr<const GlyphsTask> task, int64_t n_held_out, uint64_t seed,
                         uint64_t held_out_seed)
    : task_(std::move(task)),
      texts_(task_->texts(), n_held_out, seed, held_out_seed),
      held_out_(task_->held_out(n_held_out, held_out_seed)) {}

ImageExample GlyphStream::next() {
  std::vector<int64_t> ids = texts_.next().tgt;
  return {task_->render(ids, texts_.generator()), std::move(ids)};
}

}  // namespace sg
