#include "train/draw/attention_image.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "train/draw/attention_render.h"

namespace sg {

namespace {

constexpr const char* kHeat = "#ff2a00";  // the cross-attention heat over a picture
constexpr double kHeatOpacity = 0.85;     // at a row's largest weight
constexpr double kTitleH = 22, kCaptionH = 18, kPictureGap = 12;

// Screen pixels per image pixel of the pictures in a cross-attention strip (about 200 wide).
double strip_scale(const AttentionResult& r) {
  return std::clamp(std::floor(200.0 / static_cast<double>(r.image.width)), 1.0, 6.0);
}

std::string weight_text(double w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", w);
  return buf;
}

void title(std::ostream& o, const AttentionResult& r, const AttentionMap& m, double x, double y) {
  o << "<text x=\"" << svg_number(x) << "\" y=\"" << svg_number(y + 15) << "\" class=\"ptitle"
    << (m.head == kHeadMean ? " mean" : "") << "\">" << xml_escape(panel_title(m, r.heads))
    << "</text>\n";
}

// The picture's rectangle, filled with the input's pattern.
void picture(std::ostream& o, const AttentionResult& r, const std::string& id_prefix, double x,
             double y, double scale) {
  o << "<rect width=\"" << r.image.width << "\" height=\"" << r.image.height << "\" fill=\"url(#"
    << id_prefix << "input-image)\" transform=\"translate(" << svg_number(x) << "," << svg_number(y)
    << ") scale(" << svg_number(scale) << ")\"/>\n";
}

void outline(std::ostream& o, double x, double y, double w, double h) {
  o << "<rect x=\"" << svg_number(x) << "\" y=\"" << svg_number(y) << "\" width=\"" << svg_number(w)
    << "\" height=\"" << svg_number(h) << "\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n";
}

}  // namespace

void image_defs(std::ostream& o, const AttentionResult& r, const std::string& id_prefix) {
  const Image& im = r.image;
  o << "<defs><pattern id=\"" << id_prefix
    << "input-image\" patternUnits=\"userSpaceOnUse\" width=\"" << im.width << "\" height=\""
    << im.height << "\">\n<rect width=\"" << im.width << "\" height=\"" << im.height
    << "\" fill=\"#ffffff\"/>\n";
  // Dark ink on white, 8-bit grey; runs of one grey in a row are one rectangle.
  auto grey = [&](int64_t y, int64_t x) {
    return static_cast<int>(std::lround(255.0 * (1.0 - std::clamp<double>(im.at(y, x), 0, 1))));
  };
  for (int64_t y = 0; y < im.height; ++y)
    for (int64_t x = 0; x < im.width;) {
      const int g = grey(y, x);
      int64_t end = x + 1;
      while (end < im.width && grey(y, end) == g) ++end;
      if (g < 255) {
        char colour[8];
        std::snprintf(colour, sizeof colour, "#%02x%02x%02x", g, g, g);
        o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << end - x
          << "\" height=\"1\" fill=\"" << colour << "\"/>\n";
      }
      x = end;
    }
  o << "</pattern></defs>\n";
}

Extent input_picture(std::ostream& o, const AttentionResult& r, const std::string& id_prefix,
                     double x, double y, double scale) {
  const double w = scale * static_cast<double>(r.image.width),
               h = scale * static_cast<double>(r.image.height), p = scale * r.patch;
  o << "<g class=\"input-image\">\n";
  picture(o, r, id_prefix, x, y, scale);
  for (int64_t c = 1; c < r.patch_cols; ++c)
    o << "<line x1=\"" << svg_number(x + p * c) << "\" x2=\"" << svg_number(x + p * c) << "\" y1=\""
      << svg_number(y) << "\" y2=\"" << svg_number(y + h)
      << "\" stroke=\"#6fa8dc\" stroke-width=\"0.5\"/>\n";
  for (int64_t k = 1; k < r.patch_rows; ++k)
    o << "<line x1=\"" << svg_number(x) << "\" x2=\"" << svg_number(x + w) << "\" y1=\""
      << svg_number(y + p * k) << "\" y2=\"" << svg_number(y + p * k)
      << "\" stroke=\"#6fa8dc\" stroke-width=\"0.5\"/>\n";
  outline(o, x, y, w, h);
  o << "</g>\n";
  return {w, h};
}

Extent cross_strip(std::ostream& o, const AttentionResult& r, const std::string& id_prefix,
                   const AttentionMap& m, double x, double y) {
  const double s = strip_scale(r), p = s * r.patch;
  const double w = s * static_cast<double>(r.image.width),
               h = s * static_cast<double>(r.image.height);
  o << "<g class=\"panel\" data-kind=\"" << m.kind << "\" data-layer=\"" << m.layer
    << "\" data-head=\"" << (m.head == kHeadMean ? std::string("mean") : std::to_string(m.head))
    << "\">\n";
  title(o, r, m, x, y);
  const double top = y + kTitleH + kCaptionH;
  for (size_t q = 0; q < m.rows.size(); ++q) {
    const double px = x + static_cast<double>(q) * (w + kPictureGap);
    const std::string& next = q < r.next_labels.size() ? r.next_labels[q] : m.rows[q];
    o << "<text class=\"tok\" x=\"" << svg_number(px) << "\" y=\"" << svg_number(top - 5)
      << "\">\xE2\x86\x92 " << xml_escape(next) << "</text>\n";
    picture(o, r, id_prefix, px, top, s);
    const auto& row = m.weights[q];
    const double peak = *std::max_element(row.begin(), row.end());
    for (size_t k = 0; k < row.size(); ++k) {
      const auto pr = static_cast<int64_t>(k) / r.patch_cols,
                 pc = static_cast<int64_t>(k) % r.patch_cols;
      const double opacity = peak > 0 ? kHeatOpacity * row[k] / peak : 0.0;
      char op[16];
      std::snprintf(op, sizeof op, "%.2f", opacity);
      o << "<rect x=\"" << svg_number(px + p * static_cast<double>(pc)) << "\" y=\""
        << svg_number(top + p * static_cast<double>(pr)) << "\" width=\"" << svg_number(p)
        << "\" height=\"" << svg_number(p) << "\" fill=\"" << kHeat << "\" fill-opacity=\"" << op
        << "\"><title>" << xml_escape(m.rows[q]) << " (" << q << ") \xE2\x86\x92 patch "
        << m.cols[k] << ": " << weight_text(row[k]) << "</title></rect>\n";
    }
    outline(o, px, top, w, h);
  }
  o << "</g>\n";
  const double n = static_cast<double>(m.rows.size());
  return {n * w + std::max(0.0, n - 1) * kPictureGap, kTitleH + kCaptionH + h};
}

Extent patch_matrix(std::ostream& o, const AttentionResult& r, const AttentionMap& m, double x,
                    double y) {
  const auto n = static_cast<int64_t>(m.cols.size());
  const double cell = std::clamp(std::floor(420.0 / static_cast<double>(n)), 3.0, 14.0);
  const double label_w = 34, gx = x + label_w, gy = y + kTitleH + 16;
  const double side = cell * static_cast<double>(n), block = cell * r.patch_cols;
  o << "<g class=\"panel\" data-kind=\"" << m.kind << "\" data-layer=\"" << m.layer
    << "\" data-head=\"" << (m.head == kHeadMean ? std::string("mean") : std::to_string(m.head))
    << "\">\n";
  title(o, r, m, x, y);
  for (int64_t k = 0; k < r.patch_rows; ++k) {
    const double at = block * static_cast<double>(k);
    o << "<text class=\"label dim\" x=\"" << svg_number(gx - 4) << "\" y=\""
      << svg_number(gy + at + 11) << "\" text-anchor=\"end\">r" << k << "</text>\n";
    o << "<text class=\"label dim\" x=\"" << svg_number(gx + at + 2) << "\" y=\""
      << svg_number(gy - 4) << "\">r" << k << "</text>\n";
  }
  for (int64_t q = 0; q < n; ++q)
    for (int64_t k = 0; k < n; ++k) {
      const double w = m.weights[q][k];
      o << "<rect x=\"" << svg_number(gx + cell * static_cast<double>(k)) << "\" y=\""
        << svg_number(gy + cell * static_cast<double>(q)) << "\" width=\"" << svg_number(cell)
        << "\" height=\"" << svg_number(cell) << "\" fill=\"" << weight_colour(w)
        << "\"><title>patch " << m.rows[q] << " \xE2\x86\x92 patch " << m.cols[k] << ": "
        << weight_text(w) << "</title></rect>\n";
    }
  for (int64_t k = 1; k < r.patch_rows; ++k) {
    const double at = block * static_cast<double>(k);
    o << "<line x1=\"" << svg_number(gx + at) << "\" x2=\"" << svg_number(gx + at) << "\" y1=\""
      << svg_number(gy) << "\" y2=\"" << svg_number(gy + side)
      << "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n";
    o << "<line x1=\"" << svg_number(gx) << "\" x2=\"" << svg_number(gx + side) << "\" y1=\""
      << svg_number(gy + at) << "\" y2=\"" << svg_number(gy + at)
      << "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n";
  }
  outline(o, gx, gy, side, side);
  o << "</g>\n";
  return {label_w + side, kTitleH + 16 + side};
}

}  // namespace sg
