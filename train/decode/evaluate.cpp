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

static std::string ids_as_text(const std::vector<int64_t>& ids) {
  std::string s;
  for (const int64_t id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id);
  }
  return s;
}

EvalResult evaluate(Seq2SeqTransformer& model, const std::vector<Example>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs) {
  EvalResult r;
  r.n = static_cast<int64_t>(data.size());
  if (data.empty()) return r;
  if (opt.refs && opt.refs->size() != data.size())
    throw std::invalid_argument("evaluate: " + std::to_string(opt.refs->size()) +
                                " reference texts for " + std::to_string(data.size()) +
                                " examples");
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard ng;
  double loss_sum = 0;
  int64_t tokens = 0;
  TokenCounts acc;
  TokenSeqs hyps, refs;
  for (size_t b = 0; b < data.size(); b += opt.batch) {
    const size_t e = std::min(data.size(), b + static_cast<size_t>(opt.batch));
    std::vector<const Example*> rows;
    for (size_t i = b; i < e; ++i) rows.push_back(&data[i]);
    const Batch batch = make_batch(rows);
    const Tensor memory = model.encode(batch.src);
    const Tensor logits = model.decode(memory, batch.src, batch.tgt_in);  // (B, T, V)
    const IntTensor flat({batch.tgt_out.numel()}, batch.tgt_out.data);
    const double loss =
        cross_entropy(reshape(logits, {-1, model.config().tgt_vocab}), flat, model.config().pad_id)
            .item();
    loss_sum += loss * batch.n_tgt_tokens;
    tokens += batch.n_tgt_tokens;
    acc += argmax_token_counts(logits, batch.tgt_out, model.config().pad_id);
    if (opt.run_decode) {
      for (auto& h : decode(model, batch.src, opt.decode, &r.cuts)) hyps.push_back(std::move(h));
      for (size_t i = b; i < e; ++i) refs.push_back(data[i].tgt);
    }
    if (opt.progress) opt.progress->update(static_cast<int64_t>(e));
  }
  model.train(was_training);
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

}  // namespace sg
