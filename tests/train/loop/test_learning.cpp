// A tiny overfit run through the executable: a tiny model learns a few TSV pairs by heart within a
// few hundred steps (loss near zero, exact match 1.0), `train --json` prints the events of
// docs/cli.md, and `translate` turns the sources into their targets, from stdin and from --input,
// one output line per input line (an empty input line included).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/train/test_cli_run.h"

namespace sg {
namespace {

using testing::concat;
using testing::run_seqgrad;
using testing::ScratchDir;

const std::vector<std::pair<std::string, std::string>> kPairs = {
    {"the cat sleeps", "le chat dort"},     {"the dog eats", "le chien mange"},
    {"a cat eats", "un chat mange"},        {"a dog sleeps", "un chien dort"},
    {"the bird sings", "l' oiseau chante"}, {"one two three", "un deux trois"},
    {"red car", "voiture rouge"},           {"the big red house", "la grande maison rouge"},
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

class Learning : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    std::string tsv;
    for (const auto& [s, t] : kPairs) tsv += s + "\t" + t + "\n";
    const std::string file = dir_->write("pairs.tsv", tsv);
    *train_ =
        run_seqgrad(concat({"train", "--task",       "tsv", "--train",      file,    "--valid",
                            file,    "--batch",      "8",   "--steps",      "300",   "--lr",
                            "0.003", "--warmup",     "30",  "--eval-every", "100",   "--log-every",
                            "50",    "--save-every", "0",   "--json",       "--out", *dir_ / "run"},
                           testing::cli_tiny_model()),
                    *dir_);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string checkpoint() { return *dir_ / "run/latest.h5"; }

  static ScratchDir* dir_;
  static testing::RunResult* train_;
};

ScratchDir* Learning::dir_ = nullptr;
testing::RunResult* Learning::train_ = new testing::RunResult;

TEST_F(Learning, TinyModelOverfitsAFewPairs) {
  ASSERT_EQ(train_->code, 0) << train_->err;
  EXPECT_EQ(train_->err, "");
  // --json: nothing but JSON objects on stdout, the fields of docs/cli.md per event.
  std::vector<nlohmann::json> evals, trains, done;
  for (const auto& line : lines_of(train_->out)) {
    const auto j = nlohmann::json::parse(line);
    const std::string event = j.at("event");
    if (event == "train") {
      for (const char* k : {"step", "epoch", "loss", "lr", "tokens_per_s"})
        EXPECT_TRUE(j.contains(k)) << k << " in " << line;
      trains.push_back(j);
    } else if (event == "eval") {
      for (const char* k : {"step", "loss", "token_acc", "exact_match"})
        EXPECT_TRUE(j.contains(k)) << k << " in " << line;
      evals.push_back(j);
    } else {
      EXPECT_EQ(event, "done");
      done.push_back(j);
    }
  }
  ASSERT_EQ(trains.size(), 6u);
  ASSERT_EQ(evals.size(), 3u);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["step"], 300);
  EXPECT_EQ(done[0]["checkpoint"], *dir_ / "run/ckpt-300.h5");
  EXPECT_LT(trains.back()["loss"].get<double>(), 0.05);
  EXPECT_LT(trains.back()["loss"].get<double>(), trains.front()["loss"].get<double>());
  EXPECT_LT(evals.back()["loss"].get<double>(), 0.05);
  EXPECT_EQ(evals.back()["token_acc"], 1.0);
  EXPECT_EQ(evals.back()["exact_match"], 1.0);
  // The same events went to metrics.jsonl.
  EXPECT_EQ(lines_of(testing::read_all(*dir_ / "run/metrics.jsonl")).size(), 10u);
}

TEST_F(Learning, EvalAgreesOnTheTrainedModel) {
  const auto r = run_seqgrad(
      {"eval", "--checkpoint", checkpoint(), "--json", "--threads", "1", "--beam", "2"}, *dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n"], kPairs.size());
  EXPECT_EQ(j["exact_match"], 1.0);
  EXPECT_NEAR(j["bleu"].get<double>(), 100.0, 1e-9);
}

TEST_F(Learning, TranslateTurnsSourcesIntoTargets) {
  // stdin: one output line per input line, an empty line (and CRLF) included.
  std::string input;
  std::vector<std::string> expected;
  for (size_t i = 0; i < kPairs.size(); ++i) {
    input += kPairs[i].first + (i == 2 ? "\r\n" : "\n");
    expected.push_back(kPairs[i].second);
    if (i == 3) {
      input += "\n";
      expected.push_back("");  // placeholder, checked apart
    }
  }
  for (const std::string beam : {"1", "3"}) {
    const auto r = run_seqgrad({"translate", "--threads", "1", "--checkpoint", checkpoint(),
                                "--beam", beam, "--batch", "3"},
                               *dir_, input);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const auto out = lines_of(r.out);
    ASSERT_EQ(out.size(), expected.size()) << r.out;
    for (size_t i = 0; i < out.size(); ++i) {
      if (i == 4) continue;  // the empty line: any output, but a line of its own
      EXPECT_EQ(out[i], expected[i]) << "line " << i + 1 << ", beam " << beam;
    }
  }
  // --input: exactly one line.
  const auto one = run_seqgrad(
      {"translate", "--threads", "1", "--checkpoint", checkpoint(), "--input", "red car"}, *dir_);
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "voiture rouge\n");
  const auto empty = run_seqgrad(
      {"translate", "--threads", "1", "--checkpoint", checkpoint(), "--input", ""}, *dir_);
  ASSERT_EQ(empty.code, 0) << empty.err;
  EXPECT_EQ(lines_of(empty.out).size(), 1u) << empty.out;
  // --json: the source and its translation.
  const auto js = run_seqgrad({"translate", "--threads", "1", "--checkpoint", checkpoint(),
                               "--json", "--input", "the dog eats"},
                              *dir_);
  ASSERT_EQ(js.code, 0) << js.err;
  const auto j = nlohmann::json::parse(js.out);
  EXPECT_EQ(j["source"], "the dog eats");
  EXPECT_EQ(j["translation"], "le chien mange");
}

}  // namespace
}  // namespace sg
