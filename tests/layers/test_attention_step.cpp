// attention_one_query (layers/attention_step.h), the attention of a decoding step: equal to the
// fused attention op within float rounding, on strided cache views, with key padding, fully
// masked rows, a row map (several query rows reading one row of keys and values) and a row map per
// key position (a reordered cache); and MultiHeadAttention choosing it only for one query position
// without a gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "layers/attention.h"
#include "layers/attention_step.h"

namespace sg {
namespace {

constexpr int64_t B = 3, H = 2, Tk = 5, Dh = 20, Cap = 8;  // Dh: lanes and a tail

// The first Tk positions of a (B, H, Cap, Dh) buffer, as the decoder cache views them.
Tensor cache_view(Generator& g, DType dtype) {
  const Tensor buf = Tensor::randn({B, H, Cap, Dh}, g, dtype);
  return Tensor::view_of(buf, {B, H, Tk, Dh}, {H * Cap * Dh, Cap * Dh, Dh, 1}, 0);
}

void expect_near(const Tensor& a, const Tensor& b, double tol) {
  ASSERT_EQ(a.shape(), b.shape());
  const auto x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << i;
}

TEST(AttentionOneQuery, EqualsTheFusedOpOnCacheViewsWithKeyPadding) {
  NoGradGuard ng;
  for (DType dtype : {DType::f32, DType::f64}) {
    Generator g(7);
    const Tensor q = Tensor::randn({B, H, 1, Dh}, g, dtype);
    const Tensor k = cache_view(g, dtype), v = cache_view(g, dtype);
    // Row 0 sees every key, row 1 the first two, row 2 none (its output is 0).
    IntTensor mask = IntTensor::zeros({B, 1, 1, Tk});
    for (int64_t j = 2; j < Tk; ++j) mask.data[Tk + j] = 1;
    for (int64_t j = 0; j < Tk; ++j) mask.data[2 * Tk + j] = 1;
    const double tol = dtype == DType::f32 ? 1e-5 : 1e-12;
    const IntTensor* const masks[] = {nullptr, &mask};
    for (const IntTensor* m : masks)
      expect_near(attention_one_query(q, k, v, m, 0.3), attention(q, k, v, m, 0.3), tol);
    const auto y = attention_one_query(q, k, v, &mask, 0.3).to_vector();
    for (int64_t c = 0; c < H * Dh; ++c) EXPECT_EQ(y[2 * H * Dh + c], 0.0);
  }
}

TEST(AttentionOneQuery, RowsReadTheKeysAndMaskOfTheirMappedRow) {
  NoGradGuard ng;
  Generator g(8);
  const Tensor q = Tensor::randn({4, H, 1, Dh}, g, DType::f64);
  const Tensor k = cache_view(g, DType::f64), v = cache_view(g, DType::f64);
  IntTensor mask = IntTensor::zeros({B, 1, 1, Tk});
  mask.data[2 * Tk + 1] = 1;
  const std::vector<int64_t> rows{2, 0, 2, 1};
  // The same keys, values and mask rows copied out, one per query row.
  std::vector<double> kk, vv;
  std::vector<int64_t> mm;
  const auto kc = k.contiguous_data().to_vector(), vc = v.contiguous_data().to_vector();
  const int64_t n = H * Tk * Dh;
  for (int64_t r : rows) {
    kk.insert(kk.end(), kc.begin() + r * n, kc.begin() + (r + 1) * n);
    vv.insert(vv.end(), vc.begin() + r * n, vc.begin() + (r + 1) * n);
    mm.insert(mm.end(), mask.data.begin() + r * Tk, mask.data.begin() + (r + 1) * Tk);
  }
  const Tensor k4 = Tensor::from_vector(kk, {4, H, Tk, Dh}, DType::f64);
  const Tensor v4 = Tensor::from_vector(vv, {4, H, Tk, Dh}, DType::f64);
  const IntTensor m4({4, 1, 1, Tk}, mm);
  expect_near(attention_one_query(q, k, v, &mask, 0.5, &rows), attention(q, k4, v4, &m4, 0.5),
              1e-12);
  const std::vector<int64_t> bad{0, 3, 0, 0}, short_map{0};
  EXPECT_THROW(attention_one_query(q, k, v, &mask, 0.5, &bad), std::invalid_argument);
  EXPECT_THROW(attention_one_query(q, k, v, &mask, 0.5, &short_map), std::invalid_argument);
}

// Head size a multiple of 16 in float: eight keys' scores at a time (the rest one by one), masked
// keys inside and after the blocks of eight.
TEST(AttentionOneQuery, EightKeysAtATimeEqualTheFusedOp) {
  NoGradGuard ng;
  constexpr int64_t Bq = 2, Tq = 19, D = 32;
  Generator g(11);
  const Tensor q = Tensor::randn({Bq, H, 1, D}, g, DType::f32);
  const Tensor k = Tensor::randn({Bq, H, Tq, D}, g, DType::f32);
  const Tensor v = Tensor::randn({Bq, H, Tq, D}, g, DType::f32);
  IntTensor mask = IntTensor::zeros({Bq, 1, 1, Tq});
  for (int64_t j : {3, 9, 17}) mask.data[Tq + j] = 1;
  const IntTensor* const masks[] = {nullptr, &mask};
  for (const IntTensor* m : masks)
    expect_near(attention_one_query(q, k, v, m, 0.2), attention(q, k, v, m, 0.2), 1e-5);
}

// Keys after the last allowed one (a shorter source's padding) are not read, and the result has
// the bits of the same attention without them: NaN in the padding changes nothing. 11 allowed
// keys: a block of eight and a last one of three.
TEST(AttentionOneQuery, PaddingAfterTheLastAllowedKeyIsNotRead) {
  NoGradGuard ng;
  constexpr int64_t Tq = 19, Live = 11, D = 32;
  for (DType dtype : {DType::f32, DType::f64}) {
    Generator g(12);
    const Tensor q = Tensor::randn({1, H, 1, D}, g, dtype);
    const Tensor k = Tensor::randn({1, H, Live, D}, g, dtype);
    const Tensor v = Tensor::randn({1, H, Live, D}, g, dtype);
    std::vector<double> kp, vp;
    const auto kc = k.to_vector(), vc = v.to_vector();
    for (int64_t h = 0; h < H; ++h) {
      kp.insert(kp.end(), kc.begin() + h * Live * D, kc.begin() + (h + 1) * Live * D);
      vp.insert(vp.end(), vc.begin() + h * Live * D, vc.begin() + (h + 1) * Live * D);
      kp.insert(kp.end(), (Tq - Live) * D, std::nan(""));
      vp.insert(vp.end(), (Tq - Live) * D, std::nan(""));
    }
    IntTensor mask = IntTensor::zeros({1, 1, 1, Tq});
    for (int64_t j = Live; j < Tq; ++j) mask.data[j] = 1;
    mask.data[4] = 1;  // and one masked key among the allowed ones
    IntTensor live_mask = IntTensor::zeros({1, 1, 1, Live});
    live_mask.data[4] = 1;
    const Tensor kpad = Tensor::from_vector(kp, {1, H, Tq, D}, dtype);
    const Tensor vpad = Tensor::from_vector(vp, {1, H, Tq, D}, dtype);
    EXPECT_EQ(attention_one_query(q, kpad, vpad, &mask, 0.2).to_vector(),
              attention_one_query(q, k, v, &live_mask, 0.2).to_vector());
    expect_near(attention_one_query(q, k, v, &live_mask, 0.2), attention(q, k, v, &live_mask, 0.2),
                1e-5);
  }
}

// key_rows: query row b reads key and value j from row key_rows[b * Tk + j], the same bits as the
// attention of those keys and values copied out into rows of their own.
TEST(AttentionOneQuery, KeysReadThroughAPerPositionRowMap) {
  NoGradGuard ng;
  for (DType dtype : {DType::f32, DType::f64}) {
    Generator g(10);
    const Tensor q = Tensor::randn({4, H, 1, Dh}, g, dtype);
    const Tensor k = cache_view(g, dtype), v = cache_view(g, dtype);  // B = 3 rows
    std::vector<int64_t> rows(4 * Tk);
    for (int64_t i = 0; i < 4 * Tk; ++i) rows[i] = (i * 7 + i / Tk) % B;
    std::vector<double> kk, vv;
    const auto kc = k.contiguous_data().to_vector(), vc = v.contiguous_data().to_vector();
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < Tk; ++j) {
          const int64_t at = ((rows[b * Tk + j] * H + h) * Tk + j) * Dh;
          kk.insert(kk.end(), kc.begin() + at, kc.begin() + at + Dh);
          vv.insert(vv.end(), vc.begin() + at, vc.begin() + at + Dh);
        }
    const Tensor k4 = Tensor::from_vector(kk, {4, H, Tk, Dh}, dtype);
    const Tensor v4 = Tensor::from_vector(vv, {4, H, Tk, Dh}, dtype);
    EXPECT_EQ(attention_one_query(q, k, v, nullptr, 0.4, nullptr, &rows).to_vector(),
              attention_one_query(q, k4, v4, nullptr, 0.4).to_vector());
    std::vector<int64_t> bad = rows;
    bad[5] = B;
    const std::vector<int64_t> short_map(4 * Tk - 1, 0), per_row{0, 1, 2, 0};
    IntTensor mask = IntTensor::zeros({B, 1, 1, Tk});
    EXPECT_THROW(attention_one_query(q, k, v, nullptr, 0.4, nullptr, &bad), std::invalid_argument);
    EXPECT_THROW(attention_one_query(q, k, v, nullptr, 0.4, nullptr, &short_map),
                 std::invalid_argument);
    EXPECT_THROW(attention_one_query(q, k, v, &mask, 0.4, nullptr, &rows), std::invalid_argument);
    EXPECT_THROW(attention_one_query(q, k, v, nullptr, 0.4, &per_row, &rows),
                 std::invalid_argument);
  }
}

TEST(AttentionOneQuery, MultiHeadAttentionUsesItOnlyWithoutGradient) {
  Generator g(9);
  MultiHeadAttention mha(8, 2, 0.0, nullptr, g, DType::f64);
  const Tensor y = Tensor::randn({2, 1, 8}, g, DType::f64);
  const Tensor mem = Tensor::randn({2, 4, 8}, g, DType::f64);
  const Tensor with_grad = mha.forward_cross(y, mem, nullptr);
  EXPECT_TRUE(with_grad.requires_grad());  // the recorded path
  NoGradGuard ng;
  KeyValue kv = mha.project_kv(mem);
  expect_near(mha.attend(y, kv, nullptr), with_grad.detach(), 1e-12);
  // With a row map, the weights path copies the rows out and agrees with the step path.
  kv.rows = {1, 1, 0};
  const Tensor y3 = Tensor::randn({3, 1, 8}, g, DType::f64);
  Tensor w;
  const Tensor weighted = mha.attend(y3, kv, nullptr, &w);
  EXPECT_EQ(w.shape(), (Shape{3, 2, 1, 4}));
  expect_near(mha.attend(y3, kv, nullptr), weighted, 1e-12);
}

}  // namespace
}  // namespace sg
