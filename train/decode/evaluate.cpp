#include "train/decode/evaluate.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "datasets/batch.h"
#include "datasets/vocab.h"
#include "train/decode/metrics.h"
#include "train/decode/text_metrics.h"

namespace sg {

Source source_of(const Batch& b) {
  return b.has_images() ? Source(b.images) : Source(b.src);
}

namespace {

std::string ids_as_text(const std::vector<int64_t>& ids) {
  std::string s;
  for (const int64_t id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id);
  }
  return s;
}

// Teacher-forced scores (B, T, V) of a batch: one model's logits, or for an ensemble the log of
// the mean of the models' probabilities (float64).
Tensor teacher_forced(const Models& models, const Batch& batch) {
  std::vector<double> mean;
  for (const auto* m : models) {
    const Source src = source_of(batch);
    const Tensor memory = m->encode(src);
    const Tensor logits = m->decode(memory, src, batch.tgt_in);  // (B, T, V)
    if (models.size() == 1) return logits;
    const Tensor lp = log_softmax(logits.to(DType::f64), -1);
    const double* x = lp.data<double>();
    mean.resize(lp.numel(), 0.0);
    for (int64_t i = 0; i < lp.numel(); ++i) mean[i] += std::exp(x[i]);
  }
  const double n = static_cast<double>(models.size());
  for (double& p : mean) p = std::log(p / n);
  const Shape shape = {batch.tgt_in.shape[0], batch.tgt_in.shape[1], models[0]->config().tgt_vocab};
  return Tensor::from_vector(mean, shape, DType::f64);
}

template <class E>
EvalResult evaluate_examples(const Models& models, const std::vector<E>& data,
                             const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs,
                             Batch (*make)(const std::vector<const E*>&)) {
  EvalResult r;
  r.n = static_cast<int64_t>(data.size());
  if (data.empty()) return r;
  if (opt.refs && opt.refs->size() != data.size())
    throw std::invalid_argument("evaluate: " + std::to_string(opt.refs->size()) +
                                " reference texts for " + std::to_string(data.size()) +
                                " examples");
  const Seq2SeqTransformer& model = *models.at(0);
  NoGradGuard ng;
  double loss_sum = 0;
  int64_t tokens = 0;
  TokenCounts acc;
  TokenSeqs hyps, refs;
  for (size_t b = 0; b < data.size(); b += opt.batch) {
    const size_t e = std::min(data.size(), b + static_cast<size_t>(opt.batch));
    std::vector<const E*> rows;
    for (size_t i = b; i < e; ++i) rows.push_back(&data[i]);
    const Batch batch = make(rows);
    // The teacher-forced pass in groups of rows whose (rows, T, V) logits stay within
    // kEvalLogitsBudget elements: with a subword vocabulary a whole batch's logits would take
    // gigabytes (200 x 100 x 8000 floats is 640 MB, and the loss needs a copy).
    const auto score = [&](const Batch& part) {
      const Tensor logits = teacher_forced(models, part);  // (rows, T, V)
      const IntTensor flat({part.tgt_out.numel()}, part.tgt_out.data);
      const double loss = cross_entropy(reshape(logits, {-1, model.config().tgt_vocab}), flat,
                                        model.config().pad_id)
                              .item();
      loss_sum += loss * part.n_tgt_tokens;
      tokens += part.n_tgt_tokens;
      acc += argmax_token_counts(logits, part.tgt_out, model.config().pad_id);
    };
    const int64_t per_row = batch.tgt_in.shape[1] * model.config().tgt_vocab;
    const size_t group = static_cast<size_t>(std::max<int64_t>(1, kEvalLogitsBudget / per_row));
    if (group >= rows.size()) {
      score(batch);
    } else {
      for (size_t g = 0; g < rows.size(); g += group)
        score(make(std::vector<const E*>(
            rows.begin() + static_cast<long>(g),
            rows.begin() + static_cast<long>(std::min(rows.size(), g + group)))));
    }
    if (opt.run_decode) {
      DecodeOptions d = opt.decode;
      d.first_row = static_cast<int64_t>(b);  // sampling: each example its own generator
      for (auto& h : decode(models, source_of(batch), d, &r.cuts)) hyps.push_back(std::move(h));
      for (size_t i = b; i < e; ++i) refs.push_back(data[i].tgt);
    }
    if (opt.progress) opt.progress->update(static_cast<int64_t>(e));
  }
  r.loss = tokens ? loss_sum / static_cast<double>(tokens) : 0.0;
  r.ppl = std::exp(r.loss);
  r.token_acc = acc.rate();
  if (opt.run_decode) {
    // A reference's <unk> stands for a word the vocabulary lacks: no output equals it.
    TokenSeqs exact_refs = refs;
    for (auto& ref : exact_refs)
      std::replace(ref.begin(), ref.end(), int64_t{Vocab::kUnk}, int64_t{-1});
    r.exact_match = exact_match(hyps, exact_refs);
    const std::function<std::string(const std::vector<int64_t>&)> text =
        opt.detokenize ? opt.detokenize : ids_as_text;
    std::vector<std::string> hyp_text, ref_text;
    for (size_t i = 0; i < hyps.size(); ++i) {
      hyp_text.push_back(text(hyps[i]));
      ref_text.push_back(opt.refs ? (*opt.refs)[i] : text(refs[i]));
    }
    r.bleu = sacrebleu_bleu(hyp_text, ref_text).score;
    r.chrf = sacrebleu_chrf(hyp_text, ref_text).score;
    if (outputs) *outputs = std::move(hyps);
  }
  return r;
}

template <class E>
EvalResult evaluate_in_eval_mode(Seq2SeqTransformer& model, const std::vector<E>& data,
                                 const EvalOptions& opt,
                                 std::vector<std::vector<int64_t>>* outputs) {
  const bool was_training = model.is_training();
  model.eval();
  EvalResult r = evaluate(Models{&model}, data, opt, outputs);
  model.train(was_training);
  return r;
}

}  // namespace

EvalResult evaluate(Seq2SeqTransformer& model, const std::vector<Example>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs) {
  return evaluate_in_eval_mode(model, data, opt, outputs);
}

EvalResult evaluate(Seq2SeqTransformer& model, const std::vector<ImageExample>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs) {
  return evaluate_in_eval_mode(model, data, opt, outputs);
}

EvalResult evaluate(const Models& models, const std::vector<Example>& data, const EvalOptions& opt,
                    std::vector<std::vector<int64_t>>* outputs) {
  return evaluate_examples<Example>(models, data, opt, outputs, make_batch);
}

EvalResult evaluate(const Models& models, const std::vector<ImageExample>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs) {
  return evaluate_examples<ImageExample>(models, data, opt, outputs, make_image_batch);
}

}  // namespace sg
