#include "train/draw/attention_render.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string_view>

#include "datasets/tokenizer.h"
#include "train/draw/attention_image.h"

namespace sg {

namespace {

// Viridis at t = 0, 0.1, ..., 1 (matplotlib), interpolated linearly in between.
constexpr std::array<std::array<int, 3>, 11> kViridis = {{{68, 1, 84},
                                                          {72, 36, 117},
                                                          {65, 68, 135},
                                                          {53, 95, 141},
                                                          {42, 120, 142},
                                                          {33, 145, 140},
                                                          {34, 168, 132},
                                                          {68, 191, 112},
                                                          {122, 209, 81},
                                                          {189, 223, 38},
                                                          {253, 231, 37}}};
constexpr const char* kMaskedColour = "#d9d9d9";
constexpr const char* kFont = "DejaVu Sans Mono, Menlo, Consolas, monospace";
constexpr const char* kTextFont = "DejaVu Sans, Helvetica, Arial, sans-serif";

struct Section {
  const char* kind;
  const char* title;
  const char* what;
  const char* axes;
};

constexpr std::array<Section, 3> kSections = {{
    {"encoder_self", "Encoder self-attention",
     "Each source position attends to every position of the same source sequence.",
     "rows: source token (query) \xC2\xB7 columns: source token (key)"},
    {"decoder_self", "Decoder self-attention (causal)",
     "Each decoder input position attends to itself and the positions before it; later "
     "positions are masked (grey, weight exactly 0).",
     "rows: decoder input (query) \xC2\xB7 columns: decoder input (key) \xC2\xB7 right: the token "
     "each row predicts"},
    {"cross", "Cross-attention (decoder queries, encoder keys and values)",
     "Each decoder input position reads the encoder's output at every source position: where "
     "the model looks in the source while predicting the next token.",
     "rows: decoder input (query) \xC2\xB7 columns: source token (key) \xC2\xB7 right: the token "
     "each row predicts"},
}};

// An image model's encoder reads patches, and its cross-attention is drawn over the picture.
constexpr std::array<Section, 3> kImageSections = {{
    {"encoder_self", "Encoder self-attention between patches",
     "Each patch of the image attends to every patch of the same image.",
     "rows: patch (query) \xC2\xB7 columns: patch (key), both in row-major order, lines between "
     "the patch rows r0, r1, ..."},
    kSections[1],
    {"cross", "Cross-attention: where each output character reads the image",
     "Each decoder input position reads the encoder's output at every patch: the red heat is "
     "that row's weight on each patch, relative to the row's largest.",
     "one picture per decoder row, titled with the character the row predicts \xC2\xB7 hover "
     "a patch for its weight"},
}};

// Code points of a UTF-8 string (its width in a monospace font, near enough).
int64_t text_len(const std::string& s) {
  int64_t n = 0;
  for (unsigned char ch : s)
    if ((ch & 0xC0) != 0x80) ++n;
  return n;
}

int64_t longest(const std::vector<std::string>& v) {
  int64_t n = 0;
  for (const auto& s : v) n = std::max(n, text_len(s));
  return n;
}

// Geometry shared by every panel: cell size, label font, label widths.
struct Layout {
  double cell, font, char_w;
  double gap = 28, title_h = 22, section_head_h = 64, margin = 20;
  int64_t heads;
};

struct PanelSize {
  double left, top, right, width, height;  // label margins and the total panel size
};

// A column label short enough to be written across its column; longer ones run upwards.
bool fits_across(const Layout& L, const std::string& label) {
  return L.char_w * static_cast<double>(text_len(label)) <= L.cell - 2;
}

PanelSize panel_size(const Layout& L, const AttentionMap& m, bool predicts,
                     const std::vector<std::string>& next) {
  PanelSize p;
  p.left = L.char_w * static_cast<double>(longest(m.rows)) + 8;
  double tallest = L.font;
  for (const auto& c : m.cols)
    if (!fits_across(L, c))
      tallest = std::max(tallest, L.char_w * static_cast<double>(text_len(c)));
  p.top = L.title_h + tallest + 8;
  p.right = predicts ? L.char_w * static_cast<double>(longest(next) + 2) + 8 : 0;
  p.width = p.left + L.cell * static_cast<double>(m.cols.size()) + p.right;
  p.height = p.top + L.cell * static_cast<double>(m.rows.size());
  return p;
}

void panel(std::ostringstream& o, const Layout& L, const AttentionMap& m, double x, double y,
           const PanelSize& p, const std::vector<std::string>& next) {
  const bool causal = m.kind == "decoder_self";
  const std::string title = panel_title(m, L.heads);
  o << "<g class=\"panel\" data-kind=\"" << m.kind << "\" data-layer=\"" << m.layer
    << "\" data-head=\"" << (m.head == kHeadMean ? std::string("mean") : std::to_string(m.head))
    << "\">\n";
  o << "<text x=\"" << svg_number(x) << "\" y=\"" << svg_number(y + 15) << "\" class=\"ptitle"
    << (m.head == kHeadMean ? " mean" : "") << "\">" << xml_escape(title) << "</text>\n";
  const double gx = x + p.left, gy = y + p.top;
  const double base = 0.35 * L.font;  // centres a label vertically on its row or column
  for (size_t k = 0; k < m.cols.size(); ++k) {
    const double cx = gx + L.cell * (static_cast<double>(k) + 0.5);
    if (fits_across(L, m.cols[k]))
      o << "<text class=\"tok\" text-anchor=\"middle\" x=\"" << svg_number(cx) << "\" y=\""
        << svg_number(gy - 5) << "\">" << xml_escape(m.cols[k]) << "</text>\n";
    else
      o << "<text class=\"tok\" transform=\"translate(" << svg_number(cx + base) << ","
        << svg_number(gy - 5) << ") rotate(-90)\">" << xml_escape(m.cols[k]) << "</text>\n";
  }
  for (size_t q = 0; q < m.rows.size(); ++q) {
    const double cy = gy + L.cell * (static_cast<double>(q) + 0.5) + base;
    o << "<text class=\"tok\" text-anchor=\"end\" x=\"" << svg_number(gx - 5) << "\" y=\""
      << svg_number(cy) << "\">" << xml_escape(m.rows[q]) << "</text>\n";
    if (p.right > 0)
      o << "<text class=\"tok next\" x=\""
        << svg_number(gx + L.cell * static_cast<double>(m.cols.size()) + 5) << "\" y=\""
        << svg_number(cy) << "\">\xE2\x86\x92 " << xml_escape(next[q]) << "</text>\n";
  }
  for (size_t q = 0; q < m.rows.size(); ++q)
    for (size_t k = 0; k < m.cols.size(); ++k) {
      const bool masked = causal && k > q;
      const double w = m.weights[q][k];
      char value[32];
      std::snprintf(value, sizeof value, "%.4f", w);
      o << "<rect x=\"" << svg_number(gx + L.cell * static_cast<double>(k)) << "\" y=\""
        << svg_number(gy + L.cell * static_cast<double>(q)) << "\" width=\"" << svg_number(L.cell)
        << "\" height=\"" << svg_number(L.cell) << "\" fill=\""
        << (masked ? std::string(kMaskedColour) : weight_colour(w)) << "\"><title>"
        << xml_escape(m.rows[q]) << " (" << q << ") \xE2\x86\x92 " << xml_escape(m.cols[k]) << " ("
        << k << "): " << (masked ? std::string("masked") : std::string(value))
        << "</title></rect>\n";
    }
  o << "<rect x=\"" << svg_number(gx) << "\" y=\"" << svg_number(gy) << "\" width=\""
    << svg_number(L.cell * static_cast<double>(m.cols.size())) << "\" height=\""
    << svg_number(L.cell * static_cast<double>(m.rows.size()))
    << "\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n";
  o << "</g>\n";
}

// A horizontal colour bar 0..1 with ticks, and the grey swatch of masked cells.
void legend(std::ostringstream& o, double x, double y, const std::string& id_prefix) {
  const double w = 240, h = 14;
  o << "<g class=\"legend\">\n<defs><linearGradient id=\"" << id_prefix
    << "viridis\" x1=\"0\" x2=\"1\" y1=\"0\" "
       "y2=\"0\">\n";
  for (size_t i = 0; i < kViridis.size(); ++i)
    o << "<stop offset=\"" << svg_number(static_cast<double>(i) * 10) << "%\" stop-color=\""
      << weight_colour(static_cast<double>(i) / 10.0) << "\"/>\n";
  o << "</linearGradient></defs>\n";
  o << "<text x=\"" << svg_number(x) << "\" y=\"" << svg_number(y + 12)
    << "\" class=\"label\">attention weight</text>\n";
  const double by = y + 20;
  o << "<rect x=\"" << svg_number(x) << "\" y=\"" << svg_number(by) << "\" width=\""
    << svg_number(w) << "\" height=\"" << svg_number(h) << "\" fill=\"url(#" << id_prefix
    << "viridis)\" stroke=\"#444\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double tx = x + w * i / 4.0;
    o << "<line x1=\"" << svg_number(tx) << "\" x2=\"" << svg_number(tx) << "\" y1=\""
      << svg_number(by + h) << "\" y2=\"" << svg_number(by + h + 4) << "\" stroke=\"#444\"/>\n";
    char t[16];
    std::snprintf(t, sizeof t, "%g", i / 4.0);
    o << "<text x=\"" << svg_number(tx) << "\" y=\"" << svg_number(by + h + 16)
      << "\" class=\"label\" text-anchor=\"middle\">" << t << "</text>\n";
  }
  const double mx = x + w + 30;
  o << "<rect x=\"" << svg_number(mx) << "\" y=\"" << svg_number(by) << "\" width=\""
    << svg_number(h) << "\" height=\"" << svg_number(h) << "\" fill=\"" << kMaskedColour
    << "\" stroke=\"#444\"/>\n";
  o << "<text x=\"" << svg_number(mx + h + 6) << "\" y=\"" << svg_number(by + h - 2)
    << "\" class=\"label\">masked (a later position)</text>\n</g>\n";
}

std::string render(const AttentionResult& r, const RenderInfo& info, bool standalone) {
  // The cell size of the labelled panels (an image model's: the decoder's only).
  int64_t n = 1;
  for (const auto& m : r.maps)
    if (!r.is_image() || m.kind == "decoder_self")
      n = std::max<int64_t>(n, std::max(m.rows.size(), m.cols.size()));
  Layout L;
  L.cell = std::clamp(std::round(360.0 / static_cast<double>(n)), 18.0, 28.0);
  L.font = std::clamp(std::round(L.cell * 0.62), 12.0, 15.0);
  L.char_w = 0.62 * L.font;
  L.heads = r.heads;

  std::ostringstream body;
  double y = L.margin;
  body << "<text x=\"" << svg_number(L.margin) << "\" y=\"" << svg_number(y + 20)
       << "\" class=\"title\">" << xml_escape(info.title) << "</text>\n";
  y += 30;
  double width = 0;
  for (const auto& line : info.lines) {
    y += 18;
    body << "<text x=\"" << svg_number(L.margin) << "\" y=\"" << svg_number(y)
         << "\" class=\"label\">" << xml_escape(line) << "</text>\n";
    width = std::max(width, 2 * L.margin + 7.6 * static_cast<double>(text_len(line)));
  }
  y += 14;
  legend(body, L.margin, y, info.id_prefix);
  y += 60;
  width = std::max(width, 2 * L.margin + 480);
  if (r.is_image()) {
    image_defs(body, r, info.id_prefix);
    body << "<text x=\"" << svg_number(L.margin) << "\" y=\"" << svg_number(y + 14)
         << "\" class=\"label\">input: " << r.image.width << " x " << r.image.height
         << " pixels read as " << r.patch_rows << " x " << r.patch_cols << " patches of " << r.patch
         << " x " << r.patch << " (grid in blue)</text>\n";
    const double scale =
        std::clamp(std::floor(480.0 / static_cast<double>(r.image.width)), 1.0, 8.0);
    const Extent e = input_picture(body, r, info.id_prefix, L.margin, y + 24, scale);
    width = std::max(width, 2 * L.margin + e.width);
    y += 24 + e.height + 20;
  }
  // Draws one map at (x, y) and returns its size.
  auto draw = [&](const AttentionMap& m, double x, double at_y) -> Extent {
    if (r.is_image() && m.kind == "cross") return cross_strip(body, r, info.id_prefix, m, x, at_y);
    if (r.is_image() && m.kind == "encoder_self") return patch_matrix(body, r, m, x, at_y);
    const PanelSize p = panel_size(L, m, m.kind != "encoder_self", r.next_labels);
    panel(body, L, m, x, at_y, p, r.next_labels);
    return {p.width, p.height};
  };

  for (const Section& s : r.is_image() ? kImageSections : kSections) {
    const int64_t layers = std::string(s.kind) == "encoder_self" ? r.enc_layers : r.dec_layers;
    if (layers == 0) continue;
    y += 10;
    body << "<text x=\"" << svg_number(L.margin) << "\" y=\"" << svg_number(y + 18)
         << "\" class=\"section\">" << xml_escape(s.title) << "</text>\n";
    body << "<text x=\"" << svg_number(L.margin) << "\" y=\"" << svg_number(y + 38)
         << "\" class=\"label\">" << xml_escape(s.what) << "</text>\n";
    body << "<text x=\"" << svg_number(L.margin) << "\" y=\"" << svg_number(y + 56)
         << "\" class=\"label dim\">" << xml_escape(s.axes) << "</text>\n";
    width = std::max(width, 2 * L.margin + 7.6 * static_cast<double>(text_len(s.what)));
    y += L.section_head_h + 8;
    // One line of panels per layer; layers with a single panel (--mean-only) share a line. An
    // image model's cross-attention strips take a line each.
    const bool own_line = r.is_image() && std::string(s.kind) == "cross";
    double x = L.margin, row_h = 0;
    for (int64_t l = 0; l < layers; ++l) {
      const auto maps = r.select(s.kind, l);
      const bool new_line = maps.size() > 1 || own_line;
      if (new_line && x > L.margin) {
        y += row_h + 24;
        x = L.margin;
        row_h = 0;
      }
      for (const AttentionMap* m : maps) {
        if (own_line && x > L.margin) {
          y += row_h + 16;
          x = L.margin;
          row_h = 0;
        }
        const Extent e = draw(*m, x, y);
        x += e.width + L.gap;
        row_h = std::max(row_h, e.height);
        width = std::max(width, x - L.gap + L.margin);
      }
      width = std::max(width, x - L.gap + L.margin);
      if (new_line) {
        y += row_h + 24;
        x = L.margin;
        row_h = 0;
      }
    }
    if (x > L.margin) y += row_h + 24;
  }
  const double height = y + L.margin;

  std::ostringstream o;
  o << "<svg " << (standalone ? "xmlns=\"http://www.w3.org/2000/svg\" " : "") << "width=\""
    << svg_number(std::ceil(width)) << "\" height=\"" << svg_number(std::ceil(height))
    << "\" viewBox=\"0 0 " << svg_number(std::ceil(width)) << " " << svg_number(std::ceil(height))
    << "\">\n";
  o << "<style>\n"
    << "text { fill: #222; }\n"
    << ".title { font: bold 20px " << kTextFont << "; }\n"
    << ".section { font: bold 16px " << kTextFont << "; }\n"
    << ".label { font: 13px " << kTextFont << "; }\n"
    << ".dim { fill: #666; }\n"
    << ".ptitle { font: 13px " << kTextFont << "; }\n"
    << ".ptitle.mean { font-weight: bold; }\n"
    << ".tok { font: " << svg_number(L.font) << "px " << kFont << "; }\n"
    << ".next { fill: #555; }\n"
    << "rect { shape-rendering: crispEdges; }\n"
    << "</style>\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  o << body.str() << "</svg>\n";
  return o.str();
}

}  // namespace

