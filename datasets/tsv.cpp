#include "datasets/tsv.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sg {

static std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error(path + ": is a directory, expected a TSV file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": read error (" + std::strerror(errno) + ")");
  return ss.str();
}

std::vector<TsvPair> TsvReader::read(const std::string& path) const {
  std::string bytes = read_file_bytes(path);
  size_t pos = 0;
  if (bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // byte-order mark
  if (pos == bytes.size())
    throw std::runtime_error(path + ": empty file, no source<TAB>target pairs");
  const Tokenizer tok(opt_.tokenize);
  std::vector<TsvPair> pairs;
  int64_t line_no = 0;
  while (pos < bytes.size()) {
    ++line_no;
    const size_t nl = bytes.find('\n', pos);
    const size_t end = nl == std::string::npos ? bytes.size() : nl;
    std::string_view line(bytes.data() + pos, end - pos);
    const size_t line_start = pos;
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (const auto bad = Tokenizer::invalid_utf8_offset(line)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(line[*bad]));
      throw std::runtime_error(where + "invalid UTF-8: byte " + hex + " at file offset " +
                               std::to_string(line_start + *bad) + " (column " +
                               std::to_string(*bad + 1) + ")");
    }
    if (line.empty()) throw std::runtime_error(where + "blank line, expected source<TAB>target");
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos)
      throw std::runtime_error(where + "no tab, expected source<TAB>target");
    if (line.find('\t', tab + 1) != std::string_view::npos)
      throw std::runtime_error(where + "more than one tab, expected source<TAB>target");
    TsvPair p;
    p.line = line_no;
    p.src = tok.tokenize(line.substr(0, tab));
    p.tgt = tok.tokenize(line.substr(tab + 1));
    const auto check_side = [&](const char* side, const std::vector<std::string>& toks) {
      if (toks.empty()) throw std::runtime_error(where + "empty " + side);
      if (static_cast<int64_t>(toks.size()) > opt_.max_len)
        throw std::runtime_error(where + side + " has " + std::to_string(toks.size()) +
                                 " tokens, more than " + opt_.max_len_name + " " +
                                 std::to_string(opt_.max_len));
    };
    check_side("source", p.src);
    check_side("target", p.tgt);
    pairs.push_back(std::move(p));
  }
  return pairs;
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
  const auto train = read(train_path);
  std::vector<std::vector<std::string>> srcs, tgts;
  for (const auto& p : train) {
    srcs.push_back(p.src);
    tgts.push_back(p.tgt);
  }
  TsvCorpus c;
  if (joint) {
    std::vector<std::vector<std::string>> both = srcs;
    both.insert(both.end(), tgts.begin(), tgts.end());
    c.src_vocab = c.tgt_vocab = Vocab::build(both, min_freq);
  } else {
    c.src_vocab = Vocab::build(srcs, min_freq);
    c.tgt_vocab = Vocab::build(tgts, min_freq);
  }
  c.train = encode(train, c.src_vocab, c.tgt_vocab);
  if (!valid_path.empty()) c.valid = encode(read(valid_path), c.src_vocab, c.tgt_vocab);
  return c;
}

}  // namespace sg
