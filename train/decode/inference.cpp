#include "train/decode/inference.h"

#include <filesystem>
#include <tuple>

#include "datasets/glyphs.h"
#include "datasets/task.h"
#include "datasets/task_stream.h"
#include "datasets/tsv.h"
#include "datasets/tsv_examples.h"
#include "train/config/errors.h"
#include "train/config/memory_check.h"
#include "train/config/model_config.h"

namespace sg {

LoadedModel load_for_inference(const std::string& path, bool use_ema) {
  LoadedModel m;
  m.contents = read_checkpoint(path);
  if (use_ema && m.contents.ema_decay == 0)
    throw UsageError("--use-ema: " + path +
                     " has no moving average of the weights (/ema); its run trained without --ema");
  std::tie(m.src_codec, m.tgt_codec) = stored_codecs(
      m.contents.config, m.contents.src_vocab, m.contents.tgt_vocab, m.contents.spm_model, path);
  const int64_t src_size = m.src_codec.vocab().size(), tgt_size = m.tgt_codec.vocab().size();
  check_model_fits(m.contents.config, src_size, tgt_size, false);
  m.model = std::make_unique<Seq2SeqTransformer>(
      model_config(m.contents.config, src_size, tgt_size), m.contents.config.seed);
  load_model(path, *m.model, use_ema ? "ema" : "model");
  m.model->eval();
  m.train_lengths = training_lengths(m.contents);
  return m;
}

namespace {

// "text" or "images of H x W pixels": what a model's encoder reads.
std::string input_kind(const ModelConfig& c) {
  if (!c.reads_images()) return "text";
  return "images of " + std::to_string(c.image_height) + " x " + std::to_string(c.image_width) +
         " pixels";
}

}  // namespace

std::vector<LoadedModel> load_ensemble(const std::vector<std::string>& paths, bool use_ema) {
  std::vector<LoadedModel> loaded;
  for (const auto& p : paths) {
    loaded.push_back(load_for_inference(p, use_ema));
    const LoadedModel& a = loaded.front();
    const LoadedModel& b = loaded.back();
    const std::string other =
        " differs from the one of " + paths.front() + " (an ensemble shares them)";
    // The input first: a text model's source vocabulary differs from an image model's too.
    const ModelConfig &ca = a.model->config(), &cb = b.model->config();
    if (ca.reads_images() != cb.reads_images() || ca.image_height != cb.image_height ||
        ca.image_width != cb.image_width)
      throw std::runtime_error(p + ": its input (" + input_kind(cb) + ")" + other);
    if (!(b.src_codec == a.src_codec))
      throw std::runtime_error(p + ": its source vocabulary or tokenization" + other);
    if (!(b.tgt_codec == a.tgt_codec))
      throw std::runtime_error(p + ": its target vocabulary or tokenization" + other);
  }
  return loaded;
}

Models models_of(const std::vector<LoadedModel>& loaded) {
  Models models;
  for (const auto& m : loaded) models.push_back(m.model.get());
  return models;
}

LengthStats training_lengths(const CheckpointContents& c) {
  if (c.state.lengths.known()) return c.state.lengths;
  const Config& run = c.config;
  if (run.task == "tsv") return {run.max_len, 2, 1};
  // Images: the longest string decides (an image counts as a source of length 0, so the ratio
  // does not; 1 is the smallest a checkpoint accepts).
  if (run.task == "glyphs") return {run.max_len, 1, 1};
  try {
    return make_task(run.task, {run.symbols, run.min_len, run.max_len})->length_stats();
  } catch (const std::exception&) {
    return {};
  }
}

std::vector<Example> held_out_data(const LoadedModel& m, const HeldOutOptions& o,
                                   std::vector<std::string>* refs) {
  if (refs) refs->clear();
  const Config& run = m.contents.config;
  // A side (plus <bos> or <eos>) must fit the model's positional table.
  const int64_t readable = m.model->config().max_len - 1;
  TsvOptions limits;
  limits.max_len = readable;
  limits.max_len_name = "the model's limit of";
  if (o.max_len > 0 && o.max_len < readable) {
    limits.max_len = o.max_len;
    limits.max_len_name = "--max-len";
  }
  if (!o.data_file.empty())
    return read_tsv_examples(o.data_file, m.src_codec, m.tgt_codec, limits, refs);
  if (run.task != "tsv" && !o.valid_file.empty())
    throw UsageError("--valid: the checkpoint's run is the " + run.task +
                     " task, which has no held-out file; give a TSV file with --data");
  if (run.task == "tsv") {
    const std::string& valid = o.valid_file.empty() ? run.valid_file : o.valid_file;
    if (valid.empty())
      throw UsageError("--data: required, the checkpoint's run had no --valid file");
    return read_tsv_examples(valid, m.src_codec, m.tgt_codec, limits, refs);
  }
  TaskOptions to{run.symbols, o.min_len > 0 ? o.min_len : run.min_len,
                 o.max_len > 0 ? o.max_len : run.max_len};
  if (to.max_len > readable)
    throw UsageError("--max-len: " + std::to_string(to.max_len) +
                     " is more than the model reads (" + std::to_string(readable) + " tokens)");
  if (to.min_len > to.max_len) {
    const std::string lo = std::to_string(to.min_len), hi = std::to_string(to.max_len);
    if (o.min_len > 0) throw UsageError("--min-len: " + lo + " is larger than --max-len " + hi);
    throw UsageError("--max-len: " + hi + " is smaller than --min-len " + lo);
  }
  return TaskStream(make_task(run.task, to), o.valid_size > 0 ? o.valid_size : run.valid_size,
                    run.seed)
      .held_out();
}

std::vector<ImageExample> held_out_images(const LoadedModel& m, const HeldOutOptions& o) {
  const ModelConfig& mc = m.model->config();
  const std::string& data_file = o.data_file;
  if (data_file.empty() && !o.valid_file.empty())
    throw UsageError(
        "--valid: the checkpoint's run is the glyphs task, which has no held-out "
        "file; give a TSV file of image paths and texts with --data");
  if (data_file.empty()) {
    // The run's task at the model's image size, with eval's choice of lengths and size.
    Config run = m.contents.config;
    if (o.min_len > 0) run.min_len = o.min_len;
    if (o.max_len > 0) run.max_len = o.max_len;
    if (o.valid_size > 0) run.valid_size = o.valid_size;
    GlyphOptions g = glyph_options(run);
    g.height = mc.image_height;
    g.width = mc.image_width;
    try {
      return GlyphsTask(g).held_out(run.valid_size, TaskStream::kHeldOutSeed);
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      throw UsageError(msg.rfind("--", 0) == 0 ? msg : "--valid-size: " + msg);
    }
  }
  const std::filesystem::path dir = std::filesystem::path(data_file).parent_path();
  TsvOptions limits;
  limits.max_len = mc.max_len - 1;
  limits.max_len_name = "the model's limit of";
  std::vector<ImageExample> out;
  TsvScanner scanner(data_file);
  TsvLine line;
  while (scanner.next(line)) {
    std::vector<int64_t> tgt = m.tgt_codec.encode(line.tgt);
    check_tsv_side(data_file, line.line, "target", static_cast<int64_t>(tgt.size()), limits);
    const std::filesystem::path file(std::string(line.src));
    try {
      out.push_back({load_model_image(mc, (dir / file).string()), std::move(tgt)});
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(tsv_where(data_file, line.line) + e.what());
    }
  }
  return out;
}

Image load_model_image(const ModelConfig& model, const std::string& path) {
  return fit_image(read_image(path), model.image_height, model.image_width);
}

Source image_source(const std::vector<Image>& images) {
  if (images.empty()) throw std::invalid_argument("image_source: no images");
  std::vector<float> pixels;
  for (const Image& im : images) pixels.insert(pixels.end(), im.ink.begin(), im.ink.end());
  return Source(Tensor::from_floats(
      pixels, {static_cast<int64_t>(images.size()), images[0].height, images[0].width}));
}

}  // namespace sg
