#include "train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include <cblas.h>

#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "optim/adam.h"
#include "optim/adamw.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/cli.h"
#include "train/memory_check.h"

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

std::string format_duration(double s) {
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

}  // namespace

ModelConfig model_config(const Config& c, int64_t src_vocab, int64_t tgt_vocab) {
  ModelConfig m;
  m.src_vocab = src_vocab;
  m.tgt_vocab = tgt_vocab;
  m.d_model = c.d_model;
  m.heads = c.heads;
  m.enc_layers = c.enc_layers;
  m.dec_layers = c.dec_layers;
  m.d_ff = c.ff;
  m.dropout = c.dropout;
  m.norm_first = c.norm_first;
  m.max_len = std::max<int64_t>(512, 2 * c.max_len + 16);
  return m;
}

Trainer::Trainer(Config cfg, const std::vector<std::string>& given)
    : cfg_(std::move(cfg)), tty_(::isatty(STDERR_FILENO) != 0) {
  if (cfg_.out.empty()) cfg_.out = "runs/" + cfg_.task;
  std::string resume = cfg_.resume;
  if (resume == "auto") {
    const fs::path latest = fs::path(cfg_.out) / "latest.h5";
    resume = fs::exists(latest) ? latest.string() : "";
  }
  std::unique_ptr<CheckpointContents> ck;
  if (!resume.empty()) {
    ck = std::make_unique<CheckpointContents>(read_checkpoint(resume));
    // The checkpoint decides the model, data and optimizer; only run options may change.
    const nlohmann::json mine = cfg_.to_json();
    nlohmann::json merged = ck->config.to_json();
    for (const std::string& option : given) {
      const std::string key = json_key(option);
      if (may_change_on_resume(option) || !mine.contains(key)) continue;
      if (merged.contains(key) && merged[key] != mine[key])
        throw cli::UsageError("--" + option + ": " + mine[key].dump() +
                              " contradicts the checkpoint's " + merged[key].dump() + " (" +
                              resume + ")");
    }
    for (const char* o : {"steps", "out", "save-every", "keep", "eval-every", "threads", "json",
                          "log-every", "patience", "resume"})
      merged[json_key(o)] = mine[json_key(o)];
    cfg_ = Config::from_json(merged);
  }
  const int threads = cfg_.threads > 0
                          ? cfg_.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  set_num_threads(threads);
  openblas_set_num_threads(threads);

  std::error_code ec;
  fs::create_directories(cfg_.out, ec);
  if (ec || !fs::is_directory(cfg_.out))
    throw cli::RunError("--out: cannot create folder '" + cfg_.out + "': " + ec.message());
  remove_stale_temporaries(cfg_.out);

  std::vector<std::vector<std::string>> vocabs;
  if (ck) vocabs = {ck->src_vocab, ck->tgt_vocab};
  data_ = std::make_unique<DataSource>(cfg_, ck ? &vocabs : nullptr);
  if (cfg_.epochs > 0) {
    if (data_->is_stream())
      throw cli::UsageError("--epochs: only a TSV corpus has epochs; use --steps");
    cfg_.steps = cfg_.epochs * data_->batches_per_epoch();
  }
  check_model_fits(cfg_, data_->src_vocab().size(), data_->tgt_vocab().size(), true);
  model_ = std::make_unique<Seq2SeqTransformer>(
      model_config(cfg_, data_->src_vocab().size(), data_->tgt_vocab().size()), cfg_.seed);
  build_optimizer();
  if (ck) {
    load_model(resume, *model_);
    load_optimizer(resume, *opt_);
    st_ = ck->state;
    data_->restore(st_);
    auto d = st_.rngs.find("dropout");
    if (d == st_.rngs.end()) throw cli::RunError(resume + ": missing /rng/dropout");
    model_->dropout_generator().set_state(d->second);
    last_saved_ = resume;
  }
}

Trainer::~Trainer() = default;

void Trainer::build_optimizer() {
  NamedParams params = model_->named_parameters();
  if (cfg_.optim == "sgd") {
    SgdOptions o;
    o.lr = cfg_.lr;
    o.momentum = cfg_.momentum;
    o.nesterov = cfg_.nesterov;
    o.weight_decay = cfg_.weight_decay;
    opt_ = std::make_unique<Sgd>(params, o);
    return;
  }
  AdamOptions o;
  o.lr = cfg_.lr;
  o.beta1 = cfg_.beta1;
  o.beta2 = cfg_.beta2;
  o.eps = cfg_.eps;
  o.weight_decay = cfg_.weight_decay;
  if (cfg_.optim == "adamw")
    opt_ = std::make_unique<AdamW>(params, o);
  else
    opt_ = std::make_unique<Adam>(params, o);
}

