// Held-out evaluation: the loss is the mean cross-entropy over non-pad target tokens of the whole
// set (so the batch size changes nothing), ppl = exp(loss), the decoded metrics agree with
// metrics.h and text_metrics.h on the returned outputs (BLEU and chrF on their text), and
// `seqgrad eval --json` prints the fields of docs/cli.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "autograd/engine.h"
#include "autograd/random.h"
#include "datasets/batch.h"
#include "datasets/task_stream.h"
#include "datasets/text_codec.h"
#include "datasets/vocab.h"
#include "tests/train/test_cli_run.h"
#include "train/config/model_config.h"
#include "train/decode/evaluate.h"
#include "train/decode/metrics.h"
#include "train/decode/text_metrics.h"
#include "train/loop/trainer.h"

namespace sg {
namespace {

using testing::concat;
using testing::run_seqgrad;
using testing::ScratchDir;

std::unique_ptr<Seq2SeqTransformer> tiny_model(int64_t vocab) {
  Config c;
  c.d_model = 16;
  c.heads = 2;
  c.ff = 32;
  c.enc_layers = c.dec_layers = 1;
  return std::make_unique<Seq2SeqTransformer>(model_config(c, vocab, vocab), 7);
}

TEST(Evaluate, LossIsOverAllTargetTokensWhateverTheBatchSize) {
  const auto task = make_task("reverse", {6, 1, 7});
  const std::vector<Example> data = TaskStream(task, 37, 0).held_out();
  auto owner = tiny_model(task->src_vocab().size());
  Seq2SeqTransformer& model = *owner;
  model.train();
  EvalOptions one_batch, small;
  one_batch.batch = 1000;
  small.batch = 5;
  std::vector<std::vector<int64_t>> outputs;
  const EvalResult a = evaluate(model, data, one_batch);
  const EvalResult b = evaluate(model, data, small, &outputs);
  EXPECT_TRUE(model.is_training());  // the mode is restored
  EXPECT_EQ(a.n, 37);
  EXPECT_NEAR(a.loss, b.loss, 1e-6);
  EXPECT_DOUBLE_EQ(a.token_acc, b.token_acc);
  EXPECT_DOUBLE_EQ(a.exact_match, b.exact_match);
  EXPECT_DOUBLE_EQ(a.bleu, b.bleu);
  EXPECT_NEAR(a.ppl, std::exp(a.loss), 1e-9 * a.ppl);
  // The loss of one padded batch of everything, as the model computes it for training.
  model.eval();
  NoGradGuard ng;
  const Batch all = make_batch(data);
  EXPECT_NEAR(a.loss, model.loss(all.src, all.tgt_in, all.tgt_out, 0.0).item(), 1e-5);
  // Decoded metrics are those of the returned outputs.
  TokenSeqs refs;
  for (const auto& e : data) refs.push_back(e.tgt);
  ASSERT_EQ(outputs.size(), data.size());
  EXPECT_DOUBLE_EQ(b.exact_match, exact_match(outputs, refs));
  // Without a detokenizer, the text of an output is its ids as numbers.
  std::vector<std::string> out_ids, ref_ids, out_text, ref_text;
  const auto numbers = [](const std::vector<int64_t>& ids) {
    std::string s;
    for (const int64_t id : ids) {
      if (!s.empty()) s += ' ';
      s += std::to_string(id);
    }
    return s;
  };
  const TextCodec codec(TokenizeMode::word, task->tgt_vocab());
  for (size_t i = 0; i < data.size(); ++i) {
    out_ids.push_back(numbers(outputs[i]));
    ref_ids.push_back(numbers(refs[i]));
    out_text.push_back(codec.decode(outputs[i]));
    ref_text.push_back(codec.decode(refs[i]));
  }
  EvalOptions with_text = small;
  with_text.detokenize = [&](const std::vector<int64_t>& ids) { return codec.decode(ids); };
  EXPECT_DOUBLE_EQ(b.bleu, sacrebleu_bleu(out_ids, ref_ids).score);
  const EvalResult c = evaluate(model, data, with_text);
  EXPECT_DOUBLE_EQ(c.bleu, sacrebleu_bleu(out_text, ref_text).score);
  EXPECT_DOUBLE_EQ(c.chrf, sacrebleu_chrf(out_text, ref_text).score);
  EXPECT_GT(c.chrf, 0.0);
  EXPECT_GE(a.token_acc, 0.0);
  EXPECT_LE(a.token_acc, 1.0);
}

// With a large vocabulary a batch's teacher-forced pass runs in groups of rows (kEvalLogitsBudget):
// the loss and token accuracy are those of small batches and of one padded batch of everything.
TEST(Evaluate, ALargeVocabularyBatchIsScoredInGroupsWithTheSameResult) {
  constexpr int64_t kVocab = 40000;
  Generator g(5);
  std::vector<Example> data(60);
  for (auto& e : data) {
    const int64_t n = 5 + static_cast<int64_t>(g.below(15));
    for (int64_t i = 0; i < n; ++i) {
      e.src.push_back(Vocab::kNumSpecial + static_cast<int64_t>(g.below(kVocab - 4)));
      e.tgt.push_back(Vocab::kNumSpecial + static_cast<int64_t>(g.below(kVocab - 4)));
    }
  }
  const Batch all = make_batch(data);
  ASSERT_GT(all.tgt_in.numel() * kVocab, 2 * kEvalLogitsBudget);  // the whole batch is split
  auto owner = tiny_model(kVocab);
  Seq2SeqTransformer& model = *owner;
  EvalOptions whole, small;
  whole.batch = 200;
  small.batch = 4;
  whole.run_decode = small.run_decode = false;
  const EvalResult a = evaluate(model, data, whole);
  const EvalResult b = evaluate(model, data, small);
  EXPECT_EQ(a.n, 60);
  EXPECT_NEAR(a.loss, b.loss, 1e-6 * a.loss);  // each group's mean is a float32
  EXPECT_DOUBLE_EQ(a.token_acc, b.token_acc);
  model.eval();
  NoGradGuard ng;
  EXPECT_NEAR(a.loss, model.loss(all.src, all.tgt_in, all.tgt_out, 0.0).item(), 1e-5 * a.loss);
}

TEST(Evaluate, EmptyDataGivesZeroExamples) {
  EXPECT_EQ(evaluate(*tiny_model(10), std::vector<Example>{}, EvalOptions{}).n, 0);
}

TEST(Evaluate, ReferenceTextsAreScoredAndUnkNeverMatches) {
  // Whatever the model outputs, scoring it against the reference texts given equals
  // text_metrics.h on those texts; a reference whose tokens hold <unk> is never an exact match,
  // even for an output of the same ids.
  auto model = tiny_model(9);
  const std::vector<Example> data = {{{4, 5}, {6, 7}}, {{5}, {8}}, {{6, 6}, {3, 4}}};
  const std::vector<std::string> refs = {"f g", "Hello, world!", "unseen e"};
  const auto text = [](const std::vector<int64_t>& ids) {
    std::string s;
    for (const int64_t id : ids) {
      if (!s.empty()) s += ' ';
      s += static_cast<char>('a' + id);
    }
    return s;
  };
  EvalOptions o;
  o.detokenize = text;
  o.refs = &refs;
  std::vector<std::vector<int64_t>> outputs;
  const EvalResult r = evaluate(*model, data, o, &outputs);
  std::vector<std::string> out_text;
  for (const auto& ids : outputs) out_text.push_back(text(ids));
  EXPECT_DOUBLE_EQ(r.bleu, sacrebleu_bleu(out_text, refs).score);
  EXPECT_DOUBLE_EQ(r.chrf, sacrebleu_chrf(out_text, refs).score);
  // A generator bias that makes every step output token k: outputs "k k" at a limit of 2.
  const auto always = [&](int64_t k) {
    std::vector<double> bias(9, 0.0);
    bias[k] = 1000;
    model->parameter("generator.bias").copy_from(Tensor::from_vector(bias, {9}));
  };
  EvalOptions two_tokens;
  two_tokens.decode.max_len = 2;
  always(4);
  EXPECT_EQ(evaluate(*model, std::vector<Example>{{{4}, {4, 4}}}, two_tokens).exact_match, 1.0);
  always(Vocab::kUnk);
  EXPECT_EQ(evaluate(*model, std::vector<Example>{{{4}, {Vocab::kUnk, Vocab::kUnk}}}, two_tokens)
                .exact_match,
            0.0);
  const std::vector<std::string> two = {"a"};
  o.refs = &two;
  EXPECT_THROW(evaluate(*model, data, o), std::invalid_argument);
}

TEST(Evaluate, EvalCommandPrintsTheSpecFields) {
  ScratchDir dir;
  const auto made = run_seqgrad(
      concat({"train", "--steps", "0", "--valid-size", "12", "--out", dir / "m", "--seed", "3"},
             testing::cli_tiny_model()),
      dir);
  ASSERT_EQ(made.code, 0) << made.err;
  const std::string ck = dir / "m/ckpt-0.h5";
  const auto r = run_seqgrad({"eval", "--checkpoint", ck, "--json", "--threads", "1"}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) {
    keys.push_back(k);
    EXPECT_TRUE(v.is_number()) << k;
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"bleu", "chrf", "cut_at_max_len", "exact_match", "loss",
                                            "n", "ppl", "token_acc"}));
  // The untrained model rarely ends an output: each cut is counted, and said on stderr.
  EXPECT_GT(j["cut_at_max_len"], 0);
  EXPECT_LE(j["cut_at_max_len"], 12);
  EXPECT_EQ(r.err, "seqgrad: warning: " + j["cut_at_max_len"].dump() +
                       " outputs reached --decode-max-len 25 (the default for their sources, from "
                       "the training data's lengths) without <eos>\n");
  EXPECT_EQ(j["n"], 12);  // the checkpoint's held-out set
  EXPECT_NEAR(j["ppl"].get<double>(), std::exp(j["loss"].get<double>()),
              1e-6 * j["ppl"].get<double>());
  // A TSV file instead, and the plain-text line.
  const std::string tsv = dir.write("d.tsv", "1 2\t1 2\n3\t3\n4 5 6\t4 5 6\n");
  const auto t = run_seqgrad({"eval", "--checkpoint", ck, "--data", tsv, "--threads", "1"}, dir);
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.out.rfind("n 3  loss ", 0), 0u) << t.out;
  EXPECT_NE(t.out.find("exact_match"), std::string::npos);
}

}  // namespace
}  // namespace sg
