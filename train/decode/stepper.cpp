#include "train/decode/stepper.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "autograd/engine.h"

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

}  // namespace

Stepper::Stepper(const Models& models, const IntTensor& src) : models_(models) {
  if (models_.empty()) throw std::invalid_argument("decoding needs at least one model");
  rows_ = src.shape.at(0);
  vocab_ = models_[0]->config().tgt_vocab;
  table_len_ = models_[0]->config().max_len;
  for (const auto* m : models_) {
    if (m->config().tgt_vocab != vocab_)
      throw std::invalid_argument("the models of an ensemble have different target vocabularies");
    table_len_ = std::min(table_len_, m->config().max_len);
    states_.push_back(m->start_decoding(src));
  }
}

Tensor Stepper::next(const std::vector<int64_t>& tokens) {
  NoGradGuard ng;
  if (models_.size() == 1) return models_[0]->decode_step(states_[0], tokens).to(DType::f64);
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
  for (auto& st : states_) {
    for (auto& c : st.caches) {
      c.self_kv.k = take_rows(c.self_kv.k, rows);
      c.self_kv.v = take_rows(c.self_kv.v, rows);
      c.self_buf = c.self_kv;  // full: the next step grows it
      if (memory) {
        c.cross_kv.k = take_rows(c.cross_kv.k, rows);
        c.cross_kv.v = take_rows(c.cross_kv.v, rows);
      }
    }
    if (memory) {
      st.memory = take_rows(st.memory, rows);
      st.mem_mask = take_rows(st.mem_mask, rows);
    }
  }
  rows_ = static_cast<int64_t>(rows.size());
}

}  // namespace sg
