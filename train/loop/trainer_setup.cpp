// Trainer's construction (trainer.h): the run's folder and its lock, --resume (the checkpoint's
// model, data, optimizer and schedule, and the options given again that may change), the data,
// model, optimizer, schedule and --ema averages, and --overwrite. The loop is in trainer.cpp.
#include "train/loop/trainer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "autograd/parallel.h"
#include "optim/ema.h"
#include "optim/make_optimizer.h"
#include "optim/schedule.h"
#include "progress/progress.h"
#include "train/config/errors.h"
#include "train/config/memory_check.h"
#include "train/config/model_config.h"
#include "train/loop/distributed.h"
#include "train/loop/run_folder.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

// Options a resumed run may change; every other option comes from the checkpoint.
bool may_change_on_resume(const std::string& name) {
  static const char* ok[] = {"steps",   "out",         "save-every", "keep",   "eval-every",
                             "threads", "json",        "log-every",  "resume", "patience",
                             "config",  "dump-config", "help"};
  return std::find_if(std::begin(ok), std::end(ok), [&](const char* o) { return name == o; }) !=
         std::end(ok);
}

std::string json_key(const std::string& option) {
  if (option == "train") return "train_file";
  if (option == "valid") return "valid_file";
  if (option == "data") return "data_file";
  if (option == "no-shuffle") return "shuffle";
  std::string k = option;
  std::replace(k.begin(), k.end(), '-', '_');
  return k;
}

// The hyper-parameters of --optim that the run's options set (each optimizer takes its own).
Hyper optimizer_hyper(const Config& c) {
  if (c.optim == "sgd")
    return {{"lr", c.lr},
            {"momentum", c.momentum},
            {"nesterov", c.nesterov ? 1.0 : 0.0},
            {"weight_decay", c.weight_decay}};
  return {{"lr", c.lr},
          {"beta1", c.beta1},
          {"beta2", c.beta2},
          {"eps", c.eps},
          {"weight_decay", c.weight_decay}};
}

// A file that a TSV run reads: its option, what the error messages call it, and what the run did
// with it. Its size and hash are /data's <option>_bytes and <option>_hash.
struct RunFile {
  const char* option;
  const char* role;
  const char* use;
};
constexpr RunFile kTrainFile{"train", "training file", "trained on"};
constexpr RunFile kValidFile{"valid", "held-out file", "evaluated on"};

// A resumed TSV run reads its files again, perhaps under other names (--train or --valid given
// again: the corpus moved to another folder). The size and hash that the checkpoint recorded
// decide whether `file` holds the data the run used; a checkpoint from before they were recorded
// accepts only its own name for the file, or another name of the same file.
void check_run_file(const CheckpointContents& ck, const std::string& resume, const RunFile& what,
                    const std::string& recorded, const std::string& file,
                    const FileFingerprint& now, bool given) {
  const std::string option = what.option;
  const auto bytes = ck.state.data.find(option + "_bytes"),
             hash = ck.state.data.find(option + "_hash");
  if (bytes == ck.state.data.end() || hash == ck.state.data.end()) {
    std::error_code ec;
    if (file == recorded || fs::equivalent(file, recorded, ec)) return;
    throw UsageError("--" + option + ": \"" + file + "\" contradicts the checkpoint's \"" +
                     recorded + "\" (" + resume + ", which records no size and hash of its " +
                     what.role + ")");
  }
  const FileFingerprint then{bytes->second, static_cast<uint64_t>(hash->second)};
  if (now == then) return;
  const std::string why = "--" + option + ": '" + file + "' is not the file the checkpoint " +
                          what.use + " (" + resume + " recorded " + then.describe() + " for '" +
                          recorded + "'; this file has " + now.describe() + ")";
  if (given) throw UsageError(why);
  throw RunError(why);  // the file changed where the checkpoint found it
}

// The checkpoint's file where it found it, not named again: if it is gone, says how to name it.
void check_run_file_is_there(const RunFile& what, const std::string& file) {
  if (std::ifstream(file)) return;
  throw RunError(std::string("--") + what.option + ": '" + file + "', the checkpoint's " +
                 what.role + ", cannot be read (" + std::strerror(errno) +
                 "); if it moved, name it again with --" + what.option);
}

// "ckpt-500.h5, ckpt-1000.h5, latest.h5, best.h5, metrics.jsonl", at most eight names.
std::string describe_files(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 8; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 8) out += " and " + std::to_string(names.size() - 8) + " more";
  return out;
}
}  // namespace

