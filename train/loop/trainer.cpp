// The training loop (trainer.h): steps over the batches, evaluations and best.h5, checkpoints,
// the log lines and metrics.jsonl, the report, and the stop on a signal. Trainer's construction (a
// fresh run or a resume) is in trainer_setup.cpp.
#include "train/loop/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "optim/clip.h"
#include "optim/ema.h"
#include "optim/schedule.h"
#include "progress/progress.h"
#include "train/config/errors.h"
#include "train/draw/report.h"
#include "train/loop/distributed.h"
#include "train/loop/run_folder.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) {
  g_stop_signal = sig;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string format_duration(double s) {
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

// Rows [begin, end) of a batch (this rank's share of the global batch), padding kept.
Batch rows_of(const Batch& b, int64_t begin, int64_t end) {
  auto take = [&](const IntTensor& t) {
    const int64_t w = t.shape[1];
    return IntTensor({end - begin, w},
                     std::vector<int64_t>(t.data.begin() + begin * w, t.data.begin() + end * w));
  };
  Batch r;
  if (b.has_images())
    r.images = slice(b.images, 0, begin, end).contiguous_data();
  else
    r.src = take(b.src);
  r.tgt_in = take(b.tgt_in);
  r.tgt_out = take(b.tgt_out);
  for (int64_t v : r.src.data) r.n_src_tokens += v != 0;
  for (int64_t v : r.tgt_out.data) r.n_tgt_tokens += v != 0;
  return r;
}

// While it lives, the model's parameters hold the moving averages of --ema (nothing without
// one): evaluations score the averaged weights, as Marian's --exponential-smoothing does.
// Swapping values is exact, so training goes on from the same bits afterwards.
class AveragedWeights {
 public:
  explicit AveragedWeights(Ema* ema) : ema_(ema) {
    if (ema_) ema_->swap();
  }
  ~AveragedWeights() {
    if (ema_) ema_->swap();
  }
  AveragedWeights(const AveragedWeights&) = delete;
  AveragedWeights& operator=(const AveragedWeights&) = delete;

 private:
  Ema* ema_;
};

}  // namespace

double Trainer::lr_at(int64_t update) const {
  return schedule_lr(schedule_, update);
}

// Under MPI each rank takes rows [r B / N, (r + 1) B / N) of the global batch; with
// --micro-batches M its share is further cut into M consecutive pieces whose gradients accumulate.
// Each piece's mean loss is scaled by its share of the batch's target tokens, so the gradients
// summed over pieces and ranks are those of the global mean, and every rank applies the same
// update. One process with M = 2 sums its two gradients exactly as a 2-rank allreduce does.
double Trainer::train_step(const Batch& global) {
  const int64_t B = global.size(), r = dist::rank(), n = dist::size();
  const int64_t lo = r * B / n, hi = (r + 1) * B / n,
                pieces = std::min(cfg_.micro_batches, hi - lo);
  const bool whole = !dist::active() && pieces <= 1;
  opt_->zero_grad(true);
  double value = 0;
  for (int64_t k = 0; k < std::max<int64_t>(pieces, 1); ++k) {
    const Batch b =
        whole ? global
              : rows_of(global, lo + k * (hi - lo) / pieces, lo + (k + 1) * (hi - lo) / pieces);
    // A batch of fewer rows than ranks (--max-tokens: long sentences) leaves some rank none.
    if (b.size() == 0) continue;
    Tensor loss = model_->loss(source_of(b), b.tgt_in, b.tgt_out, cfg_.label_smoothing);
    if (!whole)
      loss = mul(loss, global.n_tgt_tokens > 0
                           ? static_cast<double>(b.n_tgt_tokens) / global.n_tgt_tokens
                           : 0.0);
    const double v = loss.item();
    value += v;
    if (std::isfinite(v)) loss.backward();
  }
  dist::allreduce_sum(&value, 1);
  if (!std::isfinite(value)) return value;
  dist::allreduce_gradients(opt_->params());
  float coef = 1;
  if (cfg_.clip_norm > 0) {
    const ClipResult c =
        clip_grad_norm(opt_->params(), cfg_.clip_norm, NonFinite::report, ClipApply::defer);
    if (!c.finite) return std::numeric_limits<double>::quiet_NaN();
    coef = c.coef;
  }
  opt_->set_lr(lr_at(opt_->step_count() + 1));
  opt_->step(coef);
  if (ema_) ema_->update();
  return value;
}

