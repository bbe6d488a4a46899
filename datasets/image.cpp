#include "datasets/image.h"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sg {

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw std::runtime_error(name + ": " + what);
}

void check_size(const std::string& name, int64_t height, int64_t width) {
  if (height < 1 || width < 1)
    fail(name, "empty image (" + std::to_string(width) + " x " + std::to_string(height) + ")");
  if (height > kMaxImagePixels / width)
    fail(name, "image of " + std::to_string(width) + " x " + std::to_string(height) +
                   " pixels, more than the " + std::to_string(kMaxImagePixels) + " seqgrad reads");
}

Image decode_png(const std::string& bytes, const std::string& name) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    fail(name, std::string("not a readable PNG: ") + png.message);
  const int64_t height = png.height, width = png.width;
  try {
    check_size(name, height, width);
  } catch (...) {
    png_image_free(&png);
    throw;
  }
  // 8-bit grey (libpng converts colour to luminance); transparency composited on white.
  png.format = PNG_FORMAT_GRAY;
  std::vector<png_byte> grey(static_cast<size_t>(height * width));
  const png_color white{255, 255, 255};
  if (!png_image_finish_read(&png, &white, grey.data(), static_cast<png_int_32>(width), nullptr))
    fail(name, std::string("corrupt PNG: ") + png.message);
  std::vector<float> lum(grey.size());
  for (size_t i = 0; i < grey.size(); ++i) lum[i] = static_cast<float>(grey[i]) / 255.0f;
  return ink_from_luminance(height, width, lum);
}

// PGM (netpbm): "P2" or "P5", width, height and maxval as decimal text separated by whitespace
// and '#' comments; P2 then holds decimal samples, P5 (after one whitespace byte) binary samples
// of 1 byte, or 2 big-endian bytes when maxval > 255.
Image decode_pgm(const std::string& bytes, const std::string& name) {
  size_t pos = 2;
  auto skip_space = [&] {
    while (pos < bytes.size()) {
      if (bytes[pos] == '#') {
        while (pos < bytes.size() && bytes[pos] != '\n') ++pos;
      } else if (std::isspace(static_cast<unsigned char>(bytes[pos]))) {
        ++pos;
      } else {
        break;
      }
    }
  };
  auto number = [&](const char* what) -> int64_t {
    skip_space();
    int64_t v = 0;
    const size_t start = pos;
    while (pos < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[pos]))) {
      if (v > 100000000) fail(name, std::string("PGM ") + what + " too large");
      v = v * 10 + (bytes[pos++] - '0');
    }
    if (pos == start)
      fail(name,
           std::string("PGM header: expected the ") + what +
               (pos < bytes.size() ? " at byte " + std::to_string(pos + 1) : ", got the end"));
    return v;
  };
  const bool binary = bytes[1] == '5';
  const int64_t width = number("width"), height = number("height"), maxval = number("maxval");
  check_size(name, height, width);
  if (maxval < 1 || maxval > 65535)
    fail(name, "PGM maxval " + std::to_string(maxval) + " outside 1..65535");
  const size_t n = static_cast<size_t>(height * width);
  std::vector<float> lum(n);
  if (binary) {
    if (pos >= bytes.size() || !std::isspace(static_cast<unsigned char>(bytes[pos])))
      fail(name, "PGM header: no whitespace after maxval");
    ++pos;
    const size_t bps = maxval > 255 ? 2 : 1;
    if (bytes.size() - pos < n * bps)
      fail(name, "truncated PGM: " + std::to_string(n * bps) + " bytes of pixels expected, " +
                     std::to_string(bytes.size() - pos) + " found");
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + pos);
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = bps == 2 ? (p[2 * i] << 8 | p[2 * i + 1]) : p[i];
      if (v > maxval)
        fail(name, "PGM pixel " + std::to_string(i) + " is " + std::to_string(v) +
                       ", above maxval " + std::to_string(maxval));
      lum[i] = static_cast<float>(static_cast<double>(v) / static_cast<double>(maxval));
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      skip_space();
      if (pos >= bytes.size())
        fail(name, "truncated PGM: " + std::to_string(n) + " pixels expected, " +
                       std::to_string(i) + " found");
      const int64_t v = number("pixel value");
      if (v > maxval)
        fail(name, "PGM pixel " + std::to_string(i) + " is " + std::to_string(v) +
                       ", above maxval " + std::to_string(maxval));
      lum[i] = static_cast<float>(static_cast<double>(v) / static_cast<double>(maxval));
    }
  }
  return ink_from_luminance(height, width, lum);
}

