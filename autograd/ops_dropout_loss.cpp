// Dropout and the loss: dropout and cross_entropy (the other neural-network ops are in
// ops_nn.cpp). Each op is a fused forward kernel, its backward kernel directly below, and the
// public function that runs the forward and records the backward. Kernels loop over rows or
// elements in parallel, while every reduction runs in a fixed order within its thread (summing in
// double), so results are deterministic and do not depend on the number of threads.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/fast_exp.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"

namespace sg {

namespace {

// ---- dropout. x, y: any shape, flattened to (n).
// keep_i = (counter_u64(key, i) >= p 2^64), with `key` one draw from the generator per call (so
// the generator advances by one word whatever n and p), y_i = keep_i ? x_i * scale : 0, scale =
// 1/(1-p). The mask is a function of (key, i): computed in parallel chunks with the same bits at
// any thread count, and recomputed in the backward rather than stored. p = 1 keeps nothing.
struct DropRule {
  uint64_t key = 0, threshold = 0;
  bool keeps_none = false;
  DropRule(uint64_t k, double p)
      : key(k),
        // p < 1 is at most 1 - 2^-53, so p 2^64 < 2^64 converts exactly.
        threshold(p < 1.0 ? static_cast<uint64_t>(std::ldexp(p, 64)) : 0),
        keeps_none(p >= 1.0) {}
  bool keep(int64_t i) const {
    return !keeps_none && counter_u64(key, static_cast<uint64_t>(i)) >= threshold;
  }
};

template <class T>
void dropout_forward(const T* x, T* y, int64_t n, const DropRule& rule, T scale) {
  parallel_for(n, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = rule.keep(i) ? x[i] * scale : T(0);
  });
}

// gx_i = keep_i ? g_i * scale : 0, keep_i recomputed.
template <class T>
void dropout_backward(const DropRule& rule, const T* g, T* gx, int64_t n, T scale) {
  parallel_for(n, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) gx[i] = rule.keep(i) ? g[i] * scale : T(0);
  });
}

}  // namespace

// p in [0, 1]; p == 1 (as in PyTorch) zeroes everything and gives a zero gradient.
Tensor dropout(const Tensor& x_in, double p, Generator& g, bool training) {
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument("dropout: p must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0) return x_in;
  const Tensor x = x_in.contiguous_data();
  const int64_t n = x.numel();
  const double scale = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
  const DropRule rule(g.next_u64(), p);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    dropout_forward(x.data<T>(), y.data<T>(), n, rule, static_cast<T>(scale));
  });
  if (!needs_record({&x_in})) return y;
  const Shape shape = x.shape();
  return record(y, "dropout", {x_in},
                [rule, shape, n, scale](const Tensor& g_in, const std::vector<bool>&) {
                  const Tensor gy = g_in.contiguous_data();
                  Tensor gx = Tensor::empty(shape, gy.dtype());
                  dispatch(gy.dtype(), [&](auto z) {
                    using T = decltype(z);
                    dropout_backward(rule, gy.data<T>(), gx.data<T>(), n, static_cast<T>(scale));
                  });
                  return std::vector<Tensor>{gx};
                });
}

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// ---- cross_entropy. x: (N, C) logits, t: (N) targets, lse: (N), row_loss: (N).
// lse_i = log sum_c exp(x_ic), so -log p_ic = lse_i - x_ic, and for a row whose target is not
// ignore_index: row_loss_i = (1-s) (lse_i - x_{i,t_i}) + s (lse_i - mean_c x_ic).
// The loss is sum_i row_loss_i / n_valid, summed in row order.
// Each row in kCeLanes interleaved partial maxima and sums (a fixed order that vectorizes); e^ is
// kernel_exp (fast_exp.h).
constexpr int64_t kCeLanes = 16;
template <class T>
void cross_entropy_forward(const T* x, const int64_t* t, double* lse, double* row_loss, int64_t N,
                           int64_t C, int64_t ignore_index, double s) {
  parallel_for(N, row_grain(C), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      row_loss[i] = 0;
      if (t[i] == ignore_index) continue;
      const T* xr = x + i * C;
      T lane_max[kCeLanes];
      std::fill(lane_max, lane_max + kCeLanes, static_cast<T>(kNegInf));
      int64_t c = 0;
      for (; c + kCeLanes <= C; c += kCeLanes)
        for (int64_t l = 0; l < kCeLanes; ++l) lane_max[l] = std::max(lane_max[l], xr[c + l]);
      T m = static_cast<T>(kNegInf);
      for (T v : lane_max) m = std::max(m, v);
      for (; c < C; ++c) m = std::max(m, xr[c]);
      double lane_exp[kCeLanes] = {}, lane_x[kCeLanes] = {};
      for (c = 0; c + kCeLanes <= C; c += kCeLanes)
        for (int64_t l = 0; l < kCeLanes; ++l) {
          lane_exp[l] += kernel_exp(xr[c + l] - m);
          lane_x[l] += xr[c + l];
        }
      for (int64_t l = 0; c < C; ++c, ++l) {
        lane_exp[l] += kernel_exp(xr[c] - m);
        lane_x[l] += xr[c];
      }
      double sum = 0, sum_x = 0;
      for (int64_t l = 0; l < kCeLanes; ++l) {
        sum += lane_exp[l];
        sum_x += lane_x[l];
      }
      lse[i] = m + std::log(sum);
      row_loss[i] = (1 - s) * (lse[i] - xr[t[i]]);
      if (s != 0) row_loss[i] += s * (lse[i] - sum_x / C);
    }
  });
}

