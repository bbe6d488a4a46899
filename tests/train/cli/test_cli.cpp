// The command line of docs/cli.md: --help everywhere, --config INI files (the command line
// wins), --dump-config read back giving the same configuration, exact option names (no prefix
// guessing), invalid values as usage errors naming the flag, and the one-line error contract.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/train/test_cli_run.h"
#include "train/cli/options.h"

namespace sg {
namespace {

using testing::concat;
using testing::expect_error;
using testing::run_seqgrad;
using testing::ScratchDir;

TEST(Cli, TopLevelHelpListsTheCommands) {
  ScratchDir dir;
  for (const std::string flag : {"--help", "-h"}) {
    const auto r = run_seqgrad({flag}, dir);
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.err, "");
    for (const char* c : {"train", "eval", "translate", "inspect", "gradcheck"})
      EXPECT_NE(r.out.find(std::string("  ") + c + " "), std::string::npos) << c << "\n" << r.out;
  }
}

TEST(Cli, EveryCommandHasHelpWithDefaults) {
  ScratchDir dir;
  // Each command, and options its help must show with their defaults.
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"train",
       {"--task arg (=copy)", "--batch arg (=64)", "--lr arg (=0.001)", "--d-model arg (=128)",
        "--heads arg (=4)", "--steps arg (=3000)", "--eval-every arg (=50)", "--no-shuffle",
        "--config arg", "--dump-config"}},
      {"eval", {"--checkpoint arg", "--data arg", "--beam arg (=1)", "--batch arg (=200)"}},
      {"translate", {"--checkpoint arg", "--input arg", "--beam arg (=1)"}},
      {"inspect", {"--checkpoint arg", "--json"}},
      {"gradcheck", {"--only arg", "--seed arg (=0)"}},
  };
  for (const auto& [command, shown] : cases) {
    const auto r = run_seqgrad({command, "--help"}, dir);
    EXPECT_EQ(r.code, 0) << command;
    EXPECT_EQ(r.err, "") << command;
    EXPECT_EQ(r.out.rfind("Usage: seqgrad " + command + " [options]\n\n", 0), 0u) << r.out;
    EXPECT_EQ(r.out.find("\n\n\n"), std::string::npos) << "blank lines in a row:\n" << r.out;
    for (const auto& s : shown) EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
}

TEST(Cli, NoCommandOrAnUnknownOneIsAUsageError) {
  ScratchDir dir;
  const auto none = run_seqgrad({}, dir);
  expect_error(none, 2, {"no command"});
  EXPECT_NE(none.out.find("Commands:"), std::string::npos);  // usage goes to stdout
  expect_error(run_seqgrad({"trian"}, dir), 2, {"unknown command 'trian'"});
}

TEST(Cli, PrefixGuessingIsOff) {
  ScratchDir dir;
  // Program_options would take --batc for --batch; exact names only.
  expect_error(run_seqgrad({"train", "--batc", "3", "--dump-config"}, dir), 2, {"--batc"});
  expect_error(run_seqgrad({"eval", "--check", "x.h5"}, dir), 2, {"--check"});
  const auto ok = run_seqgrad({"train", "--batch", "3", "--dump-config"}, dir);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("\nbatch = 3\n"), std::string::npos) << ok.out;
}

TEST(Cli, ConfigFileGivesOptionsAndTheCommandLineWins) {
  ScratchDir dir;
  const std::string ini = dir.write("run.ini",
                                    "# a comment\n"
                                    "batch = 7\n"
                                    "lr = 0.5\n"
                                    "norm-first = true\n"
                                    "task = reverse\n");
  const auto r = run_seqgrad(
      {"train", "--config", ini, "--lr", "0.25", "--task", "sort", "--dump-config"}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nbatch = 7\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nnorm-first = true\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nlr = 0.25\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ntask = sort\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("lr = 0.5"), std::string::npos) << r.out;
}

// Parses args as `seqgrad train` does and returns the effective configuration.
Config parse_train(const std::vector<std::string>& args) {
  Config c;
  const cli::po::options_description groups = cli::train_options(c);
  cli::po::variables_map vm;
  EXPECT_TRUE(cli::parse_config("train", args, groups, c, vm));
  return c;
}