// 8-bit luminance of dark ink on white.
std::vector<unsigned char> grey_bytes(const Image& image) {
  std::vector<unsigned char> out(image.ink.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<unsigned char>(
        std::lround(255.0 * (1.0 - std::clamp(static_cast<double>(image.ink[i]), 0.0, 1.0))));
  return out;
}

void check_writable(const Image& image, const std::string& path) {
  if (image.height < 1 || image.width < 1 ||
      image.ink.size() != static_cast<size_t>(image.height * image.width))
    throw std::runtime_error(path + ": cannot write an image of " + std::to_string(image.width) +
                             " x " + std::to_string(image.height) + " pixels with " +
                             std::to_string(image.ink.size()) + " values");
}

// Box filter along one axis: output i averages the input over [i, i + 1) * n_in / n_out.
struct Taps {
  std::vector<std::vector<std::pair<int64_t, double>>> of;  // per output: (input, weight)
};
Taps box_taps(int64_t n_in, int64_t n_out) {
  Taps t;
  t.of.resize(static_cast<size_t>(n_out));
  const double step = static_cast<double>(n_in) / static_cast<double>(n_out);
  for (int64_t i = 0; i < n_out; ++i) {
    const double lo = static_cast<double>(i) * step, hi = lo + step;
    for (auto k = static_cast<int64_t>(std::floor(lo)); k < n_in && static_cast<double>(k) < hi;
         ++k) {
      const double w =
          std::min(hi, static_cast<double>(k + 1)) - std::max(lo, static_cast<double>(k));
      if (w > 0) t.of[i].emplace_back(k, w / step);
    }
  }
  return t;
}

}  // namespace

Image decode_image(const std::string& bytes, const std::string& name) {
  static const char kPng[] = "\x89PNG";
  if (bytes.size() >= 4 && bytes.compare(0, 4, kPng, 4) == 0) return decode_png(bytes, name);
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5'))
    return decode_pgm(bytes, name);
  fail(name,
       bytes.empty() ? "empty file, not an image" : "not a PNG or PGM image (unknown first bytes)");
}

Image read_image(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "a folder, not an image file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  // A PNG of kMaxImagePixels compresses to far less than this; PGM is at most 2 bytes a pixel
  // (P2 text, about 6).
  constexpr std::streamoff kMaxBytes = 8 * kMaxImagePixels;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > kMaxBytes)
    fail(path, "file of " + std::to_string(size) + " bytes, too large for an image");
  in.seekg(0);
  std::string bytes(static_cast<size_t>(std::max<std::streamoff>(size, 0)), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) fail(path, "cannot read the file");
  return decode_image(bytes, path);
}

Image ink_from_luminance(int64_t height, int64_t width, const std::vector<float>& luminance) {
  double mean = 0;
  for (float v : luminance) mean += v;
  mean /= static_cast<double>(std::max<size_t>(luminance.size(), 1));
  Image im{height, width, luminance};
  if (mean >= 0.5)
    for (float& v : im.ink) v = 1.0f - v;
  return im;
}

void write_png(const std::string& path, const Image& image) {
  check_writable(image, path);
  const std::vector<unsigned char> grey = grey_bytes(image);
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = PNG_FORMAT_GRAY;
  if (!png_image_write_to_file(&png, path.c_str(), 0, grey.data(),
                               static_cast<png_int_32>(image.width), nullptr))
    throw std::runtime_error(path + ": cannot write PNG: " + png.message);
}

void write_pgm(const std::string& path, const Image& image) {
  check_writable(image, path);
  const std::vector<unsigned char> grey = grey_bytes(image);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << "P5\n" << image.width << ' ' << image.height << "\n255\n";
  out.write(reinterpret_cast<const char*>(grey.data()), static_cast<std::streamsize>(grey.size()));
  out.close();
  if (!out) throw std::runtime_error(path + ": cannot write PGM");
}

Image fit_image(const Image& image, int64_t height, int64_t width) {
  if (image.height == height && image.width == width) return image;
  const double f = std::min(static_cast<double>(height) / static_cast<double>(image.height),
                            static_cast<double>(width) / static_cast<double>(image.width));
  const int64_t h =
      std::clamp<int64_t>(std::llround(static_cast<double>(image.height) * f), 1, height);
  const int64_t w =
      std::clamp<int64_t>(std::llround(static_cast<double>(image.width) * f), 1, width);
  // Rows first (image.height x w), then columns (h x w).
  const Taps tx = box_taps(image.width, w), ty = box_taps(image.height, h);
  std::vector<double> rows(static_cast<size_t>(image.height * w), 0.0);
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (const auto& [k, wt] : tx.of[x]) rows[y * w + x] += wt * image.at(y, k);
  Image out{height, width, std::vector<float>(static_cast<size_t>(height * width), 0.0f)};
  const int64_t top = (height - h) / 2;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      double v = 0;
      for (const auto& [k, wt] : ty.of[y]) v += wt * rows[k * w + x];
      out.ink[(top + y) * width + x] = static_cast<float>(std::clamp(v, 0.0, 1.0));
    }
  return out;
}

}  // namespace sg
