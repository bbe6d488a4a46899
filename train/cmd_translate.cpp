// seqgrad translate --checkpoint P [--input TEXT]: decodes each source line (stdin, or --input),
// writing one output line per input line.
#include <iostream>

#include "train/data_source.h"
#include "train/decode.h"
#include "train/inference.h"
#include "train/options.h"

namespace sg::cli {

namespace {

// `where(i)` names line i in errors ("--input", "stdin line 7").
template <class Where>
void translate_lines(const LoadedModel& m, const std::vector<std::string>& lines,
                     const DecodeOptions& opt, bool json, Where where) {
  // A source longer than the positional table is refused rather than cut: a cut source would
  // be translated without a word of warning in the output.
  const int64_t most = m.model->config().max_len - 1;
  std::vector<std::vector<int64_t>> srcs;
  int64_t longest = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    srcs.push_back(encode_source(lines[i], m.src_vocab, m.mode));
    if (static_cast<int64_t>(srcs.back().size()) > most)
      throw RunError(where(i) + ": " + std::to_string(srcs.back().size()) +
                     " tokens, more than the " + std::to_string(most) + " this model takes");
    srcs.back().push_back(kEos);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(srcs.back().size()));
  }
  IntTensor src = IntTensor::zeros({static_cast<int64_t>(srcs.size()), longest});
  for (size_t b = 0; b < srcs.size(); ++b)
    std::copy(srcs[b].begin(), srcs[b].end(), src.data.begin() + b * longest);
  DecodeOptions d = opt;
  if (d.max_len <= 0) d.max_len = 2 * longest + 10;
  const auto outs = decode(*m.model, src, d);
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string text = decode_target(outs[i], m.tgt_vocab, m.mode);
    if (json)
      std::cout << nlohmann::json{{"source", lines[i]}, {"translation", text}}.dump() << '\n';
    else
      std::cout << text << '\n';
  }
  std::cout.flush();
}

}  // namespace

int cmd_translate(const std::vector<std::string>& args) {
  Config c;
  po::options_description groups("translate options");
  groups.add_options()("checkpoint", po::value(&c.checkpoint), "checkpoint to translate with")(
      "input", po::value(&c.input), "one source text (default: lines from stdin)")(
      "beam", po::value(&c.beam)->default_value(1), "beam size (1: greedy)")(
      "decode-max-len", po::value(&c.decode_max_len)->default_value(0),
      "most generated tokens (0: twice the source length + 10)")(
      "batch", po::value(&c.batch)->default_value(64), "lines decoded together")(
      "json", po::bool_switch(&c.json), "print one JSON object per line");
  po::variables_map vm;
  if (!parse_config("translate", args, groups, c, vm)) return 0;
  if (c.checkpoint.empty()) throw UsageError("--checkpoint: required");
  const LoadedModel m = load_for_inference(c.checkpoint);
  DecodeOptions d;
  d.beam = c.beam;
  d.max_len = c.decode_max_len;
  if (vm.count("input")) {
    translate_lines(m, {c.input}, d, c.json, [](size_t) { return std::string("--input"); });
    return 0;
  }
  std::vector<std::string> lines;
  std::string line;
  int64_t first = 1;  // line number of lines[0]
  const auto where = [&](size_t i) { return "stdin line " + std::to_string(first + i); };
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    if (static_cast<int64_t>(lines.size()) == c.batch) {
      translate_lines(m, lines, d, c.json, where);
      first += c.batch;
      lines.clear();
    }
  }
  if (!lines.empty()) translate_lines(m, lines, d, c.json, where);
  return 0;
}

}  // namespace sg::cli
