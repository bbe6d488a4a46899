#include "train/decode/stepper.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/parallel.h"

namespace sg {

// Rows `rows` of x along dim 0 (repeats allowed): (N, ...) -> (rows.size(), ...). Plain copy, no
// graph.
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

IntTensor take_rows(const IntTensor& x, const std::vector<int64_t>& rows) {
  std::vector<int64_t> shape = x.shape;
  const int64_t row = x.numel() / shape[0];
  shape[0] = static_cast<int64_t>(rows.size());
  std::vector<int64_t> data;
  data.reserve(rows.size() * row);
  for (int64_t r : rows)
    data.insert(data.end(), x.data.begin() + r * row, x.data.begin() + (r + 1) * row);
  return IntTensor(shape, std::move(data));
}

Source take_rows(const Source& src, const std::vector<int64_t>& rows) {
  return src.is_image() ? Source(take_rows(src.images, rows)) : Source(take_rows(src.ids, rows));
}

void keep_rows(DecoderCache& c, const std::vector<int64_t>& rows, bool cross) {
  const int64_t n = static_cast<int64_t>(rows.size());
  if (cross) {  // the cross keys and values stay; only the rows that read them change
    std::vector<int64_t> read(rows.size());
    for (size_t i = 0; i < rows.size(); ++i)
      read[i] = c.cross_kv.rows.empty() ? rows[i] : c.cross_kv.rows[rows[i]];
    c.cross_kv.rows = std::move(read);
  }
  if (!c.self_kv.k.defined()) return;  // nothing decoded yet
  const int64_t len = c.self_kv.k.size(2);
  // The histories stay where they are; row i takes row rows[i]'s row of self_rows.
  if (c.self_rows.empty()) {  // rows not reordered yet: row i's positions are all in row i
    c.self_rows.resize(c.self_kv.k.size(0) * len);
    for (size_t at = 0; at < c.self_rows.size(); ++at) c.self_rows[at] = at / len;
  }
  std::vector<int64_t> kept(n * len);
  for (int64_t i = 0; i < n; ++i)
    std::copy_n(c.self_rows.begin() + rows[i] * len, len, kept.begin() + i * len);
  c.self_rows = std::move(kept);
  for (auto [buf, view] :
       {std::pair{&c.self_buf.k, &c.self_kv.k}, std::pair{&c.self_buf.v, &c.self_kv.v}}) {
    const int64_t N = buf->size(0), H = buf->size(1), cap = buf->size(2), Dh = buf->size(3);
    if (n > N) {
      // The next step writes row i's position in row i: a buffer of n rows, the N rows kept.
      Tensor fresh = Tensor::empty({n, H, cap, Dh}, buf->dtype());
      std::memcpy(fresh.raw_data(), buf->raw_data(), N * H * cap * Dh * dtype_size(buf->dtype()));
      *buf = fresh;
      *view = Tensor::view_of(*buf, {n, H, len, Dh}, {H * cap * Dh, cap * Dh, Dh, 1}, 0);
    }
  }
}

Stepper::Stepper(const Models& models, const Source& src, int64_t copies) : models_(models) {
  if (models_.empty()) throw std::invalid_argument("decoding needs at least one model");
  rows_ = src.batch();
  vocab_ = models_[0]->config().tgt_vocab;
  table_len_ = models_[0]->config().max_len;
  for (const auto* m : models_) {
    if (m->config().tgt_vocab != vocab_)
      throw std::invalid_argument("the models of an ensemble have different target vocabularies");
    table_len_ = std::min(table_len_, m->config().max_len);
    states_.push_back(m->start_decoding(src));
  }
  if (copies > 1) {
    std::vector<int64_t> rows;
    for (int64_t b = 0; b < rows_; ++b) rows.insert(rows.end(), copies, b);
    keep(rows, true);
  }
}

Tensor Stepper::next(const std::vector<int64_t>& tokens) {
  NoGradGuard ng;
  if (models_.size() == 1) {
    // The logits in float64, converted by both threads (the conversion is exact).
    const Tensor l = models_[0]->decode_step(states_[0], tokens).contiguous_data();
    if (l.dtype() == DType::f64) return l;
    Tensor out = Tensor::empty(l.shape(), DType::f64);
    const float* x = l.data<float>();
    double* y = out.data<double>();
    parallel_for(l.numel(), row_grain(1), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = x[i];
    });
    return out;
  }
  // log of the mean probability, each model's softmax taken in float64: (rows, V).
  const int64_t R = rows_, V = vocab_;
  std::vector<double> mean(R * V, 0.0);
  for (size_t i = 0; i < models_.size(); ++i) {
    const Tensor l = models_[i]->decode_step(states_[i], tokens).to(DType::f64);
    const double* x = l.data<double>();
    for (int64_t r = 0; r < R; ++r) {
      const double* row = x + r * V;
      const double m = *std::max_element(row, row + V);
      double z = 0;
      for (int64_t v = 0; v < V; ++v) z += std::exp(row[v] - m);
      for (int64_t v = 0; v < V; ++v) mean[r * V + v] += std::exp(row[v] - m) / z;
    }
  }
  const double n = static_cast<double>(models_.size());
  for (double& p : mean) p = std::log(p / n);
  return Tensor::from_vector(mean, {R, V}, DType::f64);
}

void Stepper::keep(const std::vector<int64_t>& rows, bool memory) {
  // The memory and its mask keep one row per source: the caches' cross_kv.rows say which.
  for (auto& st : states_)
    for (auto& c : st.caches) keep_rows(c, rows, memory);
  rows_ = static_cast<int64_t>(rows.size());
}

}  // namespace sg