Trainer::Trainer(Config cfg, const std::vector<std::string>& given) : cfg_(std::move(cfg)) {
  auto was_given = [&](const char* o) {
    return std::find(given.begin(), given.end(), o) != given.end();
  };
  // A run's folder where its checkpoint belongs: say how to continue the run in a folder, before
  // any folder is made or locked.
  if (cfg_.resume != "auto" && !cfg_.resume.empty() && fs::is_directory(cfg_.resume))
    throw RunError("--resume: '" + cfg_.resume +
                   "' is a folder, not a checkpoint (to continue the run in it: --resume auto "
                   "--out " +
                   cfg_.resume + ")");
  // The run's folder: --out, or the folder of the checkpoint to resume, or runs/<task>.
  if (cfg_.out.empty()) {
    const fs::path dir = fs::path(cfg_.resume).parent_path();
    cfg_.out = cfg_.resume.empty() || cfg_.resume == "auto" ? "runs/" + cfg_.task
               : dir.empty()                                ? "."
                                                            : dir.string();
  }
  try {
    create_folders(cfg_.out);
  } catch (const std::runtime_error& e) {
    throw RunError(std::string("--out: ") + e.what());
  }
  // Nothing in the folder is read or touched before the lock is held.
  if (dist::is_root()) lock_ = std::make_unique<RunLock>(cfg_.out);
  // --resume auto: latest.h5, or the newest ckpt-<step>.h5 when a run was killed before it made
  // latest.h5 point to its first checkpoint; a fresh start when there is neither.
  std::string resume = cfg_.resume;
  if (resume == "auto") {
    const fs::path latest = fs::path(cfg_.out) / "latest.h5";
    resume = fs::exists(latest) ? latest.string() : newest_checkpoint(cfg_.out);
  }
  if (dist::is_root()) {
    check_folder_is_free(resume);
    remove_stale_temporaries(cfg_.out);
  }
  std::unique_ptr<CheckpointContents> ck;
  if (!resume.empty()) {
    ck = std::make_unique<CheckpointContents>(read_checkpoint(resume));
    // The checkpoint decides the model, data, optimizer and schedule; only run options may
    // change, and those not given again keep the checkpoint's values (its --threads too, which
    // exactness needs). Without --out the run continues in the checkpoint's folder.
    const nlohmann::json mine = cfg_.to_json();
    nlohmann::json merged = ck->config.to_json();
    if (!merged.contains("ema")) merged["ema"] = 0.0;  // a checkpoint from before --ema
    for (const std::string& option : given) {
      const std::string key = json_key(option);
      if (!mine.contains(key)) continue;
      if (may_change_on_resume(option))
        merged[key] = mine[key];
      else if (ck->config.task == "tsv" &&
               (option == "train" ||
                (option == "valid" && !ck->config.valid_file.empty() && !cfg_.valid_file.empty())))
        merged[key] = mine[key];  // its content decides (check_run_file)
      else if (merged.contains(key) && merged[key] != mine[key])
        throw UsageError("--" + option + ": " + mine[key].dump() +
                         " contradicts the checkpoint's " + merged[key].dump() + " (" + resume +
                         ")");
    }
    merged["json"] = cfg_.json;
    merged["resume"] = cfg_.resume;
    merged["out"] = cfg_.out;
    const bool overwrite = cfg_.overwrite;
    cfg_ = Config::from_json(merged);
    cfg_.overwrite = overwrite;
  }
  use_threads(cfg_.threads);

  std::pair<TextCodec, TextCodec> codecs;
  if (ck) {
    try {
      codecs = stored_codecs(cfg_, ck->src_vocab, ck->tgt_vocab, ck->spm_model, resume);
    } catch (const std::runtime_error& e) {
      throw RunError(e.what());
    }
  }
  if (ck && cfg_.task == "tsv") {
    if (!was_given("train")) check_run_file_is_there(kTrainFile, cfg_.train_file);
    if (!was_given("valid") && !cfg_.valid_file.empty())
      check_run_file_is_there(kValidFile, cfg_.valid_file);
  }
  data_ = std::make_unique<DataSource>(cfg_, ck ? &codecs : nullptr);
  if (ck && data_->train_fingerprint())
    check_run_file(*ck, resume, kTrainFile, ck->config.train_file, cfg_.train_file,
                   *data_->train_fingerprint(), was_given("train"));
  if (ck && data_->valid_fingerprint())
    check_run_file(*ck, resume, kValidFile, ck->config.valid_file, cfg_.valid_file,
                   *data_->valid_fingerprint(), was_given("valid"));
  if (cfg_.epochs > 0) {
    if (data_->is_stream()) throw UsageError("--epochs: only a TSV corpus has epochs; use --steps");
    if (!ck || !was_given("steps")) cfg_.steps = cfg_.epochs * data_->batches_per_epoch();
    // The check of --warmup against --steps, now that the steps are known.
    if (!ck && cfg_.schedule == "cosine" && cfg_.steps <= cfg_.warmup)
      throw UsageError("--warmup: " + std::to_string(cfg_.warmup) + " must be below the " +
                       std::to_string(cfg_.steps) + " steps of --epochs " +
                       std::to_string(cfg_.epochs) + " with --schedule cosine");
  }
  // A resumed run trains up to --steps; one that ends before the checkpoint's step would only
  // evaluate and save that checkpoint again, so it is a usage error (an equal step is allowed).
  if (ck && cfg_.steps < ck->state.step)
    throw UsageError((was_given("steps") || cfg_.epochs == 0
                          ? "--steps: " + std::to_string(cfg_.steps)
                          : "--epochs: " + std::to_string(cfg_.epochs) + " (" +
                                std::to_string(cfg_.steps) + " steps)") +
                     " ends before step " + std::to_string(ck->state.step) +
                     " of the checkpoint it resumes (" + resume + ")");
  // A TSV corpus builds one vocabulary for shared embeddings; a task's own two must be equal.
  if (cfg_.share_embeddings && !(data_->src_vocab() == data_->tgt_vocab()))
    throw UsageError("--share-embeddings: needs one vocabulary for both sides; the " + cfg_.task +
                     " task's source and target vocabularies differ (" +
                     std::to_string(data_->src_vocab().size()) + " and " +
                     std::to_string(data_->tgt_vocab().size()) + " tokens)");
  check_model_fits(cfg_, data_->src_vocab().size(), data_->tgt_vocab().size(), true);
  model_ = std::make_unique<Seq2SeqTransformer>(
      model_config(cfg_, data_->src_vocab().size(), data_->tgt_vocab().size()), cfg_.seed);
  // Same parameters on every rank (same seed); a dropout stream of its own per rank.
  if (dist::rank() > 0)
    model_->dropout_generator().seed_with(cfg_.seed * 0x9E3779B97F4A7C15ULL + dist::rank());
  opt_ = make_optimizer(cfg_.optim, model_->named_parameters(), optimizer_hyper(cfg_));
  schedule_.kind = parse_schedule_kind(cfg_.schedule);
  schedule_.base_lr = cfg_.lr;
  schedule_.warmup = cfg_.warmup;
  schedule_.d_model = cfg_.d_model;
  // The averages start as the initialized parameters, or as the checkpoint's /ema (read through
  // the parameters, before /model is).
  if (cfg_.ema > 0) {
    if (ck) load_model(resume, *model_, "ema");
    ema_ = std::make_unique<Ema>(model_->named_parameters(), cfg_.ema);
  }
  if (ck) {
    load_model(resume, *model_);
    load_optimizer(resume, *opt_);
    st_ = ck->state;
    try {
      data_->restore(st_);
    } catch (const std::exception& e) {
      throw RunError(resume + ": " + e.what());
    }
    auto d = st_.rngs.find("dropout");
    if (d == st_.rngs.end()) throw RunError(resume + ": missing /rng/dropout");
    // Rank r > 0 continues its own stream when the checkpoint has it (same rank count).
    auto mine = st_.rngs.find("dropout." + std::to_string(dist::rank()));
    model_->dropout_generator().set_state(dist::rank() > 0 && mine != st_.rngs.end() ? mine->second
                                                                                     : d->second);
    if (!st_.schedule) throw RunError(resume + ": missing '/scheduler'");
    schedule_ = *st_.schedule;
    // latest.h5 names the file it points to, so that messages name a real checkpoint.
    std::error_code link_ec;
    const fs::path target = fs::read_symlink(resume, link_ec);
    last_saved_ = link_ec ? resume : (fs::path(resume).parent_path() / target).string();
  }
  // The schedule's horizon (cosine) is the run's --steps, also when a resume extends it.
  schedule_.total_steps = cfg_.steps;
  st_.schedule = schedule_;
  // Everything the run needs is in place: only now does --overwrite remove the old run's files.
  if (cfg_.overwrite && dist::is_root()) {
    const std::vector<std::string> old = run_files(cfg_.out);
    remove_run_files(cfg_.out);
    if (!old.empty() && !cfg_.json)
      std::cout << "--overwrite: removed " << describe_files(old) << " from " << cfg_.out
                << std::endl;
  }
}

void Trainer::check_folder_is_free(const std::string& resume) const {
  std::error_code ec;
  const bool continues =
      !resume.empty() && fs::equivalent(fs::absolute(resume).parent_path(), cfg_.out, ec);
  if (cfg_.overwrite && continues)
    throw UsageError("--overwrite: would remove the checkpoint that --resume continues from (" +
                     resume + ")");
  const std::vector<std::string> files = run_files(cfg_.out);
  if (files.empty() || continues || cfg_.overwrite) return;
  // How to continue the run that is there, if it has a checkpoint.
  const bool resumable =
      fs::exists(fs::path(cfg_.out) / "latest.h5") || !newest_checkpoint(cfg_.out).empty();
  const std::string hint = resumable ? "--resume auto" : "";
  throw UsageError("--out: '" + cfg_.out + "' holds another run (" + describe_files(files) + "); " +
                   (hint.empty() ? "" : "continue it with " + hint + ", or ") +
                   "start over with --overwrite, which removes " +
                   (files.size() == 1 ? "it" : "them"));
}

Trainer::~Trainer() = default;

}  // namespace sg
