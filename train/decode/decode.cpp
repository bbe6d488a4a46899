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

// Rows `rows` of x along dim 0: (N, ...) -> (rows.size(), ...). Plain copy, no graph.
Tensor take_rows(const Tensor& x_in, const std::vector<int64_t>& rows) {
  const Tensor x = x_in.contiguous_data();
  Shape s = x.shape();
  const int64_t row = x.numel() / s[0];
  s[0] = static_cast<int64_t>(rows.size());
  Tensor out = Tensor::empty(s, x.dtype());
  const size_t bytes = row * dtype_size(x.dtype());
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(static_cast<char*>(out.raw_data()) + i * bytes,
                static_cast<const char*>(x.raw_data()) + rows[i] * bytes, bytes);
  return out;
}

void reorder(DecodeState& st, const std::vector<int64_t>& rows) {
  for (auto& c : st.caches) {
    c.self_kv.k = take_rows(c.self_kv.k, rows);
    c.self_kv.v = take_rows(c.self_kv.v, rows);
    c.self_buf = c.self_kv;  // full: the next step grows it
  }
}

// Row b of a (B, S) id tensor, without its padding, as a (1, S_b) tensor.
IntTensor source_row(const IntTensor& src, int64_t b, int64_t pad) {
  const int64_t S = src.shape[1];
  std::vector<int64_t> ids;
  for (int64_t j = 0; j < S; ++j)
    if (src.data[b * S + j] != pad) ids.push_back(src.data[b * S + j]);
  if (ids.empty()) ids.push_back(kEos);
  const int64_t n = static_cast<int64_t>(ids.size());
  return IntTensor({1, n}, std::move(ids));
}

// The length limit of row b of a (B, S) source: its tokens other than padding and <eos> decide.
int64_t row_limit(const Seq2SeqTransformer& model, const IntTensor& src, int64_t b,
                  const DecodeOptions& opt) {
  const int64_t S = src.shape[1], pad = model.config().pad_id;
  const int64_t n = std::count_if(src.data.begin() + b * S, src.data.begin() + (b + 1) * S,
                                  [&](int64_t id) { return id != pad && id != kEos; });
  return decode_limit(opt, n, model.config().max_len);
}

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

std::vector<std::vector<int64_t>> greedy_decode(const Seq2SeqTransformer& model,
                                                const IntTensor& src, const DecodeOptions& opt,
                                                DecodeCuts* cuts) {
  NoGradGuard ng;
  const int64_t B = src.shape.at(0), V = model.config().tgt_vocab;
  std::vector<int64_t> limit(B);
  for (int64_t b = 0; b < B; ++b) limit[b] = row_limit(model, src, b, opt);
  const int64_t longest = B ? *std::max_element(limit.begin(), limit.end()) : 0;
  DecodeState st = model.start_decoding(src);
  std::vector<std::vector<int64_t>> out(B);
  std::vector<int64_t> tok(B, kBos);
  std::vector<bool> done(B, false), cut(B, false);
  int64_t n_done = 0;
  for (int64_t t = 0; t <= longest && n_done < B; ++t) {
    const Tensor logits = model.decode_step(st, tok).to(DType::f64);  // (B, V)
    const double* p = logits.data<double>();
    for (int64_t b = 0; b < B; ++b) {
      const int64_t best = argmax(p + b * V, V);
      tok[b] = best;
      if (done[b]) continue;
      if (best == kEos || t == limit[b]) {
        done[b] = true;
        ++n_done;
        cut[b] = best != kEos;
      } else {
        out[b].push_back(best);
      }
    }
  }
  if (cuts)
    for (int64_t b = 0; b < B; ++b) cuts->add(cut[b], limit[b]);
  return out;
}

