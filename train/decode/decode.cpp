#include "train/decode/decode.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace sg {

namespace {

// First maximum, as greedy decoding picks.
int64_t argmax(const double* row, int64_t n) {
  return std::max_element(row, row + n) - row;
}

}  // namespace

int64_t decode_limit(const DecodeOptions& opt, int64_t src_len, int64_t table_len) {
  const double most = static_cast<double>(std::max<int64_t>(table_len - 1, 0));
  const double n = static_cast<double>(std::max<int64_t>(src_len, 0));
  double limit;
  if (opt.max_len > 0) {
    limit = static_cast<double>(opt.max_len);
  } else if (opt.lengths.known()) {
    // num * n / den is exact when it is a whole number (IEEE division rounds correctly).
    const LengthStats& l = opt.lengths;
    const double need = std::max(static_cast<double>(l.max_tgt_len),
                                 std::ceil(static_cast<double>(l.ratio_num) * n / l.ratio_den));
    limit = std::ceil(1.5 * need) + 10;
  } else {
    limit = 2 * n + 12;
  }
  return static_cast<int64_t>(std::min(limit, most));  // in double: no overflow before the cap
}

std::vector<int64_t> decode_limits(const DecodeOptions& opt, const Source& src, int64_t pad,
                                   int64_t table_len) {
  const int64_t B = src.batch();
  // An image has no source tokens: the training targets' lengths decide its limit.
  if (src.is_image()) return std::vector<int64_t>(B, decode_limit(opt, 0, table_len));
  const int64_t S = src.ids.shape.at(1);
  const std::vector<int64_t>& ids = src.ids.data;
  std::vector<int64_t> limits(B);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = std::count_if(ids.begin() + b * S, ids.begin() + (b + 1) * S,
                                    [&](int64_t id) { return id != pad && id != kEos; });
    limits[b] = decode_limit(opt, n, table_len);
  }
  return limits;
}

void DecodeCuts::add(bool row_cut, int64_t limit) {
  cut.push_back(row_cut);
  if (!row_cut) return;
  min_limit = count ? std::min(min_limit, limit) : limit;
  max_limit = count ? std::max(max_limit, limit) : limit;
  ++count;
}

std::string cut_warning(const DecodeCuts& cuts, const DecodeOptions& opt) {
  if (cuts.count == 0) return "";
  std::string limit = std::to_string(cuts.min_limit);
  if (cuts.max_limit != cuts.min_limit) limit += " to " + std::to_string(cuts.max_limit);
  std::string m = std::to_string(cuts.count) + (cuts.count == 1 ? " output" : " outputs");
  if (opt.max_len <= 0)
    m += " reached --decode-max-len " + limit +
         " (the default for their sources, from the training data's lengths)";
  else if (cuts.max_limit < opt.max_len)
    m += " reached the model's limit of " + limit +
         " tokens (its positional table; --decode-max-len " + std::to_string(opt.max_len) +
         " is capped to it)";
  else
    m += " reached --decode-max-len " + limit;
  return m + " without <eos>";
}

std::vector<std::vector<int64_t>> decode_token_by_token(const Models& models, const Source& src,
                                                        const DecodeOptions& opt,
                                                        const PickToken& pick, DecodeCuts* cuts) {
  NoGradGuard ng;
  const int64_t B = src.batch();
  Stepper step(models, src);
  const int64_t V = step.vocab();
  const std::vector<int64_t> limit =
      decode_limits(opt, src, models[0]->config().pad_id, step.table_len());
  const int64_t longest = B ? *std::max_element(limit.begin(), limit.end()) : 0;
  std::vector<std::vector<int64_t>> out(B);
  std::vector<bool> cut(B, false);
  // The sources still decoding, in row order: row r of the stepper decodes source active[r]. A
  // finished source leaves the batch (Stepper::keep), so a batch costs what its unfinished
  // outputs need, not B rows until the longest ends. A row's scores do not depend on the other
  // rows, so the outputs are those of decoding each source alone.
  std::vector<int64_t> active(B);
  for (int64_t b = 0; b < B; ++b) active[b] = b;
  std::vector<int64_t> tok(B, kBos);
  for (int64_t t = 0; t <= longest && !active.empty(); ++t) {
    const Tensor scores = step.next(tok);  // (active, V)
    const double* p = scores.data<double>();
    std::vector<int64_t> kept_rows, kept_src, kept_tok;
    for (size_t r = 0; r < active.size(); ++r) {
      const int64_t b = active[r];
      const double* row = p + static_cast<int64_t>(r) * V;
      const int64_t next = pick(b, row, V);
      if (next == kEos || t == limit[b]) {
        cut[b] = next != kEos && argmax(row, V) != kEos;
        continue;
      }
      out[b].push_back(next);
      kept_rows.push_back(static_cast<int64_t>(r));
      kept_src.push_back(b);
      kept_tok.push_back(next);
    }
    if (kept_rows.size() < active.size() && !kept_rows.empty()) step.keep(kept_rows, true);
    active = std::move(kept_src);
    tok = std::move(kept_tok);
  }
  if (cuts)
    for (int64_t b = 0; b < B; ++b) cuts->add(cut[b], limit[b]);
  return out;
}

std::vector<std::vector<int64_t>> greedy_decode(const Models& models, const Source& src,
                                                const DecodeOptions& opt, DecodeCuts* cuts) {
  return decode_token_by_token(
      models, src, opt, [](int64_t, const double* row, int64_t V) { return argmax(row, V); }, cuts);
}

namespace {

// Each source's best hypothesis (none: an empty output).
std::vector<std::vector<int64_t>> best_of(std::vector<std::vector<Hypothesis>> all) {
  std::vector<std::vector<int64_t>> best;
  for (auto& hyps : all)
    best.push_back(hyps.empty() ? std::vector<int64_t>{} : std::move(hyps[0].ids));
  return best;
}

}  // namespace

std::vector<std::vector<int64_t>> decode(const Models& models, const Source& src,
                                         const DecodeOptions& opt, DecodeCuts* cuts) {
  if (opt.sample) return sample_decode(models, src, opt, cuts);
  if (opt.beam <= 1) return greedy_decode(models, src, opt, cuts);
  DecodeOptions one = opt;
  one.n_best = 1;
  return best_of(beam_search(models, src, one, cuts));
}

std::vector<std::vector<int64_t>> greedy_decode(const Seq2SeqTransformer& model, const Source& src,
                                                const DecodeOptions& opt, DecodeCuts* cuts) {
  return greedy_decode(Models{&model}, src, opt, cuts);
}

std::vector<std::vector<int64_t>> beam_decode(const Seq2SeqTransformer& model, const Source& src,
                                              const DecodeOptions& opt, DecodeCuts* cuts) {
  DecodeOptions one = opt;
  one.n_best = 1;
  return best_of(beam_search(Models{&model}, src, one, cuts));
}

std::vector<std::vector<int64_t>> decode(const Seq2SeqTransformer& model, const Source& src,
                                         const DecodeOptions& opt, DecodeCuts* cuts) {
  return decode(Models{&model}, src, opt, cuts);
}

}  // namespace sg