double Trainer::lr_at(int64_t update) const {
  Schedule s;
  s.kind = parse_schedule_kind(cfg_.schedule);
  s.base_lr = cfg_.lr;
  s.warmup = cfg_.warmup;
  s.d_model = cfg_.d_model;
  s.total_steps = cfg_.steps;
  return schedule_lr(s, update);
}

double Trainer::train_step(const Batch& b) {
  const Tensor loss = model_->loss(b.src, b.tgt_in, b.tgt_out, cfg_.label_smoothing);
  const double value = loss.item();
  if (!std::isfinite(value)) return value;
  opt_->zero_grad(true);
  loss.backward();
  if (cfg_.clip_norm > 0) {
    const ClipResult c = clip_grad_norm(opt_->params(), cfg_.clip_norm);
    if (!c.finite) return std::numeric_limits<double>::quiet_NaN();
  }
  opt_->set_lr(lr_at(opt_->step_count() + 1));
  opt_->step();
  return value;
}

EvalResult Trainer::run_eval() {
  EvalOptions o;
  o.decode.beam = cfg_.beam;
  o.decode.max_len = cfg_.decode_max_len;
  return evaluate(*model_, data_->valid(), o);
}

std::string Trainer::save() {
  st_.epoch = data_->epoch();
  data_->save(st_);
  st_.rngs["dropout"] = model_->dropout_generator().state();
  const std::string name = "ckpt-" + std::to_string(st_.step) + ".h5";
  const fs::path path = fs::path(cfg_.out) / name;
  save_checkpoint(path.string(), *model_, opt_.get(), cfg_, data_->src_vocab().tokens(),
                  data_->tgt_vocab().tokens(), st_);
  // latest.h5 -> the new file, replaced atomically (a symlink made aside, then renamed).
  const fs::path latest = fs::path(cfg_.out) / "latest.h5";
  const fs::path tmp = fs::path(cfg_.out) / ".latest.h5.tmp-link";
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(name, tmp, ec);
  if (!ec) fs::rename(tmp, latest, ec);
  if (ec) throw std::runtime_error(latest.string() + ": cannot update: " + ec.message());
  // Keep the newest --keep numbered checkpoints.
  std::vector<std::pair<int64_t, fs::path>> ckpts;
  static const std::regex re("ckpt-([0-9]+)\\.h5");
  for (const auto& e : fs::directory_iterator(cfg_.out, ec)) {
    std::smatch m;
    const std::string f = e.path().filename().string();
    if (std::regex_match(f, m, re)) ckpts.emplace_back(std::stoll(m[1]), e.path());
  }
  std::sort(ckpts.begin(), ckpts.end());
  for (size_t i = 0; i + cfg_.keep < ckpts.size(); ++i) fs::remove(ckpts[i].second, ec);
  last_saved_ = path.string();
  return last_saved_;
}

void Trainer::save_best() {
  data_->save(st_);
  st_.rngs["dropout"] = model_->dropout_generator().state();
  save_checkpoint((fs::path(cfg_.out) / "best.h5").string(), *model_, opt_.get(), cfg_,
                  data_->src_vocab().tokens(), data_->tgt_vocab().tokens(), st_);
}

void Trainer::emit(const nlohmann::json& j) {
  if (cfg_.json) std::cout << j.dump() << std::endl;
  std::ofstream m(fs::path(cfg_.out) / "metrics.jsonl", std::ios::app);
  m << j.dump() << '\n';
}

void Trainer::log_train(double loss, double lr, double tokens_per_s, double eta_s) {
  emit({{"event", "train"},
        {"step", st_.step},
        {"epoch", data_->epoch()},
        {"loss", loss},
        {"lr", lr},
        {"tokens_per_s", tokens_per_s}});
  if (cfg_.json) return;
  char line[200];
  std::snprintf(line, sizeof line, "step %lld/%lld  loss %.4f  lr %.3g  %.0f tok/s  ETA %s",
                static_cast<long long>(st_.step), static_cast<long long>(cfg_.steps), loss, lr,
                tokens_per_s, format_duration(eta_s).c_str());
  if (tty_)
    std::cerr << '\r' << line << "\x1b[K" << std::flush;
  else
    std::cout << line << std::endl;
}

