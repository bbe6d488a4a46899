// seqgrad bench: training throughput on the reference recipe (docs/cli.md), the same work per
// step as `python3 -m seqgrad_torch throughput`: random copy batches of fixed length (no
// padding), forward, mean cross-entropy, backward, global-norm clipping at 1.0, Adam(1e-3,
// 0.9/0.98, 1e-9), no dropout. 8 batches are drawn up front and cycled; a few warm-up steps are
// not timed.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include <cblas.h>

#include "autograd/parallel.h"
#include "datasets/batch.h"
#include "datasets/vocab.h"
#include "layers/transformer.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "train/cli/options.h"
#include "train/config/model_config.h"
#include "train/decode/decode.h"

namespace sg::cli {

namespace {

// The model options are train's (model_options); the bench adds its batches and modes, and times
// 30 steps on one thread unless told otherwise.
struct BenchConfig : Config {
  BenchConfig() {
    steps = 30;
    threads = 1;
  }
  int64_t length = 10, warmup_steps = 3;
  int64_t decode = 0;  // > 0: time greedy decoding of this many sequences instead of training
  bool sgemm = false;  // time plain cblas_sgemm instead of training
};

const std::string kImpl = std::string("seqgrad-") + SEQGRAD_VERSION;  // the JSON "impl" field

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Matmul FLOPs of one forward pass (2 per multiply-add); a training step is about 3x this.
double forward_flops(const BenchConfig& c, int64_t V) {
  const double B = c.batch, S = c.length + 1, T = c.length + 1, d = c.d_model, f = c.ff;
  const double enc =
      2 * B * S * d * 3 * d + 2 * 2 * B * S * S * d + 2 * B * S * d * d + 2 * 2 * B * S * d * f;
  const double dec = 2 * B * T * d * 3 * d + 2 * 2 * B * T * T * d + 2 * B * T * d * d  // self
                     + 2 * B * T * d * d + 2 * B * S * d * 2 * d + 2 * 2 * B * T * S * d +
                     2 * B * T * d * d  // cross
                     + 2 * 2 * B * T * d * f;
  return c.enc_layers * enc + c.dec_layers * dec + 2 * B * T * d * V;
}

Batch copy_batch(Generator& g, const BenchConfig& c) {
  std::vector<Example> ex(c.batch);
  for (auto& e : ex) {
    for (int64_t i = 0; i < c.length; ++i)
      e.src.push_back(Vocab::kNumSpecial + static_cast<int64_t>(g.below(c.symbols)));
    e.tgt = e.src;
  }
  return make_batch(ex);
}

// Greedy decoding of c.decode random copy sources in one batch, length + 1 steps (the work of
// seqgrad_torch's greedy_exact on the same sizes), on the cached incremental decoder.
int bench_decode(Seq2SeqTransformer& model, const BenchConfig& c) {
  Generator g(12345);
  BenchConfig bc = c;
  bc.batch = c.decode;
  const Batch b = copy_batch(g, bc);
  model.eval();
  DecodeOptions d;
  d.max_len = c.length + 1;
  greedy_decode(model, b.src, d);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = greedy_decode(model, b.src, d);
  const double dt = seconds_since(t0);
  const nlohmann::json j = {{"impl", kImpl},
                            {"mode", "decode"},
                            {"sequences", c.decode},
                            {"seconds", dt},
                            {"sequences_per_s", c.decode / dt}};
  if (c.json)
    std::cout << j.dump() << std::endl;
  else
    std::printf("decoded %lld sequences in %.3f s (%.0f sequences/s)\n",
                static_cast<long long>(c.decode), dt, c.decode / dt);
  return 0;
}

// The sgemm rate the training step is measured against: plain cblas_sgemm, C = A B, on a large
// square product (the rate OpenBLAS peaks at) and on the step's largest product, the first
// feed-forward GEMM (B*T, ff) = (B*T, d) (d, ff). Each shape runs for at least a second after one
// untimed call.
int bench_sgemm(const BenchConfig& c) {
  struct Gemm {
    const char* name;
    int64_t m, n, k;
  };
  // Plain sgemm is OpenBLAS threading the product itself at --threads (the training step keeps it
  // single-threaded and splits products over its own threads, autograd/gemm.h).
  openblas_set_num_threads(c.threads);
  const int64_t bt = c.batch * (c.length + 1);
  const Gemm shapes[] = {{"square", 2048, 2048, 2048}, {"feed_forward", bt, c.ff, c.d_model}};
  nlohmann::json results = nlohmann::json::array();
  for (const Gemm& s : shapes) {
    std::vector<float> a(s.m * s.k), b(s.k * s.n), out(s.m * s.n);
    Generator g(7);
    for (float& v : a) v = static_cast<float>(g.uniform() - 0.5);
    for (float& v : b) v = static_cast<float>(g.uniform() - 0.5);
    auto run = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, a.data(), s.k,
                  b.data(), s.n, 0.0f, out.data(), s.n);
    };
    run();
    int64_t calls = 0;
    double dt = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (dt < 1.0) {
      run();
      ++calls;
      dt = seconds_since(t0);
    }
    const double gflops = 2.0 * s.m * s.n * s.k * calls / dt / 1e9;
    results.push_back({{"shape", s.name}, {"m", s.m}, {"n", s.n}, {"k", s.k}, {"gflops", gflops}});
    if (!c.json)
      std::printf("sgemm %-12s %5lld x %5lld x %5lld  %.1f GFLOP/s\n", s.name,
                  static_cast<long long>(s.m), static_cast<long long>(s.n),
                  static_cast<long long>(s.k), gflops);
  }
  if (c.json)
    std::cout << nlohmann::json{{"impl", kImpl},
                                {"mode", "sgemm"},
                                {"threads", c.threads},
                                {"sgemm", results}}
                     .dump()
              << std::endl;
  return 0;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  BenchConfig c;
  po::options_description bench("bench");
  bench.add_options()("batch", po::value(&c.batch)->default_value(c.batch), "sequences per batch")(
      "length", po::value(&c.length)->default_value(c.length), "symbols per sequence")(
      "symbols", po::value(&c.symbols)->default_value(c.symbols), "distinct symbols")(
      "steps", po::value(&c.steps)->default_value(c.steps), "timed steps")(
      "warmup-steps", po::value(&c.warmup_steps)->default_value(c.warmup_steps),
      "untimed steps first")("threads", po::value(&c.threads)->default_value(c.threads), "threads")(
      "decode", po::value(&c.decode)->default_value(0),
      "time cached greedy decoding of N copy sequences (eval mode) instead of training")(
      "sgemm", po::bool_switch(&c.sgemm),
      "time plain cblas_sgemm (a 2048^3 product and the feed-forward GEMM) instead of training")(
      "json", po::bool_switch(&c.json), "print one JSON object");
  po::options_description groups;
  groups.add(model_options(c)).add(bench);
  po::variables_map vm;
  if (!parse_config("bench", args, groups, c, vm)) return 0;
  for (auto [name, v] : {std::pair{"length", c.length}, {"steps", c.steps}})
    if (v <= 0) throw UsageError(std::string("--") + name + ": must be positive");
  if (c.length > 10000)
    throw UsageError("--length: at most 10000, got " + std::to_string(c.length));
  for (auto [name, v] : {std::pair{"warmup-steps", c.warmup_steps}, {"decode", c.decode}})
    if (v < 0)
      throw UsageError(std::string("--") + name + ": must be at least 0, got " + std::to_string(v));
  // The positional table holds every position of a sequence and its <eos> (as --max-len does for
  // train).
  c.max_len = std::max(c.max_len, c.length);
  if (c.threads < 1) throw UsageError("--threads: must be at least 1");
  use_threads(c.threads);
  if (c.sgemm) return bench_sgemm(c);

