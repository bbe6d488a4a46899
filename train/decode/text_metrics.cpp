#include "train/decode/text_metrics.h"

#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace sg {

namespace {

// The code point that starts at s[i] and its length in bytes. A byte that does not start a
// well-formed sequence is a unit of its own (and never whitespace).
std::pair<char32_t, size_t> code_point_at(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return {c, 1};
  const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return {0xFFFFFFFF, 1};
  char32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {0xFFFFFFFF, 1};
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  return {cp, n};
}

// Python's str.isspace().
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Python's str.split(): the runs of non-whitespace.
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t start = std::string_view::npos;
  for (size_t i = 0; i < s.size();) {
    const auto [cp, len] = code_point_at(s, i);
    if (is_space(cp)) {
      if (start != std::string_view::npos) words.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += len;
  }
  if (start != std::string_view::npos) words.push_back(s.substr(start));
  return words;
}

// Python's str.rstrip().
std::string_view rstrip(std::string_view s) {
  size_t end = 0;
  for (size_t i = 0; i < s.size();) {
    const auto [cp, len] = code_point_at(s, i);
    i += len;
    if (!is_space(cp)) end = i;
  }
  return s.substr(0, end);
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size())
    out.append(s, pos, hit - pos).append(to);
  s = out.append(s, pos, std::string::npos);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// re.sub of a two-character pattern (first, second) over s, left to right without overlaps,
// each match written as "\1 \2 " (or " \1 \2" with lead_space). Bytewise, which gives Python's
// result on code points: the patterns' own characters are ASCII, and "not a digit" holds for
// every byte of a multibyte character.
template <class First, class Second>
std::string sub_pairs(std::string_view s, First first, Second second, bool lead_space) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      if (lead_space) out += ' ';
      out += s[i];
      out += ' ';
      out += s[i + 1];
      if (!lead_space) out += ' ';
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// The n-grams of a line's code points with whitespace removed (chrF's characters).
struct CharNgrams {
  std::string text;            // the line without whitespace
  std::vector<size_t> starts;  // byte offset of each code point, plus text.size()

  explicit CharNgrams(std::string_view line) {
    for (size_t i = 0; i < line.size();) {
      const auto [cp, len] = code_point_at(line, i);
      if (!is_space(cp)) {
        starts.push_back(text.size());
        text.append(line.substr(i, len));
      }
      i += len;
    }
    starts.push_back(text.size());
  }
  std::unordered_map<std::string_view, int64_t> counts(int n) const {
    std::unordered_map<std::string_view, int64_t> c;
    const size_t chars = starts.size() - 1;
    for (size_t i = 0; i + static_cast<size_t>(n) <= chars; ++i)
      ++c[std::string_view(text).substr(starts[i], starts[i + n] - starts[i])];
    return c;
  }
};

void check_sizes(size_t hyps, size_t refs, const char* what) {
  if (hyps != refs)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(hyps) +
                                " hypotheses but " + std::to_string(refs) + " references");
}

}  // namespace

std::string tokenize_13a(std::string_view in) {
  std::string line(in);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  // ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 " on " line ".
  const auto punct = [](char c) {
    return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
           (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
  };
  std::string spaced;
  for (const char c : " " + line + " ") {
    if (punct(c)) {
      spaced += ' ';
      spaced += c;
      spaced += ' ';
    } else {
      spaced += c;
    }
  }
  const auto period_comma = [](char c) { return c == '.' || c == ','; };
  const auto not_digit = [](char c) { return !is_digit(c); };
  std::string s = sub_pairs(spaced, not_digit, period_comma, false);  // ([^0-9])([\.,])
  s = sub_pairs(s, period_comma, not_digit, true);                    // ([\.,])([^0-9])
  s = sub_pairs(
      s, is_digit, [](char c) { return c == '-'; }, false);  // ([0-9])(-)
  std::string out;
  for (const std::string_view w : split_words(s)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

BleuScore sacrebleu_bleu(const std::vector<std::string>& hyps,
                         const std::vector<std::string>& refs) {
  check_sizes(hyps.size(), refs.size(), "BLEU");
  std::unordered_map<std::string, int64_t> ids;
  const auto words = [&](const std::string& line) {
    std::vector<int64_t> out;
    const std::string tokens = tokenize_13a(rstrip(line));  // outlives the views into it
    for (const std::string_view w : split_words(tokens)) {
      const auto id = static_cast<int64_t>(ids.size());
      out.push_back(ids.emplace(std::string(w), id).first->second);
    }
    return out;
  };
  BleuStats s;
  for (size_t i = 0; i < hyps.size(); ++i) {
    const std::vector<int64_t> ref = words(refs[i]);
    add_bleu_segment(s, words(hyps[i]), {&ref});
  }
  return bleu_from_stats(s);
}

double chrf_from_stats(const ChrfStats& s) {
  constexpr double factor = 2.0 * 2.0;  // beta^2
  double avg_prec = 0, avg_rec = 0;
  int effective_order = 0;
  for (int n = 0; n < kChrfOrder; ++n) {
    if (s.hyp[n] > 0 && s.ref[n] > 0) {
      avg_prec += static_cast<double>(s.match[n]) / static_cast<double>(s.hyp[n]);
      avg_rec += static_cast<double>(s.match[n]) / static_cast<double>(s.ref[n]);
      ++effective_order;
    }
  }
  if (effective_order == 0) return 0.0;
  avg_prec /= effective_order;
  avg_rec /= effective_order;
  if (avg_prec + avg_rec == 0) return 0.0;
  double score = (1 + factor) * avg_prec * avg_rec;
  score /= (factor * avg_prec) + avg_rec;
  return 100 * score;
}

ChrfScore sacrebleu_chrf(const std::vector<std::string>& hyps,
                         const std::vector<std::string>& refs) {
  check_sizes(hyps.size(), refs.size(), "chrF");
  ChrfScore out;
  ChrfStats& s = out.stats;
  for (size_t i = 0; i < hyps.size(); ++i) {
    const CharNgrams h(hyps[i]), r(refs[i]);
    for (int n = 1; n <= kChrfOrder; ++n) {
      const auto hc = h.counts(n), rc = r.counts(n);
      int64_t hyp_count = 0, match = 0, ref_count = 0;
      for (const auto& [g, c] : hc) {
        hyp_count += c;
        const auto it = rc.find(g);
        if (it != rc.end()) match += std::min(c, it->second);
      }
      for (const auto& [g, c] : rc) ref_count += c;
      s.hyp[n - 1] += rc.empty() ? 0 : hyp_count;  // no reference n-gram: no hits counted
      s.ref[n - 1] += ref_count;
      s.match[n - 1] += match;
    }
  }
  out.score = chrf_from_stats(s);
  return out;
}

}  // namespace sg
