// seqgrad attention --checkpoint P --input TEXT --out FILE.svg|FILE.html [--json]: decodes one
// input greedily and renders the encoder self-attention, decoder self-attention and
// cross-attention maps of every layer and head (and their mean) of the teacher-forced pass over
// <bos> + output; --json prints one object per map on stdout. An image model reads --image FILE
// instead, and its cross-attention is drawn over the picture.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "autograd/parallel.h"
#include "train/checkpoint/checkpoint.h"
#include "train/cli/shared_options.h"
#include "train/decode/decode.h"
#include "train/decode/inference.h"
#include "train/draw/attention_maps.h"
#include "train/draw/attention_render.h"

namespace sg::cli {

namespace {

enum class Format { none, svg, html };

Format format_of(const std::string& out) {
  if (out.empty()) return Format::none;
  std::string ext = std::filesystem::path(out).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (ext == ".svg") return Format::svg;
  if (ext == ".html" || ext == ".htm") return Format::html;
  throw UsageError("--out: unknown file type '" + ext + "' in '" + out +
                   "' (the name must end in .svg, .html or .htm)");
}

// Source ids of the input text plus <eos>, checked against what the model can read.
std::vector<int64_t> source_ids(const LoadedModel& m, const std::string& text) {
  if (const auto bad = Tokenizer::invalid_utf8_offset(text))
    throw UsageError("--input: invalid UTF-8 at byte " + std::to_string(*bad));
  std::vector<int64_t> src = m.src_codec.encode(text);
  src.push_back(kEos);
  const int64_t limit = m.model->config().max_len;
  if (static_cast<int64_t>(src.size()) > limit)
    throw UsageError("--input: " + std::to_string(src.size() - 1) +
                     " tokens; the model reads at most " + std::to_string(limit - 1));
  return src;
}

void write_file(const std::string& path, const std::string& text) {
  try {
    create_parent_folders(path);
    atomic_write_file(path, text);
  } catch (const std::exception& e) {
    throw RunError(std::string("--out: ") + e.what());
  }
}

std::string model_line(const Config& c) {
  return "model: d_model " + std::to_string(c.d_model) + ", " + std::to_string(c.heads) +
         " heads, " + std::to_string(c.enc_layers) + " encoder and " +
         std::to_string(c.dec_layers) + " decoder layers, " + (c.norm_first ? "pre-LN" : "post-LN");
}

}  // namespace

int cmd_attention(const std::vector<std::string>& args) {
  Config c;
  bool mean_only = false;
  po::options_description groups("attention options");
  groups.add_options()("checkpoint", po::value(&c.checkpoint),
                       "checkpoint whose attention to draw")("input", po::value(&c.input),
                                                             "source text to decode")(
      "image", po::value(&c.image), "image file to read, PNG or PGM (an image model)")(
      "out", po::value(&c.out), "file to write: FILE.svg or FILE.html (by extension)")(
      "decode-max-len", po::value(&c.decode_max_len)->default_value(0), kDecodeMaxLenHelp)(
      "mean-only", po::bool_switch(&mean_only), "only the mean over heads of each layer")(
      "use-ema", po::bool_switch(&c.use_ema), kUseEmaHelp)(
      "threads", po::value(&c.threads)->default_value(0), "threads (0: all cores)")(
      "json", po::bool_switch(&c.json),
      "print one JSON object per map: kind, layer, head (\"mean\": the mean over heads), rows, "
      "cols, weights");
  groups.add(shared_train_options(c));
  po::variables_map vm;
  if (!parse_config("attention", args, groups, c, vm)) return 0;
  if (c.checkpoint.empty()) throw UsageError("--checkpoint: required");
  if (!vm.count("input") && !vm.count("image"))
    throw UsageError("--input: required (or --image FILE for an image model)");
  if (vm.count("input") && vm.count("image"))
    throw UsageError("--image: give --input TEXT or --image FILE, not both");
  if (c.out.empty() && !c.json) throw UsageError("--out: required (or --json)");
  const Format format = format_of(c.out);

  use_threads(c.threads);

  const LoadedModel m = load_for_inference(c.checkpoint, c.use_ema);
  check_against_run(c, vm, m.contents.config, c.checkpoint);
  const ModelConfig& mc = m.model->config();
  if (mc.reads_images() && vm.count("input"))
    throw UsageError("--input: " + c.checkpoint + " reads images; give --image FILE");
  if (!mc.reads_images() && vm.count("image"))
    throw UsageError("--image: " + c.checkpoint + " reads text, not images; give --input TEXT");
  DecodeOptions d;
  d.max_len = c.decode_max_len;
  d.lengths = m.train_lengths;
  DecodeCuts cuts;
  AttentionResult r;
  if (mc.reads_images()) {
    Image image;
    try {
      image = load_model_image(mc, c.image);
    } catch (const std::runtime_error& e) {
      throw RunError(std::string("--image: ") + e.what());
    }
    r = collect_attention(*m.model, image, m.tgt_codec.vocab(), d, &cuts);
  } else {
    const std::vector<int64_t> src = source_ids(m, c.input);
    r = collect_attention(*m.model, src, m.src_codec.vocab(), m.tgt_codec.vocab(), d, &cuts);
  }
  if (mean_only)
    std::erase_if(r.maps, [](const AttentionMap& map) { return map.head != kHeadMean; });

  if (format != Format::none) {
    const Config& run = m.contents.config;
    RenderInfo info;
    info.lines = {"checkpoint: " + c.checkpoint + (c.use_ema ? " /ema" : "") + " (task " +
                      run.task + ", step " + std::to_string(m.contents.state.step) + ")",
                  r.is_image() ? "image:  " + c.image : "input:  " + c.input,
                  "output: " + m.tgt_codec.decode(r.output), model_line(run)};
    write_file(c.out, format == Format::svg ? render_svg(r, info) : render_html(r, info));
  }
  if (c.json) {
    for (const auto& map : r.maps) std::cout << to_json(map).dump() << '\n';
    std::cout.flush();
  }
  // After the work succeeded: on a failure, the error stays the only line on stderr.
  if (cuts.count) std::cerr << "seqgrad: warning: " << cut_warning(cuts, d) << std::endl;
  return 0;
}

}  // namespace sg::cli
