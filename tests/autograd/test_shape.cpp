// Shape op values and errors: reshape views and copies, -1, slice clamping, concat, permute.
#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace sg {
namespace {

Tensor iota(const Shape& shape) {
  std::vector<double> v(shape_numel(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return Tensor::from_vector(v, shape);
}

std::vector<double> range(std::initializer_list<double> v) {
  return v;
}

TEST(Reshape, ViewOfContiguousCopyOfStrided) {
  const Tensor t = iota({2, 6});
  const Tensor r = reshape(t, {3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 4}));
  EXPECT_EQ(r.impl()->storage, t.impl()->storage);
  const Tensor s = reshape(slice(t, 0, 1, 2), {2, 3});  // contiguous, offset 6
  EXPECT_EQ(s.to_vector(), range({6, 7, 8, 9, 10, 11}));
  const Tensor c = reshape(transpose(t, 0, 1), {12});
  EXPECT_NE(c.impl()->storage, t.impl()->storage);
  EXPECT_EQ(c.to_vector(), range({0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
}

TEST(Reshape, ErrorsNameTheShapes) {
  const Tensor t = iota({3, 4});
  EXPECT_THROW(reshape(t, {5, 3}), std::invalid_argument);
  EXPECT_THROW(reshape(t, {-1, -1}), std::invalid_argument);
  EXPECT_THROW(reshape(t, {5, -1}), std::invalid_argument);
  EXPECT_THROW(reshape(t, {0, -1}), std::invalid_argument);
  try {
    reshape(t, {5, 3});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("reshape"), std::string::npos) << m;
    EXPECT_NE(m.find("{3,4}"), std::string::npos) << m;
    EXPECT_NE(m.find("{5,3}"), std::string::npos) << m;
  }
}

TEST(Slice, ClampsLikePython) {
  const Tensor t = iota({6});
  EXPECT_EQ(slice(t, 0, 2, 100).to_vector(), range({2, 3, 4, 5}));
  EXPECT_EQ(slice(t, 0, -2, 6).to_vector(), range({4, 5}));
  EXPECT_EQ(slice(t, 0, -100, 2).to_vector(), range({0, 1}));
  EXPECT_EQ(slice(t, 0, 1, -1, 2).to_vector(), range({1, 3}));
  EXPECT_EQ(slice(t, 0, 0, 6, 4).to_vector(), range({0, 4}));
  EXPECT_EQ(slice(t, 0, 4, 2).numel(), 0);
  EXPECT_EQ(slice(t, -1, 7, 9).numel(), 0);
  EXPECT_THROW(slice(t, 0, 0, 6, 0), std::invalid_argument);
  EXPECT_THROW(slice(t, 1, 0, 1), std::invalid_argument);
}

TEST(Slice, GradientOfAnEmptySliceIsZero) {
  Tensor x = Tensor::full({4}, 1.0, DType::f64);
  x.set_requires_grad();
  sum(slice(x, 0, 3, 1)).backward();
  EXPECT_EQ(x.grad().to_vector(), range({0, 0, 0, 0}));
}

TEST(Concat, ValuesAndErrors) {
  const Tensor a = iota({2, 1}), b = add(iota({2, 2}), 10.0);
  EXPECT_EQ(concat({a, b}, 1).to_vector(), range({0, 10, 11, 1, 12, 13}));
  EXPECT_EQ(concat({transpose(b, 0, 1), b}, 0).to_vector(),
            range({10, 12, 11, 13, 10, 11, 12, 13}));
  EXPECT_THROW(concat({a, b}, 0), std::invalid_argument);
  EXPECT_THROW(concat({}, 0), std::invalid_argument);
  EXPECT_THROW(concat({a, iota({2})}, 0), std::invalid_argument);
  EXPECT_THROW(concat({a, a.to(DType::f64)}, 0), std::invalid_argument);
}

TEST(Permute, ValuesAndErrors) {
  const Tensor t = iota({2, 3});
  EXPECT_EQ(permute(t, {1, 0}).to_vector(), transpose(t, 0, 1).to_vector());
  EXPECT_THROW(permute(t, {0, 0}), std::invalid_argument);
  EXPECT_THROW(permute(t, {0}), std::invalid_argument);
  EXPECT_THROW(permute(t, {0, 2}), std::invalid_argument);
}

TEST(Contiguous, ReturnsContiguousInputItselfAndCopiesViews) {
  Tensor x = iota({2, 3});
  x.set_requires_grad();
  EXPECT_TRUE(contiguous(x).same(x));
  const Tensor c = contiguous(transpose(x, 0, 1));
  EXPECT_TRUE(c.is_contiguous());
  ASSERT_TRUE(c.grad_fn());
  EXPECT_EQ(c.grad_fn()->name, "contiguous");
  EXPECT_EQ(c.to_vector(), range({0, 3, 1, 4, 2, 5}));
}

}  // namespace
}  // namespace sg
