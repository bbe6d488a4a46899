// seqgrad average --out FILE (A.h5 B.h5 ... | --last N DIR): a checkpoint whose parameters are the
// element-wise mean of the inputs' (fairseq's average_checkpoints.py). The inputs must describe the
// same network with the same vocabularies; the output takes the configuration, vocabularies, step
// and training state of the last input and holds no optimizer state, so eval, translate, inspect
// and attention read it like any checkpoint (docs/cli.md#average). When every input has the
// moving average of --ema (/ema), the output's /ema is their mean.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "optim/ema.h"
#include "train/checkpoint/checkpoint.h"
#include "train/cli/options.h"
#include "train/config/memory_check.h"
#include "train/config/model_config.h"

namespace sg::cli {

namespace {

namespace fs = std::filesystem;

// The newest n numbered checkpoints ckpt-<step>.h5 of a run folder, oldest first.
std::vector<std::string> last_checkpoints(const std::string& dir, int64_t n) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw RunError("--last: '" + dir + "' is not a run folder");
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const int64_t step = checkpoint_step_of(e.path().filename().string());
    if (step >= 0) found.emplace_back(step, e.path().string());
  }
  if (ec) throw RunError("--last: cannot list '" + dir + "': " + ec.message());
  if (static_cast<int64_t>(found.size()) < n)
    throw UsageError("--last " + std::to_string(n) + ": '" + dir + "' holds " +
                     std::to_string(found.size()) + " numbered checkpoint" +
                     (found.size() == 1 ? "" : "s"));
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (size_t i = found.size() - n; i < found.size(); ++i) paths.push_back(found[i].second);
  return paths;
}

// The first difference between two networks that averaging cannot bridge, or "".
std::string model_difference(const ModelConfig& a, const ModelConfig& b) {
  const std::pair<const char*, std::pair<int64_t, int64_t>> sizes[] = {
      {"--d-model", {a.d_model, b.d_model}},
      {"--heads", {a.heads, b.heads}},
      {"--enc-layers", {a.enc_layers, b.enc_layers}},
      {"--dec-layers", {a.dec_layers, b.dec_layers}},
      {"--ff", {a.ff, b.ff}},
      {"positional table", {a.max_len, b.max_len}},
      {"--patch", {a.patch, b.patch}},
      {"--image-height", {a.image_height, b.image_height}},
      {"--image-width", {a.image_width, b.image_width}}};
  for (const auto& [name, v] : sizes)
    if (v.first != v.second)
      return std::string(name) + " " + std::to_string(v.second) + ", not " +
             std::to_string(v.first);
  if (a.norm_first != b.norm_first)
    return b.norm_first ? "pre-LN, not post-LN" : "post-LN, not pre-LN";
  if (a.share_embeddings != b.share_embeddings)
    return b.share_embeddings ? "--share-embeddings, not separate embeddings"
                              : "separate embeddings, not --share-embeddings";
  return "";
}

}  // namespace

