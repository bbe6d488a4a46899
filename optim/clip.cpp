// clip_grad_norm: per-gradient norms (threaded over parameters, each norm by one thread, so the
// result does not depend on the thread count), their norm, then one scaling pass.
#include "optim/clip.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autograd/parallel.h"

namespace sg {

float norm2_f32(const float* x, int64_t n) {
  constexpr int64_t kLanes = 8;  // ATen's Vectorized<float>::size() without AVX
  float acc[kLanes] = {};
  int64_t d = 0;
  for (; d < n - n % kLanes; d += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) acc[j] = acc[j] + x[d + j] * x[d + j];
  float sum = acc[0];
  for (int64_t j = 1; j < kLanes; ++j) sum = sum + acc[j];
  for (; d < n; ++d) sum = sum + x[d] * x[d];
  return std::sqrt(sum);
}

namespace {

// The contiguous float32 gradient of `p`, or null if it has none.
float* grad_of(const std::string& name, const Tensor& p) {
  if (!p.impl()->grad) return nullptr;
  const Tensor g(p.impl()->grad);
  if (g.dtype() != DType::f32 || g.shape() != p.shape() || !g.is_contiguous())
    throw std::invalid_argument("clip_grad_norm: gradient of '" + name +
                                "' must be a contiguous float32 tensor shaped like it");
  return g.data<float>();
}

}  // namespace

ClipResult clip_grad_norm(const NamedParams& params, double max_norm, NonFinite on_nonfinite,
                          ClipApply apply) {
  if (!(max_norm > 0) || !std::isfinite(max_norm))
    throw std::invalid_argument("clip_grad_norm: max_norm must be finite and > 0, got " +
                                std::to_string(max_norm));
  const int64_t count = static_cast<int64_t>(params.size());
  std::vector<float*> grads(params.size());
  std::vector<float> norms(params.size(), 0.0f);
  int64_t total_numel = 0;
  for (int64_t i = 0; i < count; ++i) {
    grads[i] = grad_of(params[i].first, params[i].second);
    if (grads[i] != nullptr) total_numel += params[i].second.numel();
  }
#pragma omp parallel for schedule(dynamic, 1) if (total_numel > kParallelGrain)
  for (int64_t i = 0; i < count; ++i)
    if (grads[i] != nullptr) norms[i] = norm2_f32(grads[i], params[i].second.numel());

  // torch.stack of the defined gradients' norms, in parameter order.
  int64_t defined = 0;
  for (int64_t i = 0; i < count; ++i)
    if (grads[i] != nullptr) norms[defined++] = norms[i];

  ClipResult r;
  if (defined == 0) return r;
  r.total_norm = norm2_f32(norms.data(), defined);
  if (!std::isfinite(r.total_norm)) {
    r.finite = false;
    for (int64_t i = 0, k = 0; i < count && r.nonfinite_param.empty(); ++i)
      if (grads[i] != nullptr && !std::isfinite(norms[k++])) r.nonfinite_param = params[i].first;
    if (on_nonfinite == NonFinite::error)
      throw std::runtime_error("clip_grad_norm: the total gradient norm is " +
                               std::string(std::isnan(r.total_norm) ? "nan" : "inf") +
                               (r.nonfinite_param.empty()
                                    ? std::string(" (the sum of squares overflowed)")
                                    : " (first non-finite gradient: '" + r.nonfinite_param + "')"));
    return r;
  }
  // clip_coef = max_norm / (total + 1e-6) is Tensor.__rtruediv__: reciprocal(...) * max_norm.
  const float denom = r.total_norm + static_cast<float>(1e-6);
  const float coef_raw = (1.0f / denom) * static_cast<float>(max_norm);
  const float coef = coef_raw < 1.0f ? coef_raw : 1.0f;  // clamp(max=1.0)
  if (coef == 1.0f) return r;                            // g * 1.0f == g
  r.clipped = true;
  r.coef = coef;
  if (apply == ClipApply::defer) return r;
  for (int64_t i = 0; i < count; ++i) {
    float* g = grads[i];
    if (g == nullptr) continue;
    parallel_for(params[i].second.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) g[k] = g[k] * coef;
    });
  }
  return r;
}

}  // namespace sg
