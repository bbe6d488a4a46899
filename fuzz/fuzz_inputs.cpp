#include "fuzz/fuzz_inputs.h"
#include "train/config/model_config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "datasets/tsv.h"
#include "layers/transformer.h"
#include "optim/make_optimizer.h"
#include "train/checkpoint/checkpoint.h"
#include "train/cli/options.h"
#include "train/config/memory_check.h"
#include "train/loop/trainer.h"

namespace sg::fuzz {

namespace {

// Models from mutated configs are refused above this (far below libFuzzer's -rss_limit_mb).
constexpr double kModelBudgetBytes = 64.0 * 1024 * 1024;

// Runs f; true if it returned, false if it threw what the CLI reports as a one-line error.
template <class F>
bool expected_errors_only(F f) {
  try {
    f();
    return true;
  } catch (const std::runtime_error&) {
    return false;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace

std::string TempFile::path_for(const std::string& target) {
  return (std::filesystem::temp_directory_path() /
          ("seqgrad-fuzz-" + target + "-" + std::to_string(::getpid())))
      .string();
}

TempFile::TempFile(const std::string& target, const uint8_t* data, size_t size)
    : path_(path_for(target)) {
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw std::logic_error("fuzz: cannot write " + path_);
}

TempFile::~TempFile() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

bool run_tsv(const uint8_t* data, size_t size) {
  if (size == 0) return false;
  TsvOptions opt;
  opt.tokenize = (data[0] & 1) ? TokenizeMode::character : TokenizeMode::word;
  opt.max_len = 1 + (data[0] >> 1);
  const TempFile file("tsv", data + 1, size - 1);
  return expected_errors_only([&] {
    const TsvCorpus c = TsvReader(opt).load(file.path(), "", 1);
    if (c.train.empty()) throw std::logic_error("fuzz: a TSV corpus without examples");
  });
}

bool run_config(const uint8_t* data, size_t size) {
  const TempFile file("config", data, size);
  return expected_errors_only([&] {
    Config c;
    const cli::po::options_description groups = cli::train_options(c);
    cli::po::variables_map vm;
    if (!cli::parse_config("train", {"--config", file.path()}, groups, c, vm))
      throw std::logic_error("fuzz: a config file asked to exit");
    cli::dump_ini(groups, vm);
  });
}

bool run_checkpoint(const uint8_t* data, size_t size) {
  const TempFile file("checkpoint", data, size);
  const std::string& path = file.path();
  return expected_errors_only([&] {
    const CheckpointContents c = read_checkpoint(path);
    const Vocab src(c.src_vocab), tgt(c.tgt_vocab);
    check_model_fits(c.config, src.size(), tgt.size(), true, kModelBudgetBytes);
    Seq2SeqTransformer model(model_config(c.config, src.size(), tgt.size()), c.config.seed);
    load_model(path, model);
    const auto opt = make_optimizer(c.config.optim, model.named_parameters(), {{"lr", 1e-3}});
    load_optimizer(path, *opt);
  });
}

}  // namespace sg::fuzz
