// --tokenize spm end to end (docs/data.md, SentencePiece): a run trains a SentencePiece model on
// its training file, stores it in the checkpoint as /vocab/spm with one vocabulary for both
// sides, and eval, translate and attention work from the checkpoint alone (translate printing
// detokenized text, attention labelling pieces); --spm-model uses an existing model; and every
// bad flag, model file and checkpoint is a one-line error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "datasets/sentencepiece_model.h"
#include "layers/module.h"
#include "tests/train/test_cli_run.h"
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/hdf5.h"
#include "train/config/model_config.h"
#include "train/decode/decode.h"
#include "train/decode/inference.h"

namespace sg::testing {
namespace {

// `lines` pairs of short English sentences and their word-by-word German, fixed seed.
std::string corpus(int lines, unsigned seed) {
  const std::pair<const char*, const char*> words[] = {
      {"the", "die"},     {"cat", "katze"},    {"sat", "saß"},    {"dog", "hund"},
      {"ran", "lief"},    {"fast", "schnell"}, {"green", "grün"}, {"house", "haus"},
      {"small", "klein"}, {"is", "ist"}};
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < lines; ++i) {
    std::string src, tgt;
    for (unsigned k = 0, n = 2 + rng() % 4; k < n; ++k) {
      const auto& [en, de] = words[rng() % 10];
      src.append(k ? " " : "").append(en);
      tgt.append(k ? " " : "").append(de);
    }
    out += src + ".\t" + tgt + ".\n";
  }
  return out;
}

class Spm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("train.tsv", corpus(60, 1));
    dir_.write("valid.tsv", corpus(8, 2));
  }
  // `seqgrad train` on a TSV file with SentencePiece and a tiny model, plus `extra`.
  static std::vector<std::string> spm_run(const std::vector<std::string>& extra,
                                          const std::string& train = "train.tsv",
                                          const std::string& task = "tsv") {
    return concat(concat({"train", "--task", task, "--train", train, "--valid", "valid.tsv",
                          "--tokenize", "spm", "--batch", "8", "--eval-every", "0"},
                         cli_tiny_model()),
                  extra);
  }
  ScratchDir dir_;
};