// With p_ic = exp(x_ic - lse_i) and k = g / n_valid:
//   gx_ic = k (p_ic - (1-s) [c == t_i] - s/C) on a valid row, 0 on an ignored one.
template <class T>
void cross_entropy_backward(const T* x, const int64_t* t, const double* lse, T* gx, int64_t N,
                            int64_t C, int64_t ignore_index, double s, double k) {
  parallel_for(N, row_grain(C), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* xr = x + i * C;
      T* gr = gx + i * C;
      if (t[i] == ignore_index) {
        for (int64_t c = 0; c < C; ++c) gr[c] = T(0);
        continue;
      }
      const double off = s / C;
      const T l = static_cast<T>(lse[i]);
      for (int64_t c = 0; c < C; ++c) gr[c] = static_cast<T>(k * (kernel_exp(xr[c] - l) - off));
      gr[t[i]] = static_cast<T>(k * (kernel_exp(xr[t[i]] - l) - (1 - s) - off));
    }
  });
}

}  // namespace

// All targets ignored gives a loss of 0 and a zero gradient (PyTorch gives NaN).
Tensor cross_entropy(const Tensor& logits_in, const IntTensor& targets, int64_t ignore_index,
                     double label_smoothing) {
  if (logits_in.dim() != 2)
    throw std::invalid_argument("cross_entropy: logits must be (N, C), got " +
                                shape_str(logits_in.shape()));
  const int64_t N = logits_in.size(0), C = logits_in.size(1);
  if (targets.shape != Shape{N})
    throw std::invalid_argument("cross_entropy: targets " + shape_str(targets.shape) +
                                " do not match logits " + shape_str(logits_in.shape()));
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw std::invalid_argument("cross_entropy: label_smoothing must be in [0, 1], got " +
                                std::to_string(label_smoothing));
  int64_t n_valid = 0;
  for (int64_t t : targets.data) {
    if (t == ignore_index) continue;
    if (t < 0 || t >= C)
      throw std::invalid_argument("cross_entropy: target " + std::to_string(t) +
                                  " out of range [0, " + std::to_string(C) + ")");
    ++n_valid;
  }
  const Tensor x = logits_in.contiguous_data();
  auto lse = std::make_shared<std::vector<double>>(N);
  std::vector<double> row_loss(N);
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    cross_entropy_forward(x.data<T>(), targets.data.data(), lse->data(), row_loss.data(), N, C,
                          ignore_index, label_smoothing);
  });
  double total = 0;
  for (double l : row_loss) total += l;
  Tensor y = Tensor::full({}, n_valid > 0 ? total / n_valid : 0.0, x.dtype());
  if (!needs_record({&logits_in})) return y;
  // Saves the logits (shared with the input) and lse; p is recomputed in backward.
  auto t = std::make_shared<const std::vector<int64_t>>(targets.data);
  const Tensor xs = x.detach();
  return record(y, "cross_entropy", {logits_in},
                [xs, t, lse, N, C, ignore_index, label_smoothing, n_valid](
                    const Tensor& g_in, const std::vector<bool>&) {
                  Tensor gx = Tensor::empty({N, C}, xs.dtype());
                  const double k = n_valid > 0 ? g_in.item() / n_valid : 0.0;
                  dispatch(xs.dtype(), [&](auto z) {
                    using T = decltype(z);
                    cross_entropy_backward(xs.data<T>(), t->data(), lse->data(), gx.data<T>(), N, C,
                                           ignore_index, label_smoothing, k);
                  });
                  return std::vector<Tensor>{gx};
                });
}

}  // namespace sg