  const int64_t V = Vocab::kNumSpecial + c.symbols;
  const ModelConfig mc = model_config(c, V, V);
  Seq2SeqTransformer model(mc, 0);
  if (c.decode > 0) return bench_decode(model, c);
  AdamOptions ao;
  ao.lr = 1e-3;
  ao.beta1 = 0.9;
  ao.beta2 = 0.98;
  ao.eps = 1e-9;
  Adam opt(model.named_parameters(), ao);
  Generator g(1);
  std::vector<Batch> batches;
  for (int i = 0; i < 8; ++i) batches.push_back(copy_batch(g, c));
  double loss = 0;
  auto step = [&](const Batch& b) {
    Tensor l = model.loss(b.src, b.tgt_in, b.tgt_out);
    opt.zero_grad(true);
    l.backward();
    opt.step(clip_grad_norm(opt.params(), 1.0, NonFinite::report, ClipApply::defer).coef);
    loss = l.item();
  };
  for (int64_t i = 0; i < c.warmup_steps; ++i) step(batches[i % 8]);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < c.steps; ++i) step(batches[i % 8]);
  const double dt = seconds_since(t0);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double tokens = static_cast<double>(c.steps * c.batch * (c.length + 1));
  const double gflops = 3 * forward_flops(c, mc.tgt_vocab) * c.steps / dt / 1e9;
  const nlohmann::json out = {{"impl", kImpl},
                              {"tokens_per_s", tokens / dt},
                              {"ms_per_step", 1000 * dt / c.steps},
                              {"peak_rss_mb", ru.ru_maxrss / 1024.0},
                              {"gflops", gflops},
                              {"loss", loss},
                              {"config",
                               {{"d_model", c.d_model},
                                {"heads", c.heads},
                                {"enc_layers", c.enc_layers},
                                {"dec_layers", c.dec_layers},
                                {"ff", c.ff},
                                {"batch", c.batch},
                                {"length", c.length},
                                {"symbols", c.symbols},
                                {"steps", c.steps},
                                {"threads", c.threads}}}};
  if (c.json) {
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("%.0f tokens/s  %.2f ms/step  peak RSS %.1f MB  %.1f GFLOP/s  loss %.4f\n",
                tokens / dt, 1000 * dt / c.steps, ru.ru_maxrss / 1024.0, gflops, loss);
  }
  return 0;
}

}  // namespace sg::cli