int cmd_average(const std::vector<std::string>& args) {
  std::string out;
  std::vector<std::string> inputs;
  int64_t last = 0;
  bool json = false, overwrite = false;
  po::options_description desc("average options");
  desc.add_options()("out", po::value(&out), "the averaged checkpoint to write (required)")(
      "inputs", po::value(&inputs), "checkpoints to average (or, with --last, one run folder)")(
      "last", po::value(&last)->default_value(0),
      "average the newest N ckpt-<step>.h5 of the run folder given")(
      "overwrite", po::bool_switch(&overwrite), "replace --out if it exists")(
      "json", po::bool_switch(&json), "print one JSON object");
  po::positional_options_description pos;
  pos.add("inputs", -1);
  po::variables_map vm;
  if (!parse_options("average", args, desc, vm, &pos)) return 0;
  if (out.empty()) throw UsageError("--out: required");
  // An existing file is never replaced unasked: --out runs/x/latest.h5 would turn a run's link to
  // its newest checkpoint into a file without optimizer state, which --resume auto refuses.
  std::error_code exists_ec;
  if (!overwrite && fs::exists(fs::symlink_status(out, exists_ec)))
    throw UsageError("--out: '" + out + "' exists; give --overwrite to replace it");
  if (last < 0) throw UsageError("--last: must be positive, got " + std::to_string(last));
  if (vm.count("last") && !vm["last"].defaulted()) {
    if (last == 0) throw UsageError("--last: must be positive, got 0");
    if (inputs.size() != 1)
      throw UsageError("--last: give exactly one run folder, got " + std::to_string(inputs.size()) +
                       " paths");
    inputs = last_checkpoints(inputs[0], last);
  }
  if (inputs.empty())
    throw UsageError("average: give the checkpoints to average (or --last N DIR)");

  // Every input's metadata first: a mismatch is found before any parameter is read.
  std::vector<CheckpointContents> contents;
  for (const auto& p : inputs) contents.push_back(read_checkpoint(p));
  const CheckpointContents& base = contents.back();
  const int64_t src_n = static_cast<int64_t>(base.src_vocab.size());
  const int64_t tgt_n = static_cast<int64_t>(base.tgt_vocab.size());
  const ModelConfig mc = model_config(base.config, src_n, tgt_n);
  for (size_t i = 0; i + 1 < inputs.size(); ++i) {
    const CheckpointContents& c = contents[i];
    const std::string where = inputs[i] + ": ";
    const std::string other = " of " + inputs.back();
    if (c.src_vocab != base.src_vocab)
      throw RunError(where + "its source vocabulary differs from the one" + other);
    if (c.tgt_vocab != base.tgt_vocab)
      throw RunError(where + "its target vocabulary differs from the one" + other);
    if (tokenize_mode_of(c.config) != tokenize_mode_of(base.config) ||
        c.spm_model != base.spm_model)
      throw RunError(where + "its tokenization differs from the one" + other);
    const std::string diff =
        model_difference(mc, model_config(c.config, static_cast<int64_t>(c.src_vocab.size()),
                                          static_cast<int64_t>(c.tgt_vocab.size())));
    if (!diff.empty()) throw RunError(where + "a different network: " + diff + other);
  }
  check_model_fits(base.config, src_n, tgt_n, false);
  Seq2SeqTransformer model(mc, base.config.seed);

  // Sums in float64, in input order, then one rounding to float32: the mean of n values is
  // (x_1 + ... + x_n) / n rounded once (fairseq sums in the parameters' own precision). The
  // inputs' group `group` (/model or /ema) is averaged into the model's parameters.
  const auto params = model.named_parameters();
  const auto average_group = [&](const std::string& group) {
    std::vector<std::vector<double>> sums(params.size());
    for (const auto& p : inputs) {
      load_model(p, model, group);  // every parameter present, with the shape of the network
      for (size_t i = 0; i < params.size(); ++i) {
        const Tensor t = params[i].second.contiguous_data().to(DType::f32);
        const float* x = t.data<float>();
        sums[i].resize(t.numel(), 0.0);
        for (int64_t j = 0; j < t.numel(); ++j) sums[i][j] += x[j];
      }
    }
    const double n = static_cast<double>(inputs.size());
    for (size_t i = 0; i < params.size(); ++i) {
      std::vector<float> mean(sums[i].size());
      for (size_t j = 0; j < mean.size(); ++j) mean[j] = static_cast<float>(sums[i][j] / n);
      params[i].second.copy_from(Tensor::from_floats(mean, params[i].second.shape()));
    }
  };
  // The moving averages of --ema are averaged the same way when every input has them (with the
  // last input's decay); the output of inputs of which only some have them has none.
  std::unique_ptr<Ema> ema;
  const auto has_ema = [](const CheckpointContents& c) { return c.ema_decay > 0; };
  if (std::all_of(contents.begin(), contents.end(), has_ema)) {
    average_group("ema");
    ema = std::make_unique<Ema>(params, base.ema_decay);  // a copy of the averaged /ema
  } else if (std::any_of(contents.begin(), contents.end(), has_ema)) {
    const size_t without = static_cast<size_t>(
        std::find_if_not(contents.begin(), contents.end(), has_ema) - contents.begin());
    std::cerr << "seqgrad: warning: " << inputs[without]
              << " has no /ema (moving average of the weights), so " << out
              << " has none; /model is averaged" << std::endl;
  }
  average_group("model");

  try {
    create_parent_folders(out);
  } catch (const std::runtime_error& e) {
    throw RunError(std::string("--out: ") + e.what());
  }
  save_checkpoint(out, model, nullptr, base.config, base.src_vocab, base.tgt_vocab, base.state,
                  base.spm_model, ema.get());
  if (json) {
    std::cout << nlohmann::json{{"checkpoint", out},
                                {"inputs", inputs},
                                {"step", base.state.step},
                                {"ema", ema != nullptr}}
                     .dump()
              << std::endl;
  } else {
    std::cout << "saved " << out << " (the mean of " << inputs.size() << " checkpoint"
              << (inputs.size() == 1 ? "" : "s") << (ema ? ", /ema too" : "") << ")" << std::endl;
  }
  return 0;
}

}  // namespace sg::cli