std::vector<std::vector<int64_t>> beam_decode(const Seq2SeqTransformer& model, const IntTensor& src,
                                              const DecodeOptions& opt, DecodeCuts* cuts) {
  if (opt.beam < 1) throw std::invalid_argument("beam size must be at least 1");
  NoGradGuard ng;
  const int64_t B = src.shape.at(0), V = model.config().tgt_vocab, K = opt.beam;
  const double neg_inf = -std::numeric_limits<double>::infinity();
  std::vector<std::vector<int64_t>> results(B);
  for (int64_t b = 0; b < B; ++b) {
    // K copies of the source; only the first hypothesis is live at the start.
    const IntTensor one = source_row(src, b, model.config().pad_id);
    const int64_t max_len = row_limit(model, src, b, opt);
    std::vector<int64_t> rows;
    for (int64_t k = 0; k < K; ++k) rows.insert(rows.end(), one.data.begin(), one.data.end());
    DecodeState st = model.start_decoding(IntTensor({K, one.shape[1]}, std::move(rows)));
    std::vector<std::vector<int64_t>> hyps(K);
    std::vector<double> score(K, neg_inf);
    score[0] = 0.0;
    std::vector<int64_t> tok(K, kBos);
    struct Finished {
      std::vector<int64_t> ids;
      double norm;
      bool cut;  // ended by the limit where <eos> was not its most likely next token
    };
    std::vector<Finished> finished;
    for (int64_t t = 0; t <= max_len; ++t) {
      // In float64, so that ranking matches greedy argmax on the raw logits.
      const Tensor lp = log_softmax(model.decode_step(st, tok).to(DType::f64), -1);  // (K, V)
      const double* p = lp.data<double>();
      // Candidates (score, hypothesis, token), best first; ties by index for determinism.
      std::vector<std::pair<double, int64_t>> cand;
      cand.reserve(K * V);
      // At the length limit every live hypothesis ends (with the score of <eos> there), so that
      // no output is longer than max_len, as with greedy decoding.
      const bool last = t == max_len;
      for (int64_t k = 0; k < K; ++k)
        if (score[k] > neg_inf)
          for (int64_t v = last ? kEos : 0; v < (last ? kEos + 1 : V); ++v)
            cand.emplace_back(score[k] + p[k * V + v], k * V + v);
      const size_t top = std::min<size_t>(cand.size(), 2 * K);
      std::partial_sort(cand.begin(), cand.begin() + top, cand.end(), [](auto& a, auto& c) {
        return a.first > c.first || (a.first == c.first && a.second < c.second);
      });
      std::vector<int64_t> parent, next_tok;
      std::vector<double> next_score;
      std::vector<std::vector<int64_t>> next_hyps;
      for (size_t i = 0; i < top && static_cast<int64_t>(parent.size()) < K; ++i) {
        const int64_t k = cand[i].second / V, v = cand[i].second % V;
        if (v == kEos) {
          std::vector<int64_t> ids = hyps[k];
          const double len = static_cast<double>(ids.size() + 1);
          finished.push_back({std::move(ids), cand[i].first / std::pow(len, opt.len_alpha),
                              last && argmax(p + k * V, V) != kEos});
          continue;
        }
        parent.push_back(k);
        next_tok.push_back(v);
        next_score.push_back(cand[i].first);
        next_hyps.push_back(hyps[k]);
        next_hyps.back().push_back(v);
      }
      if (static_cast<int64_t>(finished.size()) >= K || parent.empty()) break;
      // Pad the live set back to K rows with dead hypotheses.
      while (static_cast<int64_t>(parent.size()) < K) {
        parent.push_back(parent[0]);
        next_tok.push_back(next_tok[0]);
        next_score.push_back(neg_inf);
        next_hyps.push_back(next_hyps[0]);
      }
      reorder(st, parent);
      tok = next_tok;
      score = next_score;
      hyps = next_hyps;
    }
    auto best = std::max_element(finished.begin(), finished.end(),
                                 [](auto& a, auto& c) { return a.norm < c.norm; });
    if (best != finished.end()) results[b] = best->ids;
    if (cuts) cuts->add(best != finished.end() && best->cut, max_len);
  }
  return results;
}

std::vector<std::vector<int64_t>> decode(const Seq2SeqTransformer& model, const IntTensor& src,
                                         const DecodeOptions& opt, DecodeCuts* cuts) {
  if (opt.beam <= 1) return greedy_decode(model, src, opt, cuts);
  return beam_decode(model, src, opt, cuts);
}

}  // namespace sg
