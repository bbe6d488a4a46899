// The parts of an image model's attention figure (attention_render.h lays them out):
//   the input picture, defined once as an SVG pattern of its pixels (dark ink on white) and
//   drawn as often as needed at any scale, with no link to anything outside the file;
//   cross-attention as a strip of pictures, one per decoder row, each with a heat map over its
//   patches (red, opacity in proportion to the row's weight on the patch over the row's largest
//   weight) and the character the row predicts above it;
//   encoder self-attention as a patches x patches matrix with small cells, patch rows separated
//   by lines and labelled r0, r1, ... on both axes.
// Every cell and patch carries a tooltip with its exact weight.
#pragma once

#include <ostream>
#include <string>

#include "train/draw/attention_maps.h"

namespace sg {

struct Extent {
  double width = 0, height = 0;
};

// <defs> with the pattern of the input image (id id_prefix + "input-image", one unit per pixel;
// the prefix keeps the figures of one HTML page apart).
void image_defs(std::ostream& o, const AttentionResult& r, const std::string& id_prefix);
// The input at `scale` screen pixels per image pixel, with the patch grid drawn over it.
Extent input_picture(std::ostream& o, const AttentionResult& r, const std::string& id_prefix,
                     double x, double y, double scale);
// One map's cross-attention: a picture per query row.
Extent cross_strip(std::ostream& o, const AttentionResult& r, const std::string& id_prefix,
                   const AttentionMap& m, double x, double y);
// One map's encoder self-attention over the patches.
Extent patch_matrix(std::ostream& o, const AttentionResult& r, const AttentionMap& m, double x,
                    double y);

}  // namespace sg
