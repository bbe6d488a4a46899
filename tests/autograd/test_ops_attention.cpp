// The blocked route of the fused attention ops against the full route (which materializes the
// probabilities): outputs and every gradient in float64 and float32, over tiles that split the
// lengths unevenly, under each kind of mask; the same bits at 1 and 2 threads; fully masked rows
// give zeros and zero gradients; bad masks and tiles throw. Attention dropout inside the op
// (autograd/attention_dropout.h): both routes drop the same entries, the mask read back through an
// identity v is the hash of each entry's absolute position whatever the tiles, the route or the
// thread count, and keeps close to 1 - p of the entries; p == 0 is exactly no dropout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/attention_dropout.h"
#include "autograd/attention_kernels.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"
#include "layers/attention.h"

namespace sg {
namespace {

struct ThreadsGuard {
  int before = num_threads();
  ~ThreadsGuard() { use_threads(before); }
};

// max |a - b| <= tol * max |b| (+ tol for an all-zero b).
void expect_close(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  const auto x = a.to_vector(), y = b.to_vector();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_TRUE(std::isfinite(x[i])) << what << "[" << i << "]";
    diff = std::max(diff, std::fabs(x[i] - y[i]));
    scale = std::max(scale, std::fabs(y[i]));
  }
  EXPECT_LE(diff, tol * (scale + 1))
      << what << ": max abs diff " << diff << ", max |ref| " << scale;
}

// Key padding (B, 1, 1, Tk) past lengths[b] (0: every key), through the layers' mask helpers.
IntTensor key_padding(const std::vector<int64_t>& lengths, int64_t Tk) {
  const auto B = static_cast<int64_t>(lengths.size());
  IntTensor ids = IntTensor::zeros({B, Tk});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < lengths[b]; ++j) ids.data[b * Tk + j] = 1;
  return key_padding_mask(ids, 0);
}

// Causal (1, 1, T, T) or-ed with key padding: (B, 1, T, T).
IntTensor causal_padding(const std::vector<int64_t>& lengths, int64_t T) {
  return combine_masks(causal_mask(T), key_padding(lengths, T));
}

struct Run {
  Tensor y, dq, dk, dv;
  bool operator==(const Run& o) const {
    return y.to_vector() == o.y.to_vector() && dq.to_vector() == o.dq.to_vector() &&
           dk.to_vector() == o.dk.to_vector() && dv.to_vector() == o.dv.to_vector();
  }
};

// attention() on fresh leaves, backward from a fixed random upstream gradient; the full route
// when `full` (it asks for the probabilities), else the blocked route with `tiles`.
Run run(const Tensor& q0, const Tensor& k0, const Tensor& v0, const AttentionMask& mask, bool full,
        AttentionTiles tiles, AttentionDropout drop = {}) {
  Tensor q = q0.clone().set_requires_grad(true), k = k0.clone().set_requires_grad(true),
         v = v0.clone().set_requires_grad(true);
  Tensor p;
  Tensor y = attention(q, k, v, mask, 0.37, full ? &p : nullptr, tiles, drop);
  Generator g(99);
  y.backward(Tensor::randn(y.shape(), g, y.dtype()));
  return {y.detach(), q.grad(), k.grad(), v.grad()};
}

// q (B, H, Tq, Dh), k and v (B, H, Tk, Dh) in `dt`, from a fixed seed.
struct Inputs {
  Tensor q, k, v;
  Inputs(DType dt, int64_t B, int64_t H, int64_t Tq, int64_t Tk, int64_t Dh) {
    Generator g(7);
    q = Tensor::randn({B, H, Tq, Dh}, g, dt) * 1.5;
    k = Tensor::randn({B, H, Tk, Dh}, g, dt) * 1.5;
    v = Tensor::randn({B, H, Tk, Dh}, g, dt);
  }
};

