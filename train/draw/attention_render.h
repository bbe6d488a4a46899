// Renders the attention maps of one input (train/attention_maps.h) as one self-contained SVG,
// or an HTML page holding that SVG inline: no scripts, fonts, images or links to fetch. An image
// model's figure shows its input picture, cross-attention as heat maps over the picture and
// encoder self-attention between patches (attention_image.h).
//   one section per kind (encoder self-attention, decoder self-attention, cross-attention),
//   one line of panels per layer: the mean over heads, then every head (layers that hold only
//   the mean share a line);
//   token labels on both axes (decoder panels also show, on the right, the token each query
//   row predicts), a shared colour scale 0..1 (viridis), causally masked cells in grey, and a
//   tooltip with the exact weight on every cell.
#pragma once

#include <string>
#include <vector>

#include "train/draw/attention_maps.h"

namespace sg {

struct RenderInfo {
  std::string title = "seqgrad attention maps";
  std::vector<std::string> lines;  // shown under the title (checkpoint, input, output, model)
  std::string id_prefix;           // of the ids inside the SVG, unique per SVG on one page
};

std::string render_svg(const AttentionResult& r, const RenderInfo& info);
std::string render_html(const AttentionResult& r, const RenderInfo& info);
// The <svg> element alone, to be placed inside an HTML page (which may hold several).
std::string render_svg_element(const AttentionResult& r, const RenderInfo& info);

// The colour of weight w (clamped to [0, 1]) on the viridis scale, as "#rrggbb".
std::string weight_colour(double w);
// Text with &, <, >, " and ' escaped for XML.
std::string xml_escape(const std::string& s);
// A number with one decimal, as every coordinate of the SVG is written.
std::string svg_number(double v);
// "layer L · head h" or "layer L · mean of H heads".
std::string panel_title(const AttentionMap& m, int64_t heads);

}  // namespace sg
