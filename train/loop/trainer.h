// The training loop: batches from a DataSource, forward, loss, backward, clipping, optimizer and
// schedule, periodic evaluation and checkpoints, exact resume, and a clean stop on SIGINT or
// SIGTERM (the current step finishes, a checkpoint is saved, exit code 1). Shows a progress bar
// on a terminal (plain log lines when stderr is not one), or JSON lines (docs/cli.md) with
// --json. With --ema, a moving average of the weights after every update, which the evaluations
// (and so best.h5 and --patience) score; metrics.jsonl in --out either way, and report.html
// (train/draw/report.h) after every evaluation and at the end.
#pragma once

#include <memory>
#include <string>

#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/config/config.h"
#include "train/decode/evaluate.h"
#include "train/loop/data_source.h"

namespace sg {

class Ema;
class RunLock;
class Progress;

class Trainer {
 public:
  // `given` names the options the user set (on resume, any that would change the model, data or
  // optimizer of the checkpoint is a usage error naming it).
  Trainer(Config cfg, const std::vector<std::string>& given);
  ~Trainer();
  // Runs to cfg.steps (or epochs); returns the process exit code.
  int run();

 private:
  // A fresh run (or a resume from another folder) into a folder that holds another run is a
  // usage error saying how to continue that run or start over (--overwrite).
  void check_folder_is_free(const std::string& resume) const;
  double lr_at(int64_t update) const;
  // One optimizer update; returns the loss, or NaN (nothing applied) on a non-finite loss/norm.
  double train_step(const Batch& b);
  EvalResult run_eval();
  // The value of --best-metric in `r`, and whether `value` beats `best` (NaN: no value yet):
  // a lower loss, or a higher BLEU, chrF or exact match.
  double metric_of(const EvalResult& r) const;
  bool improves(double value, double best) const;
  // After an evaluation: best.h5 when the metric improves on every evaluation so far; with
  // `scheduled`, the --patience count too. Returns true when patience has run out.
  bool note_eval(const EvalResult& r, bool scheduled);
  // Saves ckpt-<step>.h5, points latest.h5 to it and prunes to --keep; returns its path.
  std::string save();
  void save_best();
  // Writes the full state to `path`; a failure is a RunError naming the last good checkpoint.
  void write_checkpoint(const std::string& path);
  bool saved_this_step() const;
  // pad_share: the <pad> share of the batches' src and tgt_out entries since the last line.
  void log_train(double loss, double lr, double tokens_per_s, double pad_share, double eta_s);
  void log_eval(const EvalResult& r, double elapsed_s);
  void emit(const nlohmann::json& j);
  // Rewrites report.html in --out (rank 0); a failure is a warning, once, and training goes on.
  void update_report();

  Config cfg_;
  std::unique_ptr<RunLock> lock_;  // held by rank 0 from the start to the end of the run
  std::unique_ptr<DataSource> data_;
  std::unique_ptr<Seq2SeqTransformer> model_;
  std::unique_ptr<Optimizer> opt_;
  std::unique_ptr<Ema> ema_;  // --ema: the moving average of the weights
  Schedule schedule_;
  TrainState st_;
  std::string last_saved_;
  std::unique_ptr<Progress> bar_;  // the training bar, on a terminal only
  bool report_failed_ = false;
};

}  // namespace sg