// The blocked route under `mask` equals the full route under `full_mask` (default: `mask`), both
// with dropout `drop`.
void check_routes(DType dt, int64_t B, int64_t H, int64_t Tq, int64_t Tk, int64_t Dh,
                  const AttentionMask& mask, AttentionTiles tiles, double tol,
                  AttentionDropout drop = {}, const AttentionMask* full_mask = nullptr) {
  const Inputs in(dt, B, H, Tq, Tk, Dh);
  const Run full = run(in.q, in.k, in.v, full_mask ? *full_mask : mask, true, tiles, drop),
            blocked = run(in.q, in.k, in.v, mask, false, tiles, drop);
  const std::string at = "tiles " + std::to_string(tiles.rows) + "x" + std::to_string(tiles.keys) +
                         ", dropout " + std::to_string(drop.p);
  expect_close(blocked.y, full.y, tol, "y, " + at);
  expect_close(blocked.dq, full.dq, tol, "dq, " + at);
  expect_close(blocked.dk, full.dk, tol, "dk, " + at);
  expect_close(blocked.dv, full.dv, tol, "dv, " + at);
}

class BlockedAttention : public ::testing::TestWithParam<DType> {
 protected:
  double tol() const { return GetParam() == DType::f64 ? 1e-12 : 2e-6; }
};

TEST_P(BlockedAttention, EqualsFullRouteUnderKeyPaddingCrossAttention) {
  const IntTensor mask = key_padding({29, 11, 0}, 29);  // batch 2: every row fully masked
  for (const AttentionTiles t : {AttentionTiles{4, 8}, AttentionTiles{1, 1}, AttentionTiles{13, 29},
                                 AttentionTiles{64, 128}, AttentionTiles{5, 3}})
    check_routes(GetParam(), 3, 2, 13, 29, 8, &mask, t, tol());
}

TEST_P(BlockedAttention, EqualsFullRouteUnderCausalAndPaddingMasks) {
  const IntTensor both = causal_padding({37, 20}, 37), causal = causal_mask(37);
  for (const AttentionTiles t : {AttentionTiles{8, 16}, AttentionTiles{7, 5}}) {
    check_routes(GetParam(), 2, 3, 37, 37, 4, &both, t, tol());
    check_routes(GetParam(), 2, 3, 37, 37, 4, &causal, t, tol());
    check_routes(GetParam(), 2, 3, 37, 37, 4, nullptr, t, tol());
  }
}

TEST_P(BlockedAttention, EqualsFullRouteForPerHeadAndPerQueryMasks) {
  Generator g(3);
  const IntTensor per_head = random_ids({2, 3, 10, 9}, 2, g);
  IntTensor per_query = IntTensor::zeros({2, 1, 10, 1});  // (B, 1, Tq, 1): whole rows
  per_query.data[3] = per_query.data[10 + 9] = 1;
  for (const AttentionTiles t : {AttentionTiles{3, 4}, AttentionTiles{2, 2}}) {
    check_routes(GetParam(), 2, 3, 10, 9, 5, &per_head, t, tol());
    check_routes(GetParam(), 2, 3, 10, 9, 5, &per_query, t, tol());
  }
}

// Lengths past the default tiles (64 query rows, 128 keys).
TEST_P(BlockedAttention, EqualsFullRouteAcrossDefaultTiles) {
  const IntTensor both = causal_padding({300, 170}, 300);
  check_routes(GetParam(), 2, 2, 300, 300, 16, &both, AttentionTiles{}, tol());
}

TEST_P(BlockedAttention, EqualsFullRouteWithTheSameDropout) {
  IntTensor padding = IntTensor::zeros({3, 1, 1, 29});  // batch 1 keeps 11 keys, batch 2 none
  for (int64_t j = 0; j < 29; ++j) {
    padding.data[29 + j] = j >= 11;
    padding.data[58 + j] = 1;
  }
  const IntTensor both = causal_padding({37, 20}, 37);
  for (const AttentionTiles t : {AttentionTiles{4, 8}, AttentionTiles{5, 3}})
    check_routes(GetParam(), 3, 2, 13, 29, 8, &padding, t, tol(), {0.3, 17});
  for (const AttentionTiles t : {AttentionTiles{8, 16}, AttentionTiles{7, 5}}) {
    check_routes(GetParam(), 2, 3, 37, 37, 4, &both, t, tol(), {0.1, 5});
    check_routes(GetParam(), 2, 3, 37, 37, 4, nullptr, t, tol(), {0.5, 6});
  }
}

