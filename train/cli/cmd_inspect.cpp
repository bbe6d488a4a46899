// seqgrad inspect PATH [--json]: a checkpoint's format version, step, config, parameters with
// their shapes, parameter count, optimizer and schedule, the training data's lengths, and the
// decay of the moving average of the weights (/ema) if it has one.
// seqgrad inspect --verify PATH [--json]: reads every byte of the file, checking every checksum,
// lists each damaged part, then loads it as a resume would; exit 1 if anything fails.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "optim/make_optimizer.h"
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/hdf5.h"
#include "train/cli/options.h"
#include "train/decode/inference.h"

namespace sg::cli {

namespace {

int verify(const std::string& path, bool json) {
  // A missing file or a folder is not a damaged file: the error every command gives for it.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) H5File::open_read(path);
  const H5Check h = H5File::check(path);
  // The file reads and checks: does it load as a checkpoint (what a resume reads)?
  std::string content_error;
  int64_t version = 0;
  if (h.damaged.empty()) {
    try {
      LoadedModel m = load_for_inference(path);
      version = m.contents.format_version;
      if (m.contents.ema_decay > 0) load_model(path, *m.model, "ema");
      if (!m.contents.optimizer_type.empty()) {
        auto opt = make_optimizer(m.contents.optimizer_type, m.model->named_parameters(),
                                  {{"lr", m.contents.config.lr}});
        load_optimizer(path, *opt);
      }
    } catch (const std::exception& e) {
      content_error = e.what();
    }
  }
  const bool checksummed = h.unchecksummed.empty();
  if (json) {
    nlohmann::json damaged = nlohmann::json::array();
    for (const auto& d : h.damaged) damaged.push_back({{"object", d.object}, {"reason", d.reason}});
    std::cout << nlohmann::json{{"path", path},
                                {"ok", h.damaged.empty() && content_error.empty()},
                                {"format_version", version},
                                {"checksummed", checksummed},
                                {"objects", h.objects},
                                {"attributes", h.attributes},
                                {"data_bytes", h.data_bytes},
                                {"file_bytes", h.file_bytes},
                                {"unaccounted_bytes", h.file_bytes - h.accounted_bytes},
                                {"damaged", damaged},
                                {"unchecksummed", h.unchecksummed},
                                {"error", content_error}}
                     .dump()
              << std::endl;
  } else {
    for (const auto& d : h.damaged)
      std::printf("%s: damaged: %s: %s\n", path.c_str(), d.object.c_str(), d.reason.c_str());
    if (h.damaged.empty() && content_error.empty()) {
      std::printf(
          "%s: ok: format_version %lld; read %lld objects, %lld attributes and %lld bytes "
          "of values\n",
          path.c_str(), static_cast<long long>(version), static_cast<long long>(h.objects),
          static_cast<long long>(h.attributes), static_cast<long long>(h.data_bytes));
      if (checksummed)
        std::printf("%s: every byte of it is checksummed and every checksum matches\n",
                    path.c_str());
      else
        std::printf(
            "%s: %zu parts have no checksum (e.g. %s), so damage to them would go "
            "unnoticed; checkpoints saved by this seqgrad (a run resumed from it, say) "
            "have checksums\n",
            path.c_str(), h.unchecksummed.size(), h.unchecksummed.front().c_str());
    }
  }
  if (!h.damaged.empty()) {
    std::string parts;
    for (size_t i = 0; i < h.damaged.size() && i < 3; ++i)
      parts += (i ? ", " : "") + h.damaged[i].object;
    if (h.damaged.size() > 3) parts += " and " + std::to_string(h.damaged.size() - 3) + " more";
    throw RunError(path + ": damaged: " + std::to_string(h.damaged.size()) +
                   (h.damaged.size() == 1 ? " part fails its" : " parts fail their") + " checks (" +
                   parts + "): " + h.damaged.front().reason);
  }
  if (!content_error.empty()) throw RunError(content_error);
  return 0;
}

}  // namespace

int cmd_inspect(const std::vector<std::string>& args) {
  std::string path;
  bool json = false, check = false;
  po::options_description desc("inspect options");
  desc.add_options()("checkpoint", po::value(&path), "checkpoint file (or give it as PATH)")(
      "verify", po::bool_switch(&check),
      "read every byte of the file, check every checksum and say what is damaged (exit 1)")(
      "json", po::bool_switch(&json), "print one JSON object");
  po::positional_options_description pos;
  pos.add("checkpoint", 1);
  po::variables_map vm;
  if (!parse_options("inspect", args, desc, vm, &pos)) return 0;
  if (path.empty()) throw UsageError("inspect: give a checkpoint PATH");
  if (check) return verify(path, json);
  const CheckpointContents c = read_checkpoint(path);
  const H5File f = H5File::open_read(path);
  nlohmann::json params = nlohmann::json::array();
  int64_t count = 0;
  for (const auto& name : f.list("model")) {
    const Shape s = f.shape_of("model/" + name);
    // --share-embeddings stores one matrix under three names (docs/checkpoint.md): counted once.
    const bool copy =
        c.config.share_embeddings && (name == "tgt_embed.weight" || name == "generator.weight");
    if (!copy) count += shape_numel(s);
    params.push_back({{"name", name}, {"shape", s}});
  }
  nlohmann::json optim = nlohmann::json::object();
  if (f.exists("optimizer"))
    for (const auto& a : f.attr_names("optimizer")) {
      if (a == "type")
        optim[a] = f.attr_str("optimizer", a);
      else if (a == "step")
        optim[a] = f.attr_i64("optimizer", a);
      else
        optim[a] = f.attr_f64("optimizer", a);
    }
  nlohmann::json sched = nlohmann::json::object();
  if (c.state.schedule) {
    sched = {{"kind", schedule_kind_name(c.state.schedule->kind)},
             {"base_lr", c.state.schedule->base_lr},
             {"warmup", c.state.schedule->warmup},
             {"total_steps", c.state.schedule->total_steps}};
    for (const char* a : {"step", "last_lr"})
      if (f.has_attr("scheduler", a))
        sched[a] = std::string(a) == "step" ? nlohmann::json(f.attr_i64("scheduler", a))
                                            : nlohmann::json(f.attr_f64("scheduler", a));
  }
  // The training data's lengths (the default decode limit's basis); null in older checkpoints.
  nlohmann::json lengths = nullptr;
  if (c.state.lengths.known())
    lengths = {{"max_tgt_len", c.state.lengths.max_tgt_len},
               {"max_len_ratio", c.state.lengths.ratio()}};
  const nlohmann::json out = {
      {"format_version", c.format_version},
      {"step", c.state.step},
      {"epoch", c.state.epoch},
      {"config", c.config.to_json()},
      {"parameters", params},
      {"parameter_count", count},
      {"optimizer", optim},
      {"scheduler", sched},
      {"vocab_sizes", {{"src", c.src_vocab.size()}, {"tgt", c.tgt_vocab.size()}}},
      {"train_lengths", lengths},
      {"ema", c.ema_decay > 0 ? nlohmann::json{{"decay", c.ema_decay}} : nlohmann::json(nullptr)}};
  if (json) {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  std::printf("%s\n  format_version %lld, step %lld, epoch %lld\n", path.c_str(),
              static_cast<long long>(c.format_version), static_cast<long long>(c.state.step),
              static_cast<long long>(c.state.epoch));
  std::printf("  vocabulary: %zu source, %zu target tokens\n", c.src_vocab.size(),
              c.tgt_vocab.size());
  std::printf("  training data: %s\n",
              lengths.is_null() ? "lengths not recorded" : lengths.dump().c_str());
  std::printf("  optimizer: %s\n", optim.dump().c_str());
  std::printf("  scheduler: %s\n", sched.dump().c_str());
  if (c.ema_decay > 0)
    std::printf("  ema: moving average of the weights in /ema, decay %g\n", c.ema_decay);
  else
    std::printf("  ema: none\n");
  std::printf("  config: %s\n", c.config.to_json().dump().c_str());
  std::printf("  parameters (%lld):\n", static_cast<long long>(count));
  for (const auto& p : params)
    std::printf("    %-60s %s\n", p["name"].get<std::string>().c_str(),
                shape_str(p["shape"].get<Shape>()).c_str());
  return 0;
}

}  // namespace sg::cli
