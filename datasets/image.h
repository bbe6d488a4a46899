// Grey images as an image model reads them (docs/data.md, images): one float per pixel, the
// amount of ink in [0, 1] (0 = background), row-major. Files are PNG (read with libpng, any
// colour type and bit depth; colour is turned into luminance, transparency composited on white)
// or PGM (P2 text or P5 binary, any maxval up to 65535). A file's polarity is found from its
// pixels: the tone that covers most of the picture is the background, so both dark text on a
// light ground and light text on a dark ground read as ink on 0. Written files are dark ink on
// white.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sg {

struct Image {
  int64_t height = 0, width = 0;
  std::vector<float> ink;  // height * width values in [0, 1], row-major
  float at(int64_t y, int64_t x) const { return ink[static_cast<size_t>(y * width + x)]; }
  bool operator==(const Image&) const = default;
};

// One example of an image model: the source image and the target as real-token ids (without
// <bos> or <eos>, as Example's).
struct ImageExample {
  Image image;
  std::vector<int64_t> tgt;
};

// The largest image a file may hold (width * height), so that a hostile header cannot make
// seqgrad allocate gigabytes.
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

// Reads a PNG or PGM file (told apart by its first bytes). Every problem (a missing file, a
// format that is neither, a corrupt or truncated file, an image larger than kMaxImagePixels) is
// one std::runtime_error line naming the file.
Image read_image(const std::string& path);
// Decodes PNG or PGM bytes; `name` names them in errors.
Image decode_image(const std::string& bytes, const std::string& name);

// Luminance in [0, 1] (0 black, 1 white) -> ink, taking the majority tone as the background:
// ink = 1 - luminance when the mean luminance is at least 0.5, else ink = luminance.
Image ink_from_luminance(int64_t height, int64_t width, const std::vector<float>& luminance);

// Writes dark ink on white, 8 bits per pixel (PNG through libpng; PGM as P5). Throws
// std::runtime_error naming the file.
void write_png(const std::string& path, const Image& image);
void write_pgm(const std::string& path, const Image& image);

// The image fitted into height x width as an image model expects its input: scaled by the
// largest factor that fits (box filtering, keeping the aspect ratio), placed at the left and
// centred vertically, the rest background (0). An image of that size is returned unchanged.
Image fit_image(const Image& image, int64_t height, int64_t width);

}  // namespace sg