TEST_P(BlockedAttention, EqualsFullRouteWithTheSameDropoutAcrossDefaultTiles) {
  const IntTensor both = causal_padding({300, 170}, 300);
  check_routes(GetParam(), 2, 2, 300, 300, 16, &both, AttentionTiles{}, tol(), {0.1, 2026});
}

// The causal flag (no (T, T) tensor) over key padding equals the dense causal-and-padding mask,
// on the blocked route (against the full route with the dense mask) and on the full route; and
// alone with fewer queries than keys (query i sees keys 0 .. i); with dropout too.
TEST_P(BlockedAttention, CausalFlagEqualsTheDenseCausalMask) {
  const IntTensor pad = key_padding({37, 20}, 37), dense = causal_padding({37, 20}, 37);
  IntTensor upper = IntTensor::zeros({1, 1, 9, 14});
  for (int64_t i = 0; i < 9; ++i)
    for (int64_t j = i + 1; j < 14; ++j) upper.data[i * 14 + j] = 1;
  const AttentionMask flag(&pad, true), alone(nullptr, true), dense_ref(&dense), upper_ref(&upper);
  for (const AttentionTiles t : {AttentionTiles{8, 16}, AttentionTiles{7, 5}, AttentionTiles{}}) {
    check_routes(GetParam(), 2, 3, 37, 37, 4, flag, t, tol(), {}, &dense_ref);
    check_routes(GetParam(), 2, 3, 37, 37, 4, dense_ref, t, tol(), {}, &flag);
    check_routes(GetParam(), 2, 3, 37, 37, 4, flag, t, tol(), {0.2, 3}, &dense_ref);
    check_routes(GetParam(), 2, 2, 9, 14, 4, alone, t, tol(), {}, &upper_ref);
  }
  const IntTensor pad300 = key_padding({300, 170}, 300), dense300 = causal_padding({300, 170}, 300);
  const AttentionMask flag300(&pad300, true), dense300_ref(&dense300);
  check_routes(GetParam(), 2, 2, 300, 300, 16, flag300, AttentionTiles{}, tol(), {}, &dense300_ref);
}

INSTANTIATE_TEST_SUITE_P(DTypes, BlockedAttention, ::testing::Values(DType::f64, DType::f32),
                         [](const auto& p) { return p.param == DType::f64 ? "f64" : "f32"; });

TEST(BlockedAttentionRows, FullyMaskedRowsGiveZerosAndZeroGradients) {
  Generator g(4);
  const IntTensor mask = key_padding({5, 0}, 9);
  Tensor q = Tensor::randn({2, 2, 11, 4}, g).set_requires_grad(true),
         k = Tensor::randn({2, 2, 9, 4}, g).set_requires_grad(true),
         v = Tensor::randn({2, 2, 9, 4}, g).set_requires_grad(true);
  Tensor y = attention(q, k, v, &mask, 0.5, nullptr, AttentionTiles{4, 4});
  y.backward(Tensor::randn(y.shape(), g));
  const auto yv = y.to_vector();
  const int64_t half = 11 * 8;  // batch 1 of y (B, Tq, C)
  for (int64_t i = 0; i < half; ++i) EXPECT_NE(yv[i], 0.0) << i;
  for (int64_t i = half; i < 2 * half; ++i) EXPECT_EQ(yv[i], 0.0) << i;
  // Batch 1's gradients are exactly 0; batch 0's keys past 5 get none either.
  auto batch1_zero = [](const Tensor& d, const std::string& what) {
    const auto x = d.to_vector();
    const size_t n = x.size() / 2;
    for (size_t i = n; i < x.size(); ++i) ASSERT_EQ(x[i], 0.0) << what << "[" << i << "]";
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += std::fabs(x[i]);
    EXPECT_GT(s, 0) << what;
  };
  batch1_zero(q.grad(), "dq");
  batch1_zero(k.grad(), "dk");
  batch1_zero(v.grad(), "dv");
  const auto dk = k.grad().to_vector();  // (B, H, Tk, Dh) values
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t j = 5; j < 9; ++j)
      for (int64_t c = 0; c < 4; ++c) EXPECT_EQ(dk[(h * 9 + j) * 4 + c], 0.0);
}

