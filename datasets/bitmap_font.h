// The bitmap font the glyphs task renders (datasets/glyphs.h): digits 0-9 and capital letters
// A-Z, each 5 columns by 7 rows, in the style of the classic 5x7 dot-matrix character sets
// (0 carries a diagonal stroke so that it differs from O).
#pragma once

#include <array>
#include <string_view>

namespace sg {

struct Glyph {
  static constexpr int kCols = 5, kRows = 7;
  char ch;
  std::array<std::string_view, kRows> rows;  // kCols characters each: '#' ink, '.' background
  bool on(int row, int col) const { return rows[row][col] == '#'; }
};

// The characters of the font in alphabet order: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".
std::string_view font_alphabet();
// The glyph of a character of font_alphabet(); throws std::out_of_range for any other.
const Glyph& glyph_of(char ch);

}  // namespace sg
