#include "train/decode/stepper.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "autograd/engine.h"

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

namespace {

// Row i of buf (N, H, cap, Dh) becomes row rows[i] for i < rows.size(), in place, over the
// first len positions: the rows read by a row that changes are first copied out (each once), so
// that a permutation's cycles cannot overwrite what is still to be read.
void permute_rows(Tensor& buf, int64_t len, const std::vector<int64_t>& rows) {
  const int64_t H = buf.size(1), cap = buf.size(2), Dh = buf.size(3);
  const size_t pos = Dh * dtype_size(buf.dtype()), row = H * cap * pos, kept = H * len * pos;
  char* base = static_cast<char*>(buf.raw_data());
  std::vector<int64_t> slot(buf.size(0), -1);  // scratch index of a row read by a changed row
  int64_t reads = 0;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] != static_cast<int64_t>(i) && slot[rows[i]] < 0) slot[rows[i]] = reads++;
  if (reads == 0) return;
  std::vector<char> scratch(reads * kept);  // (reads, H, len, Dh)
  auto copy_heads = [&](char* dst, size_t dst_ld, const char* src, size_t src_ld) {
    for (int64_t h = 0; h < H; ++h) std::memcpy(dst + h * dst_ld, src + h * src_ld, len * pos);
  };
  for (size_t r = 0; r < slot.size(); ++r)
    if (slot[r] >= 0)
      copy_heads(scratch.data() + slot[r] * kept, len * pos, base + r * row, cap * pos);
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] != static_cast<int64_t>(i))
      copy_heads(base + i * row, cap * pos, scratch.data() + slot[rows[i]] * kept, len * pos);
}

}  // namespace

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
  for (auto [buf, view] :
       {std::pair{&c.self_buf.k, &c.self_kv.k}, std::pair{&c.self_buf.v, &c.self_kv.v}}) {
    const int64_t H = buf->size(1), cap = buf->size(2), Dh = buf->size(3);
    if (n > buf->size(0)) {
      // More rows than the buffer holds: a new buffer of the same capacity, the rows gathered.
      Tensor fresh = Tensor::empty({n, H, cap, Dh}, buf->dtype());
      const size_t row = H * cap * Dh * dtype_size(buf->dtype());
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(static_cast<char*>(fresh.raw_data()) + i * row,
                    static_cast<const char*>(buf->raw_data()) + rows[i] * row, row);
      *buf = fresh;
    } else {
      permute_rows(*buf, len, rows);
    }
    *view = Tensor::view_of(*buf, {n, H, len, Dh}, {H * cap * Dh, cap * Dh, Dh, 1}, buf->offset());
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
  // The memory and its mask keep one row per source: the caches' cross_kv.rows say which.
  for (auto& st : states_)
    for (auto& c : st.caches) keep_rows(c, rows, memory);
  rows_ = static_cast<int64_t>(rows.size());
}

}  // namespace sg