// Enough tasks for both threads to work in the forward (B H query tiles) and the backward (B H);
// without and with attention dropout.
TEST(BlockedAttentionThreads, SameBitsAtOneAndTwoThreads) {
  ThreadsGuard guard;
  Generator g(8);
  const IntTensor mask = causal_padding({64, 50}, 64);
  const Tensor x0 = Tensor::randn({2, 64, 3 * 32}, g), up = Tensor::randn({2, 64, 32}, g);
  for (const AttentionDropout drop : {AttentionDropout{}, AttentionDropout{0.2, 42}}) {
    auto once = [&](int threads) {
      use_threads(threads);
      Tensor x = x0.clone().set_requires_grad(true);
      Tensor y = self_attention(x, 4, &mask, 0.35, nullptr, AttentionTiles{8, 16}, drop);
      y.backward(up);
      return std::make_pair(y.to_vector(), x.grad().to_vector());
    };
    const auto one = once(1), two = once(2);
    EXPECT_EQ(one.first, two.first);
    EXPECT_EQ(one.second, two.second);
    EXPECT_EQ(once(2).second, two.second);
  }
}

// A decoder's causal flag over key padding keeps B T mask bytes, and classifies tiles from their
// indices: above the diagonal masked, on it mixed, below it as the padding says.
TEST(BlockedAttentionMask, CausalFlagKeepsLinearBytesAndClassifiesTiles) {
  const IntTensor pad = key_padding({300, 170}, 300);
  const attn::Mask m = attn::make_mask({&pad, true}, 2, 4, 300, 300, AttentionTiles{});
  EXPECT_EQ(m.bytes.size(), 2u * 300);
  EXPECT_EQ(m.tile(0, 0, 0, 1), attn::Mask::kMasked);  // queries 0-63, keys 128-255
  EXPECT_EQ(m.tile(0, 3, 2, 1), attn::Mask::kMixed);   // queries 128-191, keys 128-255
  EXPECT_EQ(m.tile(0, 0, 4, 1), attn::Mask::kLive);    // queries 256-299, keys 128-255
  EXPECT_EQ(m.tile(1, 0, 4, 0), attn::Mask::kLive);    // batch 1 keeps keys 0-169
  EXPECT_EQ(m.tile(1, 0, 4, 1), attn::Mask::kMixed);
  EXPECT_EQ(m.tile(1, 0, 4, 2), attn::Mask::kMasked);  // keys 256-299 all padding
  EXPECT_EQ(m.tile(0, 0, 4, 2), attn::Mask::kMixed);   // the diagonal's last tile
}

TEST(BlockedAttentionErrors, RejectsMasksThatDoNotBroadcastAndEmptyTiles) {
  const Tensor q = Tensor::zeros({2, 2, 3, 4}), k = Tensor::zeros({2, 2, 5, 4});
  const IntTensor bad = IntTensor::zeros({2, 1, 1, 4}), worse = IntTensor::zeros({1, 2, 2, 1, 5});
  EXPECT_THROW(attention(q, k, k, &bad, 1.0), std::invalid_argument);
  EXPECT_THROW(attention(q, k, k, &worse, 1.0), std::invalid_argument);
  EXPECT_THROW(attention(q, k, k, nullptr, 1.0, nullptr, AttentionTiles{0, 4}),
               std::invalid_argument);
}

