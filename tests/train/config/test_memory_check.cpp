// The memory estimate that refuses models too large to build: its parameter count is exact,
// and a refusal is one line that names the size flags.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "layers/transformer.h"
#include "train/cli/cli.h"
#include "train/config/memory_check.h"
#include "train/config/model_config.h"
#include "train/loop/trainer.h"

namespace sg {
namespace {

double real_parameter_count(const Config& c, int64_t src_vocab, int64_t tgt_vocab) {
  const Seq2SeqTransformer m(model_config(c, src_vocab, tgt_vocab), 0);
  double n = 0;
  for (const auto& [name, p] : m.named_parameters()) n += static_cast<double>(p.numel());
  return n;
}

TEST(MemoryCheck, CountsExactlyTheParametersOfTheModel) {
  Config c;
  c.d_model = 12;
  c.heads = 3;
  c.ff = 20;
  for (auto [enc, dec] : {std::pair<int64_t, int64_t>{1, 1}, {2, 3}, {0, 2}}) {
    c.enc_layers = enc;
    c.dec_layers = dec;
    EXPECT_EQ(estimate_model_memory(c, 17, 23, false).parameters, real_parameter_count(c, 17, 23))
        << enc << " encoder, " << dec << " decoder layers";
  }
}

TEST(MemoryCheck, TrainingAddsGradientsAndOptimizerBuffers) {
  Config c;
  const ModelMemory infer = estimate_model_memory(c, 14, 14, false);
  c.optim = "adam";
  const ModelMemory adam = estimate_model_memory(c, 14, 14, true);
  c.optim = "sgd";
  c.momentum = 0;
  const ModelMemory sgd = estimate_model_memory(c, 14, 14, true);
  EXPECT_DOUBLE_EQ(adam.bytes - infer.bytes, 3 * 4 * infer.parameters);  // grad, exp_avg(_sq)
  EXPECT_DOUBLE_EQ(sgd.bytes - infer.bytes, 4 * infer.parameters);       // grad
}

TEST(MemoryCheck, RefusesAModelAboveTheBudgetNamingTheFlags) {
  Config c;
  c.d_model = 1000000;
  c.ff = 1000000;
  try {
    check_model_fits(c, 14, 14, true, 1e9);
    FAIL() << "a 3e13-parameter model was accepted";
  } catch (const cli::RunError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--d-model 1000000 --ff 1000000"), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not fit in memory"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  Config small;
  EXPECT_NO_THROW(check_model_fits(small, 14, 14, true, 1e9));
}

TEST(MemoryCheck, RefusesNonsenseSizesFromAHostileCheckpoint) {
  Config c;
  c.d_model = -8;
  EXPECT_THROW(estimate_model_memory(c, 14, 14, false), cli::RunError);
  c.d_model = 8;
  c.enc_layers = -1;
  EXPECT_THROW(estimate_model_memory(c, 14, 14, false), cli::RunError);
  c.enc_layers = 1;
  EXPECT_THROW(estimate_model_memory(c, 0, 14, false), cli::RunError);
  c.max_len = INT64_MIN;
  EXPECT_THROW(estimate_model_memory(c, 14, 14, false), cli::RunError);
  // max_len near INT64_MAX must not overflow on the way (the positional table is refused).
  c.max_len = INT64_MAX;
  EXPECT_THROW(check_model_fits(c, 14, 14, false, 1e9), cli::RunError);
}

TEST(MemoryCheck, ReadsMemAvailable) {
  EXPECT_GT(available_memory_bytes(), 0);  // Linux always has /proc/meminfo
}

}  // namespace
}  // namespace sg