TEST_F(Spm, ARunStoresItsModelAndOneVocabularyForBothSides) {
  RunResult r = run_seqgrad(spm_run({"--vocab-size", "40", "--steps", "2", "--out", "run"}), dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string ckpt = dir_ / "run/ckpt-2.h5";
  const CheckpointContents c = read_checkpoint(ckpt);
  EXPECT_EQ(c.config.tokenize, "spm");
  EXPECT_TRUE(c.config.shared_vocab);
  EXPECT_EQ(c.config.vocab_size, 40);
  ASSERT_FALSE(c.spm_model.empty());
  EXPECT_EQ(H5File::open_read(ckpt).read_bytes("vocab/spm"), c.spm_model);
  const auto spm = SentencePieceModel::from_bytes(c.spm_model, "x");
  EXPECT_EQ(spm->vocab().tokens(), c.src_vocab);
  EXPECT_EQ(c.src_vocab, c.tgt_vocab);
  ASSERT_EQ(c.src_vocab.size(), 40u);
  EXPECT_EQ(std::vector<std::string>(c.src_vocab.begin(), c.src_vocab.begin() + 4),
            Vocab::special_tokens());
  // The same data and seed train the same model again.
  r = run_seqgrad(spm_run({"--vocab-size", "40", "--steps", "0", "--out", "again"}), dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_checkpoint(dir_ / "again/ckpt-0.h5").spm_model, c.spm_model);
}

TEST_F(Spm, EvalTranslateAndAttentionNeedOnlyTheCheckpoint) {
  RunResult r = run_seqgrad(spm_run({"--vocab-size", "40", "--steps", "3", "--out", "run"}), dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  std::filesystem::rename(dir_ / "train.tsv", dir_ / "moved.tsv");
  const std::string ckpt = dir_ / "run/latest.h5";

  r = run_seqgrad({"eval", "--checkpoint", ckpt, "--data", "valid.tsv", "--json"}, dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"n\":8"), std::string::npos) << r.out;

  // translate prints detokenized text: what the model's pieces decode to, without any "▁".
  const std::string input = "the small dog ran.";
  r = run_seqgrad({"translate", "--checkpoint", ckpt, "--decode-max-len", "12"}, dir_,
                  input + "\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const LoadedModel m = load_for_inference(ckpt);
  std::vector<int64_t> ids = m.src_codec.encode(input);
  ids.push_back(kEos);
  const IntTensor src({1, static_cast<int64_t>(ids.size())}, ids);
  DecodeOptions d;
  d.max_len = 12;
  d.lengths = m.train_lengths;
  const auto out = decode(*m.model, src, d);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(r.out, m.tgt_codec.decode(out[0]) + "\n");
  EXPECT_EQ(r.out.find("\xe2\x96\x81"), std::string::npos) << r.out;

  // Attention maps label the source pieces.
  r = run_seqgrad(
      {"attention", "--checkpoint", ckpt, "--input", input, "--json", "--decode-max-len", "4"},
      dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto first = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  std::vector<std::string> pieces;
  for (const int64_t id : m.src_codec.encode(input))
    pieces.push_back(m.src_codec.vocab().token(id));
  pieces.push_back("<eos>");
  EXPECT_EQ(first["cols"].get<std::vector<std::string>>(), pieces);
  EXPECT_GT(pieces.size(), 5u);  // subword pieces, not the 4 words
}

TEST_F(Spm, AnExistingModelIsUsedAsItIs) {
  RunResult r = run_seqgrad(spm_run({"--vocab-size", "40", "--steps", "0", "--out", "a"}), dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string model = read_checkpoint(dir_ / "a/ckpt-0.h5").spm_model;
  dir_.write("m.model", model);
  r = run_seqgrad(spm_run({"--spm-model", "m.model", "--steps", "1", "--out", "b"}), dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const CheckpointContents c = read_checkpoint(dir_ / "b/ckpt-1.h5");
  EXPECT_EQ(c.spm_model, model);
  EXPECT_EQ(c.src_vocab.size(), 40u);
}

TEST_F(Spm, BadFlagsAreUsageErrorsNamingThem) {
  auto run = [&](const std::vector<std::string>& extra) {
    return run_seqgrad(spm_run(concat({"--steps", "0", "--out", "x"}, extra)), dir_);
  };
  expect_error(run_seqgrad(spm_run({"--steps", "0"}, "train.tsv", "copy"), dir_), 2,
               {"--tokenize", "--task tsv"});
  expect_error(run({"--spm-sample", "0"}), 2, {"--spm-sample", "positive"});
  expect_error(run({"--spm-sample", "-3"}), 2, {"--spm-sample"});
  expect_error(run({"--vocab-size", "4"}), 2, {"--vocab-size", "at least 5"});
  expect_error(run({"--vocab-size", "100000"}), 2, {"--vocab-size", "too large for this data"});
  expect_error(run({"--vocab-size", "12"}), 2, {"--vocab-size", "too small for this data"});
  expect_error(run({"--spm-model", "m.model", "--vocab-size", "100"}), 2,
               {"--vocab-size", "--spm-model"});
  expect_error(run({"--min-freq", "2"}), 2, {"--min-freq", "spm"});
  expect_error(run({"--shared-vocab", "false"}), 2, {"--shared-vocab"});
  const auto word =
      concat({"train", "--task", "tsv", "--train", "train.tsv", "--steps", "0"}, cli_tiny_model());
  for (const char* flag : {"--vocab-size", "--spm-sample", "--spm-model"})
    expect_error(run_seqgrad(concat(word, {flag, "9"}), dir_), 2,
                 {flag, "only with --tokenize spm"});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
}

TEST_F(Spm, BadModelFilesAndLinesAreRunTimeErrorsNamingThem) {
  auto run = [&](const std::vector<std::string>& extra, const std::string& train = "train.tsv") {
    return run_seqgrad(spm_run(concat({"--steps", "0", "--out", "x"}, extra), train), dir_);
  };
  expect_error(run({"--spm-model", "missing.model"}), 1,
               {"--spm-model", "missing.model", "cannot open"});
  dir_.write("corrupt.model", "\x0a\x05hello this is not a model");
  expect_error(run({"--spm-model", "corrupt.model"}), 1,
               {"--spm-model", "corrupt.model", "not a SentencePiece model"});
  expect_error(run({"--spm-model", dir_.path().string()}), 1, {"--spm-model", "folder"});
  // Lines are checked before the model is trained on a sample of them, and after.
  dir_.write("bad.tsv", corpus(30, 3) + "no tab here\n");
  expect_error(run({"--spm-sample", "5", "--vocab-size", "30"}, "bad.tsv"), 1,
               {"bad.tsv:31", "no tab"});
  dir_.write("long.tsv", "cat.\tkatze.\n" + corpus(30, 3));
  expect_error(run({"--max-len", "4", "--vocab-size", "30"}, "long.tsv"), 1,
               {"long.tsv:", "tokens, more than --max-len 4"});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
}

TEST_F(Spm, ACheckpointWhoseModelDoesNotFitItsVocabularyIsAnError) {
  RunResult r = run_seqgrad(spm_run({"--vocab-size", "40", "--steps", "0", "--out", "a"}), dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const CheckpointContents c = read_checkpoint(dir_ / "a/ckpt-0.h5");
  Seq2SeqTransformer model(model_config(c.config, 40, 40), 0);
  auto other_vocab = c.src_vocab;
  std::swap(other_vocab[4], other_vocab[5]);
  save_checkpoint(dir_ / "swapped.h5", model, nullptr, c.config, other_vocab, other_vocab, c.state,
                  c.spm_model);
  save_checkpoint(dir_ / "nospm.h5", model, nullptr, c.config, c.src_vocab, c.tgt_vocab, c.state);
  r = run_seqgrad({"translate", "--checkpoint", "swapped.h5", "--input", "the cat."}, dir_);
  expect_error(r, 1, {"swapped.h5", "not the pieces of the SentencePiece model"});
  r = run_seqgrad({"eval", "--checkpoint", "nospm.h5", "--data", "valid.tsv"}, dir_);
  expect_error(r, 1, {"nospm.h5", "missing '/vocab/spm'"});
  // Damaged model bytes (written with a valid checksum, so only the model check can see them).
  save_checkpoint(dir_ / "garbage.h5", model, nullptr, c.config, c.src_vocab, c.tgt_vocab, c.state,
                  "\x0a\x05hello, not a model");
  save_checkpoint(dir_ / "cut.h5", model, nullptr, c.config, c.src_vocab, c.tgt_vocab, c.state,
                  c.spm_model.substr(0, c.spm_model.size() / 2));
  for (const char* name : {"garbage.h5", "cut.h5"}) {
    r = run_seqgrad({"attention", "--checkpoint", name, "--input", "the cat.", "--out", "a.svg"},
                    dir_);
    expect_error(r, 1, {name, "/vocab/spm", "not a SentencePiece model"});
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a.svg"));
}

}  // namespace
}  // namespace sg::testing