// With v the identity (Dh = Tk, so q and k are (B, H, T, T) too), y[b, i, h Tk + j] = P_ij M_ij:
// every unmasked probability is positive, so the zeros of y are exactly the dropped entries and the
// rest are P / (1 - p).
TEST(AttentionDropoutMask, IsTheHashOfEachPositionOnEveryRouteTileAndThreadCount) {
  ThreadsGuard guard;
  const int64_t B = 2, H = 4, T = 128;
  const double p = 0.1;
  const AttentionDropout drop{p, 0xC0FFEE};
  Generator g(11);
  const Tensor q = Tensor::randn({B, H, T, T}, g, DType::f64) * 0.2,
               k = Tensor::randn({B, H, T, T}, g, DType::f64) * 0.2;
  Tensor v = Tensor::zeros({B, H, T, T}, DType::f64);
  double* pv = v.data<double>();
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t j = 0; j < T; ++j) pv[(bh * T + j) * T + j] = 1;
  Tensor probs;
  const Tensor full = attention(q, k, v, nullptr, 0.5, &probs, {}, drop);
  const auto yf = full.to_vector(), pf = probs.to_vector();
  const attn::DropMask mask(drop);
  int64_t kept = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < T; ++j) {
          const double y = yf[(b * T + i) * H * T + h * T + j],
                       pr = pf[((b * H + h) * T + i) * T + j];
          const bool keep = mask.keep(mask.row(b, h, i), j);
          ASSERT_GT(pr, 0);
          ASSERT_EQ(y != 0, keep) << b << " " << h << " " << i << " " << j;
          if (keep) {
            EXPECT_NEAR(y, pr / (1 - p), 1e-15);
          }
          kept += keep;
        }
  // Binomial(n, 1 - p): the share kept within 4 standard deviations of 1 - p.
  const double n = static_cast<double>(B * H * T * T), sd = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(kept), n * (1 - p), 4 * sd);
  // The blocked route drops the same entries whatever its tiles and thread count.
  for (const AttentionTiles t : {AttentionTiles{16, 32}, AttentionTiles{7, 13}})
    for (int threads : {1, 2}) {
      use_threads(threads);
      const auto yb = attention(q, k, v, nullptr, 0.5, nullptr, t, drop).to_vector();
      for (size_t e = 0; e < yb.size(); ++e) ASSERT_EQ(yb[e] != 0, yf[e] != 0) << e;
    }
}

TEST(AttentionDropoutMask, DiffersBetweenSeedsHeadsAndBatchElements) {
  const attn::DropMask a({0.5, 1}), b({0.5, 2});
  auto pattern = [](const attn::DropMask& m, int64_t bb, int64_t h) {
    std::vector<bool> keep;
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t j = 0; j < 16; ++j) keep.push_back(m.keep(m.row(bb, h, i), j));
    return keep;
  };
  EXPECT_NE(pattern(a, 0, 0), pattern(b, 0, 0));
  EXPECT_NE(pattern(a, 0, 0), pattern(a, 0, 1));
  EXPECT_NE(pattern(a, 0, 0), pattern(a, 1, 0));
}

TEST(AttentionDropoutOff, ZeroProbabilityIsExactlyNoDropoutOnBothRoutes) {
  const IntTensor mask = causal_padding({19, 11}, 19);
  for (DType dt : {DType::f64, DType::f32})
    for (bool full : {false, true}) {
      const Inputs in(dt, 2, 2, 19, 19, 4);
      const AttentionTiles t{4, 6};
      EXPECT_TRUE(run(in.q, in.k, in.v, &mask, full, t, {0.0, 12345}) ==
                  run(in.q, in.k, in.v, &mask, full, t, {}));
      EXPECT_FALSE(run(in.q, in.k, in.v, &mask, full, t, {0.1, 12345}) ==
                   run(in.q, in.k, in.v, &mask, full, t, {}));
    }
}

TEST(AttentionDropoutErrors, RejectsProbabilitiesOutsideZeroToOne) {
  const Tensor q = Tensor::zeros({1, 1, 3, 4});
  for (double p : {-0.1, 1.0, 1.5, std::nan("")}) {
    EXPECT_THROW(attention(q, q, q, nullptr, 1.0, nullptr, {}, {p, 1}), std::invalid_argument);
    Tensor probs;
    EXPECT_THROW(attention(q, q, q, nullptr, 1.0, &probs, {}, {p, 1}), std::invalid_argument);
  }
}

}  // namespace
}  // namespace sg