TEST(Cli, DumpConfigReadsBackAsTheSameConfiguration) {
  ScratchDir dir;
  const std::vector<std::vector<std::string>> runs = {
      {},
      {"--task", "reverse", "--d-model", "64", "--heads", "8", "--no-shuffle", "--beta2", "0.997",
       "--norm-first", "--out", "somewhere", "--lr", "0.1", "--seed", "18446744073709551615"},
      {"--task", "tsv", "--train", "a.tsv", "--valid", "b.tsv", "--tokenize", "char"},
      {"--task", "tsv", "--train", "a.tsv", "--tokenize", "spm", "--vocab-size", "300"},
      {"--task", "tsv", "--train", "a.tsv", "--tokenize", "spm", "--spm-model", "a.model"},
  };
  for (const auto& args : runs) {
    const auto dumped = run_seqgrad(concat({"train"}, concat(args, {"--dump-config"})), dir);
    ASSERT_EQ(dumped.code, 0) << dumped.err;
    const std::string ini = dir.write("dumped.ini", dumped.out);
    const auto again = run_seqgrad({"train", "--config", ini, "--dump-config"}, dir);
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(again.out, dumped.out);
    // The effective configurations, field by field.
    EXPECT_EQ(parse_train({"--config", ini}).to_json(), parse_train(args).to_json()) << dumped.out;
  }
  // Values that depend on other options are dumped as the run uses them.
  const Config tsv = parse_train(runs[2]);
  EXPECT_EQ(tsv.max_len, cli::kTsvMaxLen);
  EXPECT_FALSE(parse_train(runs[1]).shuffle);
  EXPECT_TRUE(parse_train(runs[3]).shared_vocab);  // one vocabulary for both sides with spm
  const auto shown = run_seqgrad(concat({"train"}, concat(runs[1], {"--dump-config"})), dir);
  EXPECT_NE(shown.out.find("\nshuffle = false\n"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("\nbeta2 = 0.997\n"), std::string::npos) << shown.out;
}

TEST(Cli, ConfigFileErrors) {
  ScratchDir dir;
  expect_error(run_seqgrad({"train", "--config", "missing.ini"}, dir), 1,
               {"--config", "missing.ini"});
  const std::string unknown = dir.write("unknown.ini", "batch = 8\nbatc = 3\n");
  expect_error(run_seqgrad({"train", "--config", unknown}, dir), 2, {"unknown.ini", "batc"});
  const std::string bad_value = dir.write("value.ini", "batch = many\n");
  expect_error(run_seqgrad({"train", "--config", bad_value}, dir), 2, {"value.ini", "batch"});
  const std::string bad_heads = dir.write("heads.ini", "heads = 3\n");
  expect_error(run_seqgrad({"train", "--config", bad_heads, "--dump-config"}, dir), 2,
               {"--heads", "3", "--d-model 128"});
}

// A byte-order mark (Windows editors write one) was read as part of the first option's name:
// "unrecognised option '\xEF\xBB\xBFbatch'".
TEST(Cli, AConfigFileMayStartWithAByteOrderMark) {
  ScratchDir dir;
  const std::string ini = dir.write("bom.ini",
                                    "\xEF\xBB\xBF"
                                    "batch = 8\r\nseed = 3\r\n");
  const auto r = run_seqgrad({"train", "--config", ini, "--dump-config"}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nbatch = 8\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nseed = 3\n"), std::string::npos) << r.out;
}

TEST(Cli, OneConfigFileServesTrainAndTheDecodingCommands) {
  ScratchDir dir;
  // train's optimization and run options are skipped by eval and translate, which read the
  // options they share (the data options, --beam, --threads); eval's are skipped by train.
  const std::string ini = dir.write("run.ini",
                                    "task = reverse\n"
                                    "lr = 0.5\n"
                                    "steps = 300\n"
                                    "out = runs/x\n"
                                    "beam = 3\n"
                                    "length-penalty = 0.6\n"
                                    "threads = 1\n");
  for (const char* command : {"eval", "translate", "attention", "train"}) {
    const auto r = run_seqgrad({command, "--config", ini, "--dump-config"}, dir);
    ASSERT_EQ(r.code, 0) << command << ": " << r.err;
    EXPECT_NE(r.out.find("\ntask = reverse\n"), std::string::npos) << command << r.out;
    EXPECT_NE(r.out.find("\nthreads = 1\n"), std::string::npos) << command << r.out;
  }
  const auto eval = run_seqgrad({"eval", "--config", ini, "--dump-config"}, dir);
  EXPECT_NE(eval.out.find("\nbeam = 3\n"), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\nlength-penalty = 0.6\n"), std::string::npos) << eval.out;
  EXPECT_EQ(eval.out.find("lr ="), std::string::npos) << eval.out;
  const auto train = run_seqgrad({"train", "--config", ini, "--dump-config"}, dir);
  EXPECT_NE(train.out.find("\nlr = 0.5\n"), std::string::npos) << train.out;
  EXPECT_EQ(train.out.find("length-penalty"), std::string::npos) << train.out;
  // A name that no command takes is still an error, in every command.
  const std::string typo = dir.write("typo.ini", "task = reverse\nlearning-rate = 0.5\n");
  for (const char* command : {"eval", "translate", "train"})
    expect_error(run_seqgrad({command, "--config", typo}, dir), 2, {"typo.ini", "learning-rate"});
}

TEST(Cli, InspectGradcheckAndAverageReadConfigFilesToo) {
  ScratchDir dir;
  // The experiment's file: train's names are skipped, the command's own are read, and the
  // command line wins.
  const std::string ini = dir.write("run.ini",
                                    "task = reverse\n"
                                    "lr = 0.5\n"
                                    "only = matmul\n"
                                    "seed = 7\n"
                                    "json = true\n");
  const auto grad =
      run_seqgrad({"gradcheck", "--config", ini, "--seed", "3", "--dump-config"}, dir);
  ASSERT_EQ(grad.code, 0) << grad.err;
  EXPECT_NE(grad.out.find("\nonly = matmul\n"), std::string::npos) << grad.out;
  EXPECT_NE(grad.out.find("\nseed = 3\n"), std::string::npos) << grad.out;
  EXPECT_EQ(grad.out.find("lr ="), std::string::npos) << grad.out;
  // Read for real: only the matmul rows run, one JSON object each.
  const auto rows = run_seqgrad({"gradcheck", "--config", ini}, dir);
  ASSERT_EQ(rows.code, 0) << rows.err;
  EXPECT_EQ(rows.out.rfind("{", 0), 0u) << rows.out;
  EXPECT_NE(rows.out.find("matmul"), std::string::npos) << rows.out;
  EXPECT_EQ(rows.out.find("layer_norm"), std::string::npos) << rows.out;
  const std::string ck = dir.write("inspect.ini", "checkpoint = missing.h5\njson = true\n");
  const auto shown = run_seqgrad({"inspect", "--config", ck, "--dump-config"}, dir);
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\ncheckpoint = missing.h5\n"), std::string::npos) << shown.out;
  expect_error(run_seqgrad({"inspect", "--config", ck}, dir), 1, {"missing.h5"});
  const std::string avg = dir.write("avg.ini", "out = avg.h5\ninputs = a.h5\ninputs = b.h5\n");
  const auto a = run_seqgrad({"average", "--config", avg, "--dump-config"}, dir);
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.out.find("\ninputs = a.h5\ninputs = b.h5\n"), std::string::npos) << a.out;
  // A name no command takes, and a missing file, are errors naming them.
  const std::string typo = dir.write("typo.ini", "onyl = matmul\n");
  for (const char* command : {"gradcheck", "inspect", "average"}) {
    expect_error(run_seqgrad({command, "--config", typo}, dir), 2, {"typo.ini", "onyl"});
    expect_error(run_seqgrad({command, "--config", "nowhere.ini"}, dir), 1, {"nowhere.ini"});
  }
}

TEST(Cli, InvalidValuesAreUsageErrorsNamingTheFlag) {
  ScratchDir dir;
  // --dump-config makes a valid command exit at once instead of training.
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> cases = {
      {{"--heads", "3"}, {"--heads", "does not divide --d-model 128"}},
      {{"--d-model", "30"}, {"--d-model", "not divisible by --heads 4"}},
      {{"--heads", "7", "--d-model", "30"}, {"--heads"}},
      {{"--heads", "0"}, {"--heads"}},
      {{"--lr", "-1"}, {"--lr"}},
      {{"--lr=-0.001"}, {"--lr"}},
      {{"--lr", "nan"}, {"--lr"}},
      {{"--batch", "0"}, {"--batch"}},
      {{"--batch", "-4"}, {"--batch"}},
      {{"--batch", "abc"}, {"--batch"}},
      {{"--task", "translate"}, {"--task", "translate"}},
      {{"--optim", "rmsprop"}, {"--optim", "rmsprop"}},
      {{"--schedule", "step"}, {"--schedule"}},
      {{"--best-metric", "ter"}, {"--best-metric", "ter"}},
      {{"--tokenize", "bpe"}, {"--tokenize"}},
      {{"--dropout", "1"}, {"--dropout"}},
      {{"--beta2", "1.5"}, {"--beta2"}},
      {{"--min-len", "12"}, {"--min-len", "--max-len 10"}},
      {{"--max-len", "0"}, {"--max-len"}},
      {{"--enc-layers", "0"}, {"--enc-layers"}},
      {{"--steps", "-1"}, {"--steps"}},
      {{"--optim", "sgd", "--nesterov"}, {"--nesterov", "--momentum"}},
      {{"--momentum", "0.9"}, {"--momentum: only with --optim sgd, not adam"}},
      {{"--task", "tsv", "--train", "t.tsv", "--patience", "3"}, {"--patience: needs --valid"}},
      {{"--task", "tsv", "--train", "t.tsv", "--best-metric", "bleu"},
       {"--best-metric: needs --valid"}},
      {{"--optim", "adamw", "--nesterov"}, {"--nesterov: only with --optim sgd, not adamw"}},
      {{"--shuffle", "--no-shuffle"}, {"--no-shuffle"}},
      {{"--steps"}, {"--steps"}},
      {{"--schedule", "cosine", "--steps", "300"}, {"--steps", "--warmup 400"}},
      {{"--schedule", "cosine", "--steps", "300", "--warmup", "300"}, {"--warmup", "--steps 300"}},
      // These two were run-time errors (exit 1) that did not name the flag.
      {{"--warmup", "0"}, {"--warmup", "--schedule inverse_sqrt"}},
      {{"--schedule", "noam", "--warmup", "0"}, {"--warmup", "--schedule noam"}},
  };
  for (const auto& [args, names] : cases) {
    SCOPED_TRACE(args[0]);
    expect_error(run_seqgrad(concat(concat({"train"}, args), {"--dump-config"}), dir), 2, names);
  }
  expect_error(run_seqgrad({"eval", "--beam", "0", "--checkpoint", "x.h5"}, dir), 2, {"--beam"});
  expect_error(run_seqgrad({"translate", "--batch", "0", "--checkpoint", "x.h5"}, dir), 2,
               {"--batch"});
}

TEST(Cli, OptionValuesTheDataLibraryRejectsAreUsageErrors) {
  ScratchDir dir;
  // Two symbols of length <= 3 cannot give 1000 distinct held-out sequences.
  expect_error(run_seqgrad(concat({"train", "--symbols", "2", "--max-len", "3", "--steps", "0"},
                                  testing::cli_tiny_model()),
                           dir),
               2, {"--valid-size", "--symbols"});
  expect_error(run_seqgrad({"train", "--task", "tsv", "--steps", "0"}, dir), 2, {"--train"});
  expect_error(run_seqgrad({"eval"}, dir), 2, {"--checkpoint"});
  expect_error(run_seqgrad({"translate", "--input", "1 2"}, dir), 2, {"--checkpoint"});
}

// bench --json prints the fields of docs/cli.md; a sequence longer than the default positional
// table (512) was a run-time error naming no flag, and negative counts were taken as 0.
TEST(Cli, BenchPrintsItsFieldsAndChecksItsValues) {
  ScratchDir dir;
  const std::vector<std::string> tiny = {"--d-model",    "8", "--heads",      "2", "--ff",    "16",
                                         "--enc-layers", "1", "--dec-layers", "1", "--batch", "2"};
  const auto r = run_seqgrad(
      concat({"bench", "--json", "--steps", "1", "--warmup-steps", "0", "--length", "600"}, tiny),
      dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"tokens_per_s", "ms_per_step", "peak_rss_mb", "gflops", "config"})
    EXPECT_TRUE(j.contains(key)) << key << " in " << r.out;
  EXPECT_EQ(j["config"]["length"], 600);
  expect_error(run_seqgrad({"bench", "--length", "10001"}, dir), 2, {"--length", "10000"});
  expect_error(run_seqgrad({"bench", "--warmup-steps", "-1"}, dir), 2, {"--warmup-steps", "-1"});
  expect_error(run_seqgrad({"bench", "--decode", "-1"}, dir), 2, {"--decode", "-1"});
}

}  // namespace
}  // namespace sg
