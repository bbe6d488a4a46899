#include "datasets/tsv.h"

#include <sys/types.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace sg {

void FileFingerprint::add(std::string_view data) {
  for (const unsigned char byte : data) {
    hash ^= byte;
    hash *= 1099511628211ull;  // the 64-bit FNV prime
  }
  bytes += static_cast<int64_t>(data.size());
}

std::string FileFingerprint::describe() const {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::to_string(bytes) + " bytes, FNV-1a " + hex;
}

std::string tsv_where(const std::string& path, int64_t line) {
  return path + ":" + std::to_string(line) + ": ";
}

TsvScanner::TsvScanner(std::string path, bool fingerprint)
    : path_(std::move(path)), fingerprint_(fingerprint) {
  std::error_code ec;
  if (std::filesystem::is_directory(path_, ec))
    throw std::runtime_error(path_ + ": is a directory, expected a TSV file");
  f_ = std::fopen(path_.c_str(), "rb");
  if (!f_) throw std::runtime_error(path_ + ": cannot open (" + std::strerror(errno) + ")");
}

TsvScanner::~TsvScanner() {
  if (f_) std::fclose(f_);
  std::free(buf_);
}

TsvLine TsvScanner::parse(const std::string& path, std::string_view raw, int64_t line_no,
                          int64_t offset) {
  TsvLine out;
  out.line = line_no;
  out.offset = offset;
  out.bytes = static_cast<int64_t>(raw.size());
  std::string_view line = raw;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::string where = tsv_where(path, line_no);
  if (const auto bad = Tokenizer::invalid_utf8_offset(line)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(line[*bad]));
    throw std::runtime_error(where + "invalid UTF-8: byte " + hex + " at file offset " +
                             std::to_string(offset + static_cast<int64_t>(*bad)) + " (column " +
                             std::to_string(*bad + 1) + ")");
  }
  if (line.empty()) throw std::runtime_error(where + "blank line, expected source<TAB>target");
  // A file with old Mac line ends (CR alone) reads as one line holding every pair.
  const std::string cr = line.find('\r') == std::string_view::npos
                             ? ""
                             : " (the line holds a carriage return: line ends must be LF or "
                               "CRLF, not CR alone)";
  const size_t tab = line.find('\t');
  if (tab == std::string_view::npos)
    throw std::runtime_error(where + "no tab, expected source<TAB>target" + cr);
  if (line.find('\t', tab + 1) != std::string_view::npos)
    throw std::runtime_error(where + "more than one tab, expected source<TAB>target" + cr);
  out.src = line.substr(0, tab);
  out.tgt = line.substr(tab + 1);
  return out;
}

bool TsvScanner::next(TsvLine& out) {
  errno = 0;
  const ssize_t n = ::getline(&buf_, &cap_, f_);
  if (n < 0) {
    if (std::ferror(f_))
      throw std::runtime_error(path_ + ": read error (" + std::strerror(errno) + ")");
    if (line_no_ == 0) throw std::runtime_error(path_ + ": empty file, no source<TAB>target pairs");
    return false;
  }
  std::string_view raw(buf_, static_cast<size_t>(n));
  if (fingerprint_) read_.add(raw);
  int64_t start = offset_;
  offset_ += n;
  if (line_no_ == 0 && Tokenizer::starts_with_bom(raw)) {
    raw.remove_prefix(Tokenizer::kUtf8Bom.size());
    start += static_cast<int64_t>(Tokenizer::kUtf8Bom.size());
    if (raw.empty()) throw std::runtime_error(path_ + ": empty file, no source<TAB>target pairs");
  }
  out = parse(path_, raw, ++line_no_, start);
  return true;
}

void check_tsv_side(const std::string& path, int64_t line, const char* side, int64_t tokens,
                    const TsvOptions& opt) {
  if (tokens == 0) throw std::runtime_error(tsv_where(path, line) + "empty " + side);
  if (tokens > opt.max_len)
    throw std::runtime_error(tsv_where(path, line) + side + " has " + std::to_string(tokens) +
                             " tokens, more than " + opt.max_len_name + " " +
                             std::to_string(opt.max_len));
}

std::vector<std::pair<std::string, std::string>> sample_tsv_lines(const std::string& path,
                                                                  int64_t n, uint64_t seed) {
  if (n < 1) throw std::invalid_argument("--spm-sample must be >= 1, got " + std::to_string(n));
  std::vector<std::pair<std::string, std::string>> kept;
  Generator g(seed);
  TsvScanner scan(path);
  TsvLine l;
  for (int64_t seen = 0; scan.next(l); ++seen) {
    if (seen < n) {
      kept.emplace_back(l.src, l.tgt);
      continue;
    }
    // Algorithm R: line `seen` replaces a kept one with probability n / (seen + 1).
    const uint64_t k = g.below(static_cast<uint64_t>(seen) + 1);
    if (k < static_cast<uint64_t>(n)) kept[k] = {std::string(l.src), std::string(l.tgt)};
  }
  return kept;
}

std::vector<TsvPair> TsvReader::read(const std::string& path) const {
  const Tokenizer tok(opt_.tokenize);
  std::vector<TsvPair> pairs;
  TsvScanner scan(path);
  TsvLine l;
  while (scan.next(l)) {
    TsvPair p;
    p.line = l.line;
    p.src = tok.tokenize(l.src);
    p.tgt = tok.tokenize(l.tgt);
    check_tsv_side(path, l.line, "source", static_cast<int64_t>(p.src.size()), opt_);
    check_tsv_side(path, l.line, "target", static_cast<int64_t>(p.tgt.size()), opt_);
    pairs.push_back(std::move(p));
  }
  return pairs;
}

std::pair<Vocab, Vocab> TsvReader::vocabularies(const std::string& path, int64_t min_freq,
                                                bool joint) const {
  if (min_freq < 1)
    throw std::invalid_argument("--min-freq must be >= 1, got " + std::to_string(min_freq));
  const Tokenizer tok(opt_.tokenize);
  std::unordered_map<std::string, int64_t> src, tgt;
  auto& tgt_counts = joint ? src : tgt;
  TsvScanner scan(path);
  TsvLine l;
  while (scan.next(l)) {
    const auto s = tok.tokenize(l.src), t = tok.tokenize(l.tgt);
    check_tsv_side(path, l.line, "source", static_cast<int64_t>(s.size()), opt_);
    check_tsv_side(path, l.line, "target", static_cast<int64_t>(t.size()), opt_);
    for (const auto& w : s) ++src[w];
    for (const auto& w : t) ++tgt_counts[w];
  }
  Vocab sv = Vocab::from_counts(src, min_freq);
  Vocab tv = joint ? sv : Vocab::from_counts(tgt, min_freq);
  return {std::move(sv), std::move(tv)};
}

std::vector<Example> TsvReader::encode(const std::vector<TsvPair>& pairs, const Vocab& src,
                                       const Vocab& tgt) {
  std::vector<Example> out;
  out.reserve(pairs.size());
  for (const auto& p : pairs) out.push_back({src.encode(p.src), tgt.encode(p.tgt)});
  return out;
}

TsvCorpus TsvReader::load(const std::string& train_path, const std::string& valid_path,
                          int64_t min_freq, bool joint) const {
  TsvCorpus c;
  std::tie(c.src_vocab, c.tgt_vocab) = vocabularies(train_path, min_freq, joint);
  c.train = encode(read(train_path), c.src_vocab, c.tgt_vocab);
  if (!valid_path.empty()) c.valid = encode(read(valid_path), c.src_vocab, c.tgt_vocab);
  return c;
}

}  // namespace sg