std::string svg_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string panel_title(const AttentionMap& m, int64_t heads) {
  return "layer " + std::to_string(m.layer) +
         (m.head == kHeadMean ? " \xC2\xB7 mean of " + std::to_string(heads) + " heads"
                              : " \xC2\xB7 head " + std::to_string(m.head));
}

std::string weight_colour(double w) {
  const double t = std::clamp(std::isfinite(w) ? w : 0.0, 0.0, 1.0) * 10.0;
  const size_t i = std::min<size_t>(static_cast<size_t>(t), kViridis.size() - 2);
  const double f = t - static_cast<double>(i);
  char buf[8];
  int c[3];
  for (int k = 0; k < 3; ++k)
    c[k] =
        static_cast<int>(std::lround(kViridis[i][k] + f * (kViridis[i + 1][k] - kViridis[i][k])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

std::string xml_escape(const std::string& s_in) {
  // Bytes that are not UTF-8 and control characters are not allowed in XML: U+FFFD instead.
  const std::string bad = "\xEF\xBF\xBD";
  std::string s;
  std::string_view rest = s_in;
  while (auto off = Tokenizer::invalid_utf8_offset(rest)) {
    s.append(rest.substr(0, *off)).append(bad);
    rest.remove_prefix(*off + 1);
  }
  s.append(rest);
  std::string out;
  out.reserve(s.size());
  for (char ch : s) switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += static_cast<unsigned char>(ch) < 0x20 ? bad : std::string(1, ch);
    }
  return out;
}

std::string render_svg(const AttentionResult& r, const RenderInfo& info) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render(r, info, true);
}

std::string render_svg_element(const AttentionResult& r, const RenderInfo& info) {
  return render(r, info, false);
}

std::string render_html(const AttentionResult& r, const RenderInfo& info) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
    << xml_escape(info.title) << "</title>\n"
    << "<style>body { margin: 0; background: #ffffff; } svg { display: block; }</style>\n"
    << "</head>\n<body>\n"
    << render(r, info, false) << "</body>\n</html>\n";
  return o.str();
}

}  // namespace sg
