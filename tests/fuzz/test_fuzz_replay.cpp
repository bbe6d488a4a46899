// Replays the fuzz targets' committed inputs (fuzz/fuzz_inputs.h) through the same code the
// libFuzzer binaries run: the seed corpora must replay cleanly with the real inputs among them
// accepted, and every input that once crashed must now be a clean, rejected error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_inputs.h"

namespace sg {
namespace {

namespace fs = std::filesystem;

using Target = bool (*)(const uint8_t*, size_t);

struct Input {
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<Input> inputs(const std::string& folder) {
  std::vector<Input> out;
  const fs::path dir = fs::path(SEQGRAD_SOURCE_DIR) / "fuzz" / folder;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename().string()[0] == '.') continue;
    std::ifstream in(e.path(), std::ios::binary);
    out.push_back({e.path().filename().string(),
                   std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {})});
  }
  return out;
}

const std::pair<const char*, Target> kTargets[] = {
    {"tsv", fuzz::run_tsv}, {"config", fuzz::run_config}, {"checkpoint", fuzz::run_checkpoint}};

TEST(FuzzReplay, SeedCorporaReplayCleanlyAndAcceptTheirValidInputs) {
  for (const auto& [name, run] : kTargets) {
    const auto seeds = inputs(std::string("corpus/") + name);
    EXPECT_GE(seeds.size(), 3u) << name;
    int accepted = 0;
    for (const auto& in : seeds) accepted += run(in.bytes.data(), in.bytes.size()) ? 1 : 0;
    EXPECT_GT(accepted, 0) << "no seed of " << name << " was accepted";
    EXPECT_LT(accepted, static_cast<int>(seeds.size())) << name << " has no invalid seed";
  }
}

TEST(FuzzReplay, EveryInputThatOnceFailedIsNowACleanError) {
  // fuzz/regressions/<target>/ holds what the fuzzer found: a config value that made
  // Program_options loop forever, a checkpoint whose float type claims gigabytes per element,
  // one whose vocabulary claims 2^60 strings.
  int replayed = 0;
  for (const auto& [name, run] : kTargets)
    for (const auto& in : inputs(std::string("regressions/") + name)) {
      EXPECT_FALSE(run(in.bytes.data(), in.bytes.size())) << name << "/" << in.name;
      ++replayed;
    }
  EXPECT_GE(replayed, 3);
}

// In the current format and in format version 1 (fuzz/make_checkpoint_seeds.sh).
TEST(FuzzReplay, RealCheckpointSeedsLoadCompletely) {
  for (const char* seed : {"adam-step0.h5", "adam-step1.h5", "sgd-tsv-step1.h5", "v1-adam-step0.h5",
                           "v1-adam-step1.h5", "v1-sgd-tsv-step1.h5"}) {
    std::ifstream in(fs::path(SEQGRAD_SOURCE_DIR) / "fuzz/corpus/checkpoint" / seed,
                     std::ios::binary);
    const std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    EXPECT_TRUE(fuzz::run_checkpoint(bytes.data(), bytes.size())) << seed;
  }
}

TEST(FuzzReplay, ReplaysLeaveNoFileInTheTempFolder) {
  const uint8_t bytes[] = {'a', '\t', 'b', '\n'};
  for (const auto& [name, run] : kTargets) {
    const fs::path file = fs::temp_directory_path() /
                          (std::string("seqgrad-fuzz-") + name + "-" + std::to_string(::getpid()));
    run(bytes, sizeof bytes);
    EXPECT_FALSE(fs::exists(file)) << file;
  }
}

}  // namespace
}  // namespace sg