EvalResult Trainer::run_eval() {
  EvalOptions o;
  o.decode.beam = cfg_.beam;
  o.decode.max_len = cfg_.decode_max_len;
  o.decode.lengths = data_->train_lengths();
  // Its own bar on the training bar's line, erased when done; in a log, with the log lines.
  ProgressOptions po = ProgressOptions::automatic(cfg_.json || !dist::is_root());
  po.leave = false;
  if (po.style == ProgressStyle::lines) po.out = &std::cout;
  if (bar_) bar_->clear();
  const bool images = !data_->valid_images().empty();
  const auto n = images ? data_->valid_images().size() : data_->valid().size();
  Progress progress("eval", static_cast<int64_t>(n), "sequences", po);
  o.progress = &progress;
  o.detokenize = [this](const std::vector<int64_t>& ids) { return data_->tgt_codec().decode(ids); };
  if (!data_->valid_refs().empty()) o.refs = &data_->valid_refs();
  const AveragedWeights averaged(ema_.get());
  return images ? evaluate(*model_, data_->valid_images(), o)
                : evaluate(*model_, data_->valid(), o);
}

double Trainer::metric_of(const EvalResult& r) const {
  if (cfg_.best_metric == "bleu") return r.bleu;
  if (cfg_.best_metric == "chrf") return r.chrf;
  if (cfg_.best_metric == "exact_match") return r.exact_match;
  return r.loss;
}

bool Trainer::improves(double value, double best) const {
  if (std::isnan(best)) return true;
  return cfg_.best_metric == "loss" ? value < best : value > best;
}

bool Trainer::note_eval(const EvalResult& r, bool scheduled) {
  const double value = metric_of(r);
  bool out_of_patience = false;
  if (scheduled) {
    if (improves(value, st_.patience_score)) {
      st_.patience_score = value;
      st_.evals_without_improvement = 0;
    } else if (cfg_.patience > 0 && ++st_.evals_without_improvement >= cfg_.patience) {
      out_of_patience = true;
    }
  }
  if (improves(value, st_.best_score)) {
    st_.best_score = value;
    save_best();
  }
  return out_of_patience;
}

void Trainer::write_checkpoint(const std::string& path) {
  st_.epoch = data_->epoch();
  data_->save(st_);
  st_.rngs["dropout"] = model_->dropout_generator().state();
  if (dist::active()) {
    // Each rank draws its own dropout masks: rank r's state is saved as /rng/dropout.r.
    const auto all = dist::allgather_state(model_->dropout_generator().state());
    for (size_t r = 1; r < all.size(); ++r) st_.rngs["dropout." + std::to_string(r)] = all[r];
  }
  if (!dist::is_root()) return;  // rank 0 alone writes; every rank keeps the same state
  try {
    save_checkpoint(path, *model_, opt_.get(), cfg_, data_->src_vocab().tokens(),
                    data_->tgt_vocab().tokens(), st_, data_->spm_model(), ema_.get());
  } catch (const std::exception& e) {
    throw RunError("cannot save checkpoint " + path + " (" + e.what() + "); " +
                   (last_saved_.empty() ? std::string("no earlier checkpoint")
                                        : "the last good checkpoint is " + last_saved_));
  }
}