void Trainer::log_eval(const EvalResult& r, double elapsed_s) {
  emit({{"event", "eval"},
        {"step", st_.step},
        {"loss", r.loss},
        {"token_acc", r.token_acc},
        {"exact_match", r.exact_match},
        {"bleu", r.bleu},
        {"elapsed_s", elapsed_s}});
  if (cfg_.json) return;
  char line[200];
  std::snprintf(line, sizeof line,
                "eval step %lld  loss %.4f  token_acc %.4f  exact_match %.4f  bleu %.2f  (%.1fs)",
                static_cast<long long>(st_.step), r.loss, r.token_acc, r.exact_match, r.bleu,
                elapsed_s);
  if (tty_) std::cerr << '\r' << "\x1b[K";
  std::cout << line << std::endl;
}

int Trainer::run() {
  if (st_.step == 0 && cfg_.steps == 0) {
    const std::string path = save();
    emit({{"event", "done"}, {"step", st_.step}, {"checkpoint", path}});
    return 0;
  }
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const auto t0 = std::chrono::steady_clock::now();
  auto window = t0;
  int64_t window_tokens = 0, window_steps = 0;
  double window_loss = 0;
  int64_t last_eval = -1;
  const int64_t start = st_.step;
  while (st_.step < cfg_.steps) {
    const Batch b = data_->next();
    const double loss = train_step(b);
    if (!std::isfinite(loss)) {
      if (tty_ && !cfg_.json) std::cerr << '\n';
      throw cli::RunError("non-finite loss or gradient at step " + std::to_string(st_.step + 1) +
                          "; stopped. The last good checkpoint is " +
                          (last_saved_.empty() ? std::string("none") : last_saved_));
    }
    ++st_.step;
    window_tokens += b.n_tgt_tokens;
    window_loss += loss;
    ++window_steps;
    if (st_.step % cfg_.log_every == 0 || st_.step == cfg_.steps) {
      const double dt = seconds_since(window);
      const double per_step = seconds_since(t0) / static_cast<double>(st_.step - start);
      log_train(window_loss / window_steps, opt_->lr(), window_tokens / std::max(dt, 1e-9),
                per_step * static_cast<double>(cfg_.steps - st_.step));
      window = std::chrono::steady_clock::now();
      window_tokens = window_steps = 0;
      window_loss = 0;
    }
    bool stop_early = false;
    if (cfg_.eval_every > 0 && st_.step % cfg_.eval_every == 0 && !data_->valid().empty()) {
      const EvalResult r = run_eval();
      last_eval = st_.step;
      log_eval(r, seconds_since(t0));
      if (r.loss < st_.best_valid_loss) {
        st_.best_valid_loss = r.loss;
        st_.evals_without_improvement = 0;
        save_best();
      } else if (cfg_.patience > 0 && ++st_.evals_without_improvement >= cfg_.patience) {
        stop_early = true;
      }
    }
    if (cfg_.save_every > 0 && st_.step % cfg_.save_every == 0) save();
    if (g_stop_signal) {
      if (tty_ && !cfg_.json) std::cerr << '\n';
      const std::string path = save();
      throw cli::RunError(std::string("stopped by ") +
                          (g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM") + " at step " +
                          std::to_string(st_.step) + "; saved " + path +
                          " (continue with --resume auto)");
    }
    if (stop_early) break;
  }
  if (tty_ && !cfg_.json) std::cerr << '\n';
  if (last_eval != st_.step && !data_->valid().empty()) {
    const EvalResult r = run_eval();
    log_eval(r, seconds_since(t0));
    if (r.loss < st_.best_valid_loss) {
      st_.best_valid_loss = r.loss;
      save_best();
    }
  }
  const std::string path =
      (fs::path(cfg_.out) / ("ckpt-" + std::to_string(st_.step) + ".h5")).string();
  if (last_saved_ != path) save();
  emit({{"event", "done"}, {"step", st_.step}, {"checkpoint", last_saved_}});
  if (!cfg_.json) std::cout << "saved " << last_saved_ << std::endl;
  return 0;
}

}  // namespace sg
