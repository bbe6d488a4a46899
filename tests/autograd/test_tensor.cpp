// Tensor storage, views and strides, copies, dtype conversion, factories and the Generator.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "autograd/ops.h"
#include "autograd/random.h"
#include "autograd/tensor.h"

namespace sg {
namespace {

Tensor iota(const Shape& shape, DType dt = DType::f32) {
  std::vector<double> v(shape_numel(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return Tensor::from_vector(v, shape, dt);
}

// Large buffers (32 MB and more) are kept when freed and reused by a request of about their size;
// smaller ones are not kept; at most 8 and 1 GiB are kept. Under AddressSanitizer none are, so
// that a use after free is still reported.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kKeeps = false;
#else
constexpr bool kKeeps = true;
#endif
TEST(Storage, LargeBuffersAreKeptAndReusedWithinBounds) {
  constexpr size_t MB = size_t{1} << 20;
  release_kept_buffers();
  void* first = nullptr;
  { first = Storage(40 * MB).ptr; }
  {
    const Storage b(39 * MB);  // fits the kept 40 MB buffer (within 5/4 of 39 MB)
    EXPECT_GE(b.capacity, b.nbytes);
    EXPECT_EQ(b.ptr == first, kKeeps);
  }
  { const Storage small(kKeptBufferBytes - 64); }  // below the threshold: freed
  { const Storage big(64 * MB); }                  // the 40 MB one is too small: a new buffer
  { const Storage huge(200 * MB); }                // nothing kept holds it: a new buffer
  EXPECT_EQ(release_kept_buffers(), kKeeps ? 3u : 0u);
  {
    std::vector<std::unique_ptr<Storage>> many;
    for (int i = 0; i < 10; ++i) many.push_back(std::make_unique<Storage>(33 * MB));
  }
  EXPECT_EQ(release_kept_buffers(), kKeeps ? 8u : 0u);
  {
    std::vector<std::unique_ptr<Storage>> large;  // never touched: no pages
    for (int i = 0; i < 3; ++i) large.push_back(std::make_unique<Storage>(400 * MB));
  }
  EXPECT_EQ(release_kept_buffers(), kKeeps ? 2u : 0u);  // 1 GiB holds two of them
}

// A reused buffer is not zeroed: Tensor::zeros still gives zeros after a large tensor of ones.
TEST(Storage, ZerosAreZeroInAReusedBuffer) {
  { const Tensor ones = Tensor::full({10 << 20}, 1.0, DType::f32); }
  const Tensor z = Tensor::zeros({10 << 20}, DType::f32);
  const float* p = z.data<float>();
  EXPECT_TRUE(std::all_of(p, p + z.numel(), [](float v) { return v == 0.0f; }));
  release_kept_buffers();
}

TEST(Tensor, ContiguousStridesAreRowMajor) {
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({}), Shape{});
  const Tensor t = Tensor::zeros({2, 3, 4});
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.size(-1), 4);
}

TEST(Tensor, ViewStridesFollowTheOp) {
  const Tensor t = iota({2, 3, 4});
  EXPECT_EQ(transpose(t, 0, 2).strides(), (Shape{1, 4, 12}));
  EXPECT_EQ(permute(t, {1, 2, 0}).strides(), (Shape{4, 1, 12}));
  const Tensor s = slice(t, 2, 1, 4, 2);
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.strides(), (Shape{12, 4, 2}));
  EXPECT_EQ(s.offset(), 1);
  EXPECT_EQ(broadcast_to(iota({3, 1}), {2, 3, 4}).strides(), (Shape{0, 1, 0}));
}

TEST(Tensor, IsContiguous) {
  const Tensor t = iota({3, 4});
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_FALSE(transpose(t, 0, 1).is_contiguous());
  EXPECT_TRUE(slice(t, 0, 1, 3).is_contiguous());   // whole rows
  EXPECT_FALSE(slice(t, 1, 0, 2).is_contiguous());  // part of each row
  EXPECT_FALSE(slice(t, 0, 0, 3, 2).is_contiguous());
  // A size-1 dim's stride does not matter.
  EXPECT_TRUE(Tensor::view_of(t, {1, 4}, {99, 1}, 0).is_contiguous());
  EXPECT_TRUE(transpose(iota({1, 4}), 0, 1).is_contiguous());
}

TEST(Tensor, TransposeSharesStorageBothWays) {
  const Tensor t = iota({2, 3});
  const Tensor v = transpose(t, 0, 1);  // v[c][r] = t[r][c]
  t.data<float>()[1 * 3 + 2] = 100.f;   // t[1][2]
  EXPECT_EQ(v.to_vector()[2 * 2 + 1], 100.0);
  v.data<float>()[0 * v.strides()[0] + 1 * v.strides()[1]] = -7.f;  // v[0][1] = t[1][0]
  EXPECT_EQ(t.to_vector()[3], -7.0);
}

TEST(Tensor, SliceWritesThroughToItsBase) {
  const Tensor t = iota({4, 5});
  const Tensor s = slice(t, 1, 1, 5, 2);  // columns 1 and 3
  EXPECT_EQ(s.to_vector(), (std::vector<double>{1, 3, 6, 8, 11, 13, 16, 18}));
  s.data<float>()[2 * s.strides()[0] + 1 * s.strides()[1]] = 42.f;  // s[2][1] = t[2][3]
  EXPECT_EQ(t.to_vector()[2 * 5 + 3], 42.0);
  EXPECT_EQ(s.impl()->storage, t.impl()->storage);
}

TEST(Tensor, ContiguousDataCopiesOnlyWhenNeeded) {
  const Tensor t = iota({2, 3});
  EXPECT_TRUE(t.contiguous_data().same(t));
  const Tensor v = transpose(t, 0, 1);
  const Tensor c = v.contiguous_data();
  EXPECT_NE(c.impl()->storage, t.impl()->storage);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  c.data<float>()[0] = 9.f;
  EXPECT_EQ(t.to_vector()[0], 0.0);
}

TEST(Tensor, CloneIsADeepCopy) {
  const Tensor t = iota({2, 2});
  const Tensor c = t.clone();
  c.data<float>()[3] = -1.f;
  EXPECT_EQ(t.to_vector()[3], 3.0);
  EXPECT_EQ(slice(transpose(t, 0, 1), 0, 1, 2).clone().to_vector(), (std::vector<double>{1, 3}));
}

TEST(Tensor, ToConvertsDtype) {
  const Tensor f = Tensor::from_vector({0.1, -2.5, 3e10}, {3}, DType::f32);
  const Tensor d = f.to(DType::f64);
  EXPECT_EQ(d.dtype(), DType::f64);
  EXPECT_EQ(d.data<double>()[0], static_cast<double>(0.1f));
  EXPECT_EQ(d.data<double>()[2], static_cast<double>(3e10f));
  const Tensor back = Tensor::from_vector({0.1}, {1}, DType::f64).to(DType::f32);
  EXPECT_EQ(back.dtype(), DType::f32);
  EXPECT_EQ(back.data<float>()[0], 0.1f);
  const Tensor same = f.to(DType::f32);
  EXPECT_NE(same.impl()->storage, f.impl()->storage);
  // A non-contiguous source converts in logical order.
  EXPECT_EQ(transpose(iota({2, 3}), 0, 1).to(DType::f64).to_vector(),
            (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(f.data<double>(), std::runtime_error);
}

TEST(Tensor, FactoriesCheckTheirSizes) {
  EXPECT_THROW(Tensor::from_vector({1, 2, 3}, {2, 2}), std::invalid_argument);
  EXPECT_THROW(Tensor::from_floats({1.f, 2.f}, {3}), std::invalid_argument);
  EXPECT_THROW(Tensor::empty({2, -1}), std::invalid_argument);
  EXPECT_THROW(IntTensor({2, 2}, {1, 2, 3}), std::invalid_argument);
  EXPECT_NO_THROW(Tensor::from_vector({}, {0, 3}));
  try {
    Tensor::from_vector({1, 2, 3}, {2, 2});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("{2,2}"), std::string::npos) << e.what();
  }
}

TEST(Tensor, FullZerosAndItem) {
  EXPECT_EQ(Tensor::full({2, 2}, 1.5, DType::f64).to_vector(), (std::vector<double>(4, 1.5)));
  EXPECT_EQ(Tensor::zeros({3}).to_vector(), (std::vector<double>(3, 0.0)));
  EXPECT_EQ(Tensor::full({}, 4.0).item(), 4.0);
  EXPECT_THROW(Tensor::zeros({2}).item(), std::invalid_argument);
}

TEST(Generator, SameSeedSameSequence) {
  Generator a(123), b(123), c(124);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
  Generator g1(7), g2(7);
  EXPECT_EQ(Tensor::randn({50}, g1).to_vector(), Tensor::randn({50}, g2).to_vector());
}

TEST(Generator, StateRestoreContinuesIdentically) {
  Generator g(99);
  for (int i = 0; i < 10; ++i) g.normal();
  const Generator::State saved = g.state();
  std::vector<double> first;
  for (int i = 0; i < 20; ++i) first.push_back(i % 2 ? g.normal() : g.uniform());
  Generator other(5);
  other.set_state(saved);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(first[i], i % 2 ? other.normal() : other.uniform());
  g.set_state(saved);
  EXPECT_EQ(g.uniform(), first[0]);
}

TEST(Generator, RangesHold) {
  Generator g(1);
  for (int i = 0; i < 1000; ++i) {
    const double u = g.uniform(-2, 3);
    EXPECT_GE(u, -2);
    EXPECT_LT(u, 3);
    EXPECT_LT(g.below(7), 7u);
  }
}

}  // namespace
}  // namespace sg