std::string Trainer::save() {
  const std::string name = "ckpt-" + std::to_string(st_.step) + ".h5";
  const fs::path path = fs::path(cfg_.out) / name;
  write_checkpoint(path.string());
  if (!dist::is_root()) {
    last_saved_ = path.string();
    return last_saved_;
  }
  // latest.h5 -> the new file, replaced atomically (a symlink made aside, then renamed).
  const fs::path latest = fs::path(cfg_.out) / "latest.h5";
  const fs::path tmp = fs::path(cfg_.out) / (".latest.h5.tmp-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(name, tmp, ec);
  if (!ec) fs::rename(tmp, latest, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw RunError(latest.string() + ": cannot point it to " + name + ": " + ec.message());
  }
  sync_folder(cfg_.out);  // latest.h5 is durable before older checkpoints are removed
  last_saved_ = path.string();
  // Keep the newest --keep numbered checkpoints (latest.h5 already points to the newest).
  const auto ckpts = numbered_checkpoints(cfg_.out);
  for (size_t i = 0; i + static_cast<size_t>(cfg_.keep) < ckpts.size(); ++i)
    if (ckpts[i].second != name) fs::remove(fs::path(cfg_.out) / ckpts[i].second, ec);
  return last_saved_;
}

void Trainer::save_best() {
  write_checkpoint((fs::path(cfg_.out) / "best.h5").string());
}

void Trainer::emit(const nlohmann::json& j) {
  if (!dist::is_root()) return;
  if (cfg_.json) std::cout << j.dump() << std::endl;
  std::ofstream m(fs::path(cfg_.out) / "metrics.jsonl", std::ios::app);
  m << j.dump() << '\n';
}

void Trainer::log_train(double loss, double lr, double tokens_per_s, double pad_share,
                        double eta_s) {
  emit({{"event", "train"},
        {"step", st_.step},
        {"epoch", data_->epoch()},
        {"loss", loss},
        {"lr", lr},
        {"tokens_per_s", tokens_per_s},
        {"pad_share", pad_share}});
  if (cfg_.json || !dist::is_root()) return;
  char line[200];
  if (bar_) {
    std::snprintf(line, sizeof line, "loss %.4f  lr %.3g  %.0f tok/s  pad %.1f%%", loss, lr,
                  tokens_per_s, 100 * pad_share);
    bar_->set_note(line);
    return;
  }
  std::snprintf(line, sizeof line,
                "step %lld/%lld  loss %.4f  lr %.3g  %.0f tok/s  pad %.1f%%  ETA %s",
                static_cast<long long>(st_.step), static_cast<long long>(cfg_.steps), loss, lr,
                tokens_per_s, 100 * pad_share, format_duration(eta_s).c_str());
  std::cout << line << std::endl;
}

void Trainer::log_eval(const EvalResult& r, double elapsed_s) {
  emit({{"event", "eval"},
        {"step", st_.step},
        {"loss", r.loss},
        {"token_acc", r.token_acc},
        {"exact_match", r.exact_match},
        {"bleu", r.bleu},
        {"chrf", r.chrf},
        {"cut_at_max_len", r.cuts.count},
        {"elapsed_s", elapsed_s}});
  if (cfg_.json || !dist::is_root()) return;
  // Outputs cut at the decode length limit show up here rather than only as a lower score.
  const std::string cut =
      r.cuts.count ? "  cut_at_max_len " + std::to_string(r.cuts.count) : std::string();
  char line[240];
  std::snprintf(line, sizeof line,
                "eval step %lld  loss %.4f  token_acc %.4f  exact_match %.4f  bleu %.2f  chrf "
                "%.2f%s  (%.1fs)",
                static_cast<long long>(st_.step), r.loss, r.token_acc, r.exact_match, r.bleu,
                r.chrf, cut.c_str(), elapsed_s);
  if (bar_)
    bar_->print(line, std::cout);
  else
    std::cout << line << std::endl;
}

void Trainer::update_report() {
  if (!dist::is_root()) return;
  const std::string path = (fs::path(cfg_.out) / "report.html").string();
  try {
    ReportRun run = load_report_run(cfg_.out);
    run.config = cfg_.to_json();
    const AveragedWeights averaged(ema_.get());
    const std::string what = std::string(ema_ ? "the averaged model (--ema)" : "the model") +
                             " at step " + std::to_string(st_.step);
    if (!data_->valid_images().empty())
      add_attention(run, *model_, data_->tgt_codec(), data_->train_lengths(), data_->valid_images(),
                    3, what);
    else
      add_attention(run, *model_, data_->src_codec(), data_->tgt_codec(), data_->train_lengths(),
                    data_->valid(), 3, what);
    write_report(path, render_report({run}));
  } catch (const std::exception& e) {
    if (report_failed_) return;
    report_failed_ = true;
    const std::string line = std::string("seqgrad: warning: ") + path + " not written (" +
                             e.what() + "); training goes on";
    if (bar_)
      bar_->print(line, std::cerr);
    else
      std::cerr << line << std::endl;
  }
}

int Trainer::run() {
  if (st_.step == 0 && cfg_.steps == 0) {
    const std::string path = save();
    emit({{"event", "done"}, {"step", st_.step}, {"checkpoint", path}});
    update_report();
    if (!cfg_.json && dist::is_root()) std::cout << "saved " << path << std::endl;
    return 0;
  }
  // A stop signal only raises a flag: the current step finishes, a checkpoint is saved, and the
  // run ends with exit code 1 (docs/cli.md has no other failure code; the one error line
  // names the saved checkpoint). SA_RESETHAND: a second signal stops at once.
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const auto t0 = std::chrono::steady_clock::now();
  auto window = t0;
  int64_t window_tokens = 0, window_steps = 0;
  int64_t window_pad = 0, window_entries = 0;  // <pad> and all entries of src and tgt_out
  double window_loss = 0;
  int64_t last_eval = -1;
  const int64_t start = st_.step;
  if (!cfg_.json && dist::is_root() && ::isatty(STDERR_FILENO))
    bar_ = std::make_unique<Progress>("train", cfg_.steps, "steps",
                                      ProgressOptions::automatic(false), st_.step);
  while (st_.step < cfg_.steps) {
    const Batch b = data_->next();
    const double loss = train_step(b);
    if (!std::isfinite(loss)) {
      if (bar_) bar_->finish();
      throw RunError("non-finite loss or gradient at step " + std::to_string(st_.step + 1) +
                     "; stopped. The last good checkpoint is " +
                     (last_saved_.empty() ? std::string("none") : last_saved_));
    }
    ++st_.step;
    if (bar_) bar_->update(st_.step);
    window_tokens += b.n_tgt_tokens;
    window_pad += b.pad_entries();
    window_entries += b.src.numel() + b.tgt_out.numel();
    window_loss += loss;
    ++window_steps;
    if (st_.step % cfg_.log_every == 0 || st_.step == cfg_.steps) {
      const double dt = seconds_since(window);
      const double per_step = seconds_since(t0) / static_cast<double>(st_.step - start);
      log_train(window_loss / window_steps, opt_->lr(), window_tokens / std::max(dt, 1e-9),
                static_cast<double>(window_pad) / static_cast<double>(window_entries),
                per_step * static_cast<double>(cfg_.steps - st_.step));
      window = std::chrono::steady_clock::now();
      window_tokens = window_steps = window_pad = window_entries = 0;
      window_loss = 0;
    }
    // Evaluating, saving and writing the report are not training: their time stays out of the
    // tokens per second of the next log line.
    const auto set_aside = std::chrono::steady_clock::now();
    bool stop_early = false;
    if (cfg_.eval_every > 0 && st_.step % cfg_.eval_every == 0 && data_->has_valid()) {
      const EvalResult r = run_eval();
      last_eval = st_.step;
      log_eval(r, seconds_since(t0));
      stop_early = note_eval(r, true);
    }
    if (cfg_.save_every > 0 && st_.step % cfg_.save_every == 0) save();
    if (last_eval == st_.step) update_report();
    window += std::chrono::steady_clock::now() - set_aside;
    // Every rank stops at the same step, whichever of them got the signal.
    if (const int64_t sig = dist::allreduce_max(g_stop_signal); sig != 0) {
      g_stop_signal = static_cast<std::sig_atomic_t>(sig);
      const std::string path = saved_this_step() ? last_saved_ : save();
      update_report();
      if (bar_) bar_->finish();
      throw RunError(std::string("stopped by ") + (g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM") +
                     " at step " + std::to_string(st_.step) + "; saved " + path +
                     " (continue with --resume auto)");
    }
    if (stop_early) break;
  }
  // The extra evaluation at the end may update best.h5 but not the early-stopping state, which
  // only scheduled evaluations change (a straight run would not have evaluated here).
  if (last_eval != st_.step && data_->has_valid()) {
    const EvalResult r = run_eval();
    log_eval(r, seconds_since(t0));
    note_eval(r, false);
  }
  if (!saved_this_step()) save();
  emit({{"event", "done"}, {"step", st_.step}, {"checkpoint", last_saved_}});
  update_report();
  if (bar_) bar_->finish();
  if (!cfg_.json && dist::is_root()) std::cout << "saved " << last_saved_ << std::endl;
  return 0;
}

bool Trainer::saved_this_step() const {
  return last_saved_ ==
         (fs::path(cfg_.out) / ("ckpt-" + std::to_string(st_.step) + ".h5")).string();
}

}  // namespace sg
