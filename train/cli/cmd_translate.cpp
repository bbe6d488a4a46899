// seqgrad translate --checkpoint P [--input TEXT]: decodes each source line (stdin, or --input),
// writing one output line per input line (an empty line gives an output line too). Outputs that
// decoding stopped at the length limit are counted in one warning on stderr at the end (and
// marked cut_at_max_len in --json). Translating a file (stdin and stdout not a terminal) shows a
// progress bar on stderr when that is one. With an image model (--task glyphs), the sources are
// image files: --image FILE, or one path per stdin line.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "autograd/parallel.h"
#include "datasets/tokenizer.h"
#include "progress/progress.h"
#include "train/cli/shared_options.h"
#include "train/decode/decode.h"
#include "train/decode/inference.h"

namespace sg::cli {

namespace {

struct SourceLine {
  std::string text;
  std::string where;  // "stdin:N" or "--input", for errors
};

// Token ids of one source line plus <eos>. Invalid UTF-8 and lines too long for the model's
// positional table are errors naming the line (a usage error for --input, else a run-time one).
std::vector<int64_t> encode_line(const LoadedModel& m, const SourceLine& line) {
  auto fail = [&](const std::string& why) -> std::vector<int64_t> {
    if (line.where == "--input") throw UsageError(line.where + ": " + why);
    throw RunError(line.where + ": " + why);
  };
  if (const auto bad = Tokenizer::invalid_utf8_offset(line.text))
    return fail("invalid UTF-8 at byte " + std::to_string(*bad + 1));
  std::vector<int64_t> ids = m.src_codec.encode(line.text);
  const int64_t limit = m.model->config().max_len - 1;
  if (static_cast<int64_t>(ids.size()) > limit)
    return fail(std::to_string(ids.size()) + " tokens, more than the model's limit of " +
                std::to_string(limit));
  ids.push_back(kEos);
  return ids;
}

// The image file a line names, fitted to the model's input; a file that cannot be read is a
// run-time error naming the line (or --image) and the file.
Image read_line_image(const LoadedModel& m, const SourceLine& line) {
  try {
    return load_model_image(m.model->config(), line.text);
  } catch (const std::runtime_error& e) {
    throw RunError(line.where + ": " + e.what());
  }
}

// The encoder input of the lines: their token ids padded, or their images.
Source source_of_lines(const LoadedModel& m, const std::vector<SourceLine>& lines) {
  if (m.model->config().reads_images()) {
    std::vector<Image> images;
    for (const auto& l : lines) images.push_back(read_line_image(m, l));
    return image_source(images);
  }
  std::vector<std::vector<int64_t>> srcs;
  int64_t longest = 0;
  for (const auto& l : lines) {
    srcs.push_back(encode_line(m, l));
    longest = std::max<int64_t>(longest, static_cast<int64_t>(srcs.back().size()));
  }
  IntTensor src = IntTensor::zeros({static_cast<int64_t>(srcs.size()), longest});
  for (size_t b = 0; b < srcs.size(); ++b)
    std::copy(srcs[b].begin(), srcs[b].end(), src.data.begin() + b * longest);
  return src;
}

// Decodes and prints one batch of lines; `cuts` gets a row per line. With n-best (`nbest`), each
// line's best hypotheses with their scores: "line<TAB>translation<TAB>score" lines (line counts
// from 0), or a list "nbest" in its JSON object.
void translate_lines(const std::vector<LoadedModel>& ensemble, const std::vector<SourceLine>& lines,
                     DecodeOptions opt, bool json, bool nbest, DecodeCuts& cuts) {
  const LoadedModel& m = ensemble.front();
  const Source src = source_of_lines(m, lines);
  const size_t first = cuts.cut.size();
  opt.first_row = static_cast<int64_t>(first);  // sampling: each line its own generator
  std::vector<std::vector<Hypothesis>> hyps;
  if (nbest) {
    hyps = beam_search(models_of(ensemble), src, opt, &cuts);
  } else {
    for (auto& ids : decode(models_of(ensemble), src, opt, &cuts))
      hyps.push_back({Hypothesis{std::move(ids), 0.0, false}});
  }
  for (size_t i = 0; i < hyps.size(); ++i) {
    const std::string text = hyps[i].empty() ? "" : m.tgt_codec.decode(hyps[i][0].ids);
    const bool cut = cuts.cut[first + i];
    if (json) {
      nlohmann::json j{{"source", lines[i].text}, {"translation", text}, {"cut_at_max_len", cut}};
      if (nbest) {
        j["nbest"] = nlohmann::json::array();
        for (const auto& h : hyps[i])
          j["nbest"].push_back({{"translation", m.tgt_codec.decode(h.ids)}, {"score", h.score}});
      }
      std::cout << j.dump() << '\n';
    } else if (nbest) {
      for (const auto& h : hyps[i])
        std::cout << first + i << '\t' << m.tgt_codec.decode(h.ids) << '\t' << h.score << '\n';
    } else {
      std::cout << text << '\n';
    }
  }
  std::cout.flush();
}

// The lines stdin holds from its position on when it is a file (read with pread, which leaves
// the position as it is), or 0 when they cannot be known (a pipe, a terminal).
int64_t lines_left_in_stdin() {
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  off_t at = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
  if (at < 0) return 0;
  std::vector<char> buf(1 << 16);
  int64_t lines = 0;
  bool open_line = false;
  for (ssize_t n; (n = ::pread(STDIN_FILENO, buf.data(), buf.size(), at)) > 0; at += n) {
    lines += std::count(buf.begin(), buf.begin() + n, '\n');
    open_line = buf[n - 1] != '\n';
  }
  return lines + open_line;
}

// A bar while translating a file; nothing when the output or the input is the terminal (the bar
// would mix with them) or with --json.
Progress translate_progress(bool json) {
  ProgressOptions o = ProgressOptions::automatic(json);
  if (o.style == ProgressStyle::bar && (::isatty(STDOUT_FILENO) || ::isatty(STDIN_FILENO)))
    o.style = ProgressStyle::quiet;
  return Progress("translate", o.style == ProgressStyle::quiet ? 0 : lines_left_in_stdin(), "lines",
                  o);
}

}  // namespace

int cmd_translate(const std::vector<std::string>& args) {
  Config c;
  std::vector<std::string> checkpoints;
  po::options_description groups("translate options");
  groups.add_options()("input", po::value(&c.input), "one source text (default: lines from stdin)")(
      "image", po::value(&c.image),
      "one image file, PNG or PGM, for an image model (default: one path per stdin line)")(
      "batch", po::value(&c.batch)->default_value(64),
      "lines decoded together (with --beam N > 1 and no --batch: 256)")(
      "json", po::bool_switch(&c.json), "print one JSON object per line");
  groups.add(shared_train_options(c));
  groups.add(decoding_options(c, checkpoints, true));
  po::variables_map vm;
  if (!parse_config("translate", args, groups, c, vm)) return 0;
  if (checkpoints.empty()) throw UsageError("--checkpoint: required");
  use_threads(c.threads);
  const std::vector<LoadedModel> ensemble = load_ensemble(checkpoints, c.use_ema);
  for (size_t i = 0; i < ensemble.size(); ++i)
    check_against_run(c, vm, ensemble[i].contents.config, checkpoints[i]);
  const DecodeOptions d = decoding_of(c, ensemble.front().train_lengths);
  const bool nbest = !vm["n-best"].defaulted();
  // Beam search keeps N rows per line and drops finished lines: more lines per batch keep its
  // products large (split over the threads) for longer and halve the batches' fixed costs.
  if (vm["batch"].defaulted() && d.beam > 1) c.batch = 256;
  DecodeCuts cuts;
  const bool images = ensemble.front().model->config().reads_images();
  if (vm.count("input") && vm.count("image"))
    throw UsageError("--image: give --input TEXT or --image FILE, not both");
  if (images && vm.count("input"))
    throw UsageError("--input: " + checkpoints.front() + " reads images; give --image FILE");
  if (!images && vm.count("image"))
    throw UsageError("--image: " + checkpoints.front() +
                     " reads text, not images; give --input TEXT");
  if (vm.count("input") || vm.count("image")) {
    translate_lines(ensemble,
                    {images ? SourceLine{c.image, "--image"} : SourceLine{c.input, "--input"}}, d,
                    c.json, nbest, cuts);
  } else {
    Progress progress = translate_progress(c.json);
    std::vector<SourceLine> lines;
    std::string line;
    for (int64_t n = 1; std::getline(std::cin, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (n == 1 && Tokenizer::starts_with_bom(line)) line.erase(0, Tokenizer::kUtf8Bom.size());
      lines.push_back({line, "stdin:" + std::to_string(n)});
      if (static_cast<int64_t>(lines.size()) == c.batch) {
        translate_lines(ensemble, lines, d, c.json, nbest, cuts);
        progress.add(static_cast<int64_t>(lines.size()));
        lines.clear();
      }
    }
    if (!lines.empty()) translate_lines(ensemble, lines, d, c.json, nbest, cuts);
    progress.add(static_cast<int64_t>(lines.size()));
    progress.finish();
  }
  if (cuts.count) std::cerr << "seqgrad: warning: " << cut_warning(cuts, d) << std::endl;
  return 0;
}

}  // namespace sg::cli
