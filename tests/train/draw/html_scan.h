// The start tags of an HTML or SVG text, read just well enough for the pages the report writes
// and the DOM that Chromium serializes (--dump-dom): `<name attr="value" ...>`, each value in
// double or single quotes. Used to count a chart's lines and their points.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sg::testing {

struct StartTag {
  std::map<std::string, std::string> attrs;
  size_t at = 0;  // offset of its '<'
};

// Every `<name ...>` in `text`, in order.
inline std::vector<StartTag> start_tags(const std::string& text, const std::string& name) {
  std::vector<StartTag> tags;
  const auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  for (size_t at = text.find('<' + name); at != std::string::npos;
       at = text.find('<' + name, at + 1)) {
    size_t i = at + 1 + name.size();
    if (i >= text.size() || !(blank(text[i]) || text[i] == '>' || text[i] == '/')) continue;
    StartTag tag;
    tag.at = at;
    while (i < text.size() && text[i] != '>') {
      if (blank(text[i]) || text[i] == '/') {
        ++i;
        continue;
      }
      const size_t n0 = i;
      while (i < text.size() && !blank(text[i]) && text[i] != '=' && text[i] != '>') ++i;
      std::string key = text.substr(n0, i - n0), value;
      if (i < text.size() && text[i] == '=' && i + 1 < text.size()) {
        const char quote = text[i + 1];
        const size_t end = text.find(quote, i + 2);
        if (end == std::string::npos) break;
        value = text.substr(i + 2, end - i - 2);
        i = end + 1;
      }
      tag.attrs[key] = value;
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

// The "x,y" pairs of an SVG points list ("1,2 3,4" -> {{1,2},{3,4}}).
inline std::vector<std::pair<double, double>> svg_points(const std::string& points) {
  std::vector<std::pair<double, double>> out;
  size_t i = 0;
  while (i < points.size()) {
    while (i < points.size() && points[i] == ' ') ++i;
    if (i >= points.size()) break;
    size_t used = 0;
    const double x = std::stod(points.substr(i), &used);
    i += used + 1;  // the comma
    const double y = std::stod(points.substr(i), &used);
    i += used;
    out.emplace_back(x, y);
  }
  return out;
}

}  // namespace sg::testing
