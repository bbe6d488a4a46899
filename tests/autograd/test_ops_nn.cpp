// The neural-network ops against PyTorch (values in tests/reference/nn_values.json, written by
// tests/reference/make_nn_values.py), in float32 and float64, plus the behaviour PyTorch cannot
// serve as a reference for: fully masked rows, dropout's mask and rate, errors, and results that
// do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"

namespace sg {
namespace {

using nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();

const json& reference() {
  static const json j = [] {
    std::ifstream in(std::string(SEQGRAD_SOURCE_DIR) + "/tests/reference/nn_values.json");
    return in ? json::parse(in) : json::object();
  }();
  return j;
}

std::vector<size_t> case_indices() {
  std::vector<size_t> v;
  if (reference().contains("cases"))
    for (size_t i = 0; i < reference()["cases"].size(); ++i) v.push_back(i);
  return v;
}

Tensor tensor_of(const json& t, DType dt) {
  return Tensor::from_vector(t["data"].get<std::vector<double>>(), t["shape"].get<Shape>(), dt);
}

IntTensor ints_of(const json& t) {
  return IntTensor(t["shape"].get<Shape>(), t["data"].get<std::vector<int64_t>>());
}

double number(const json& v) {
  if (v.is_string()) return v.get<std::string>() == "-inf" ? -kInf : kInf;
  return v.get<double>();
}

// Runs the case's op on its inputs (looked up by name) the way the script ran PyTorch.
Tensor run_op(const json& c, const std::map<std::string, Tensor>& in) {
  const std::string op = c["op"];
  const json& p = c["params"];
  auto input = [&](const char* k) { return in.count(k) ? in.at(k) : Tensor(); };
  if (op == "softmax") return softmax(in.at("x"), p["dim"].get<int64_t>());
  if (op == "log_softmax") return log_softmax(in.at("x"), p["dim"].get<int64_t>());
  if (op == "layer_norm")
    return layer_norm(in.at("x"), input("w"), input("b"), p["eps"].get<double>());
  if (op == "embedding") return embedding(in.at("w"), ints_of(c["ints"]["ids"]));
  if (op == "masked_fill")
    return masked_fill(in.at("x"), ints_of(c["ints"]["mask"]), number(p["value"]));
  if (op == "masked_fill_softmax")
    return softmax(masked_fill(in.at("x"), ints_of(c["ints"]["mask"]), number(p["value"])), -1);
  if (op == "cross_entropy")
    return cross_entropy(in.at("x"), ints_of(c["ints"]["targets"]),
                         p["ignore_index"].get<int64_t>(), p["label_smoothing"].get<double>());
  throw std::runtime_error("test_ops_nn: unknown op " + op);
}

// |got - want| <= atol + rtol |want| elementwise; returns the worst excess for the message.
void expect_close(const std::vector<double>& got, const std::vector<double>& want, double atol,
                  double rtol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), atol + rtol * std::fabs(want[i]))
        << what << " element " << i << ": got " << got[i] << ", PyTorch " << want[i];
}

class NnReference : public ::testing::TestWithParam<size_t> {};

TEST_P(NnReference, ValuesAndGradientsMatchPyTorch) {
  const json& c = reference()["cases"][GetParam()];
  for (DType dt : {DType::f64, DType::f32}) {
    const std::string key = dt == DType::f64 ? "f64" : "f32";
    // float64 agrees to rounding; float32 to a few ulps of the row sums (PyTorch sums in float).
    const double atol = dt == DType::f64 ? 1e-12 : 2e-6, rtol = dt == DType::f64 ? 1e-10 : 2e-5;
    std::map<std::string, Tensor> in;
    for (auto& [name, t] : c["inputs"].items()) in[name] = tensor_of(t, dt).set_requires_grad();
    const Tensor y = run_op(c, in);
    ASSERT_EQ(y.dtype(), dt);
    ASSERT_EQ(y.shape(), c["upstream"]["shape"].get<Shape>());
    expect_close(y.to_vector(), c[key]["out"].get<std::vector<double>>(), atol, rtol,
                 c["name"].get<std::string>() + " " + key + " output");
    y.backward(tensor_of(c["upstream"], dt));
    for (auto& [name, want] : c[key]["grads"].items()) {
      const Tensor g = in.at(name).grad();
      ASSERT_TRUE(g.defined()) << c["name"] << " " << key << " grad of " << name;
      expect_close(g.to_vector(), want.get<std::vector<double>>(), atol, rtol,
                   c["name"].get<std::string>() + " " + key + " grad of " + name);
    }
  }
}

std::string reference_name(const ::testing::TestParamInfo<size_t>& info) {
  return reference()["cases"][info.param]["name"].get<std::string>();
}

INSTANTIATE_TEST_SUITE_P(Cases, NnReference, ::testing::ValuesIn(case_indices()), reference_name);

TEST(NnReferenceFile, HoldsEveryOp) {
  ASSERT_TRUE(reference().contains("cases")) << "tests/reference/nn_values.json missing";
  std::map<std::string, int> ops;
  for (const json& c : reference()["cases"]) ++ops[c["op"].get<std::string>()];
  for (const char* op : {"softmax", "log_softmax", "layer_norm", "embedding", "masked_fill",
                         "masked_fill_softmax", "cross_entropy"})
    EXPECT_GT(ops[op], 0) << op;
}

// ---- masked_softmax: the fused op equals the composition of the PyTorch-checked ones,
// softmax(masked_fill(scale * x, mask, -inf)), in value and gradient.

TEST(MaskedSoftmax, EqualsScaleMaskedFillSoftmax) {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(5);
    const Tensor up = Tensor::randn({2, 3, 4, 5}, g, dt);
    const IntTensor mask({2, 1, 1, 5}, {0, 0, 1, 0, 1, 1, 1, 1, 1, 1});  // batch 1 fully masked
    for (const IntTensor* m : {&mask, static_cast<const IntTensor*>(nullptr)}) {
      Tensor x1 = Tensor::randn({2, 3, 4, 5}, g, dt).set_requires_grad();
      Tensor x2 = x1.clone().set_requires_grad();
      const Tensor y1 = masked_softmax(x1, m, 0.125);
      Tensor s = mul(x2, 0.125);
      if (m) s = masked_fill(s, *m, -kInf);
      const Tensor y2 = softmax(s, -1);
      y1.backward(up);
      y2.backward(up);
      const double tol = dt == DType::f64 ? 1e-14 : 1e-6;
      const auto a = y1.to_vector(), b = y2.to_vector();
      const auto ga = x1.grad().to_vector(), gb = x2.grad().to_vector();
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_NEAR(a[i], b[i], tol) << i;
        ASSERT_NEAR(ga[i], gb[i], tol) << i;
        ASSERT_TRUE(std::isfinite(ga[i]));
      }
    }
  }
}

TEST(MaskedSoftmax, RejectsAMaskThatDoesNotBroadcast) {
  const Tensor x = Tensor::zeros({2, 3});
  const IntTensor mask({3, 3}, std::vector<int64_t>(9, 0));
  try {
    masked_softmax(x, &mask, 1.0);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("masked_softmax: mask"), std::string::npos) << e.what();
  }
}

// ---- attention: the fused op equals matmul, masked_softmax, matmul and merging the heads, in
// value, probabilities and gradients, on strided head views as the layers pass them.

TEST(AttentionOp, EqualsTheComposedOps) {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(9);
    const int64_t B = 2, H = 3, Tq = 4, Tk = 5, Dh = 2;
    const IntTensor mask({B, 1, 1, Tk}, {0, 0, 0, 1, 1, 1, 1, 1, 1, 1});  // b = 1 fully masked
    const Tensor up = Tensor::randn({B, Tq, H * Dh}, g, dt);
    const Tensor q0 = Tensor::randn({B, Tq, H * Dh}, g, dt),
                 kv0 = Tensor::randn({B, Tk, 2 * H * Dh}, g, dt);
    Tensor q1 = q0.clone().set_requires_grad(), kv1 = kv0.clone().set_requires_grad();
    Tensor q2 = q0.clone().set_requires_grad(), kv2 = kv0.clone().set_requires_grad();
    auto heads = [&](const Tensor& t, int64_t T) {
      return permute(reshape(t, {B, T, H, Dh}), {0, 2, 1, 3});
    };
    Tensor probs;
    const Tensor y1 = attention(heads(q1, Tq), heads(slice(kv1, 2, 0, H * Dh), Tk),
                                heads(slice(kv1, 2, H * Dh, 2 * H * Dh), Tk), &mask, 0.7, &probs);
    const Tensor p2 = masked_softmax(
        matmul(heads(q2, Tq), transpose(heads(slice(kv2, 2, 0, H * Dh), Tk), -2, -1)), &mask, 0.7);
    const Tensor y2 =
        reshape(permute(matmul(p2, heads(slice(kv2, 2, H * Dh, 2 * H * Dh), Tk)), {0, 2, 1, 3}),
                {B, Tq, H * Dh});
    y1.backward(up);
    y2.backward(up);
    const double tol = dt == DType::f64 ? 1e-13 : 1e-5;
    auto expect_same = [&](const Tensor& a, const Tensor& b, const char* what) {
      ASSERT_EQ(a.shape(), b.shape()) << what;
      const auto va = a.to_vector(), vb = b.to_vector();
      for (size_t i = 0; i < va.size(); ++i) {
        ASSERT_NEAR(va[i], vb[i], tol) << what << " " << i;
        ASSERT_TRUE(std::isfinite(va[i])) << what << " " << i;
      }
    };
    expect_same(y1, y2, "output");
    expect_same(probs, p2, "probabilities");
    expect_same(q1.grad(), q2.grad(), "dq");
    expect_same(kv1.grad(), kv2.grad(), "dk, dv");
  }
}

TEST(AttentionOp, SelfAttentionEqualsAttentionOnTheThreeBlocks) {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator g(4);
    const int64_t B = 2, T = 4, H = 2, Dh = 3, C = H * Dh;
    const IntTensor mask({B, 1, 1, T}, {0, 0, 0, 1, 0, 0, 0, 0});
    const Tensor up = Tensor::randn({B, T, C}, g, dt);
    const Tensor x0 = Tensor::randn({B, T, 3 * C}, g, dt);
    Tensor x1 = x0.clone().set_requires_grad(), x2 = x0.clone().set_requires_grad();
    auto heads = [&](const Tensor& t) { return permute(reshape(t, {B, T, H, Dh}), {0, 2, 1, 3}); };
    Tensor p1, p2;
    const Tensor y1 = self_attention(x1, H, &mask, 0.5, &p1);
    const Tensor y2 = attention(heads(slice(x2, 2, 0, C)), heads(slice(x2, 2, C, 2 * C)),
                                heads(slice(x2, 2, 2 * C, 3 * C)), &mask, 0.5, &p2);
    y1.backward(up);
    y2.backward(up);
    EXPECT_EQ(y1.to_vector(), y2.to_vector());
    EXPECT_EQ(p1.to_vector(), p2.to_vector());
    EXPECT_EQ(x1.grad().to_vector(), x2.grad().to_vector());
  }
}

TEST(AttentionOp, RejectsMismatchedShapes) {
  const Tensor q = Tensor::zeros({1, 2, 3, 4}), k = Tensor::zeros({1, 2, 5, 3});
  try {
    attention(q, k, k, nullptr, 1.0);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("attention: q"), std::string::npos) << e.what();
  }
  try {
    self_attention(Tensor::zeros({2, 3, 10}), 2, nullptr, 1.0);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("self_attention: qkv"), std::string::npos) << e.what();
  }
}

// ---- fully masked rows

TEST(Softmax, FullyMaskedRowGivesZerosAndZeroGradient) {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = Tensor::from_vector({0.3, -1.2, 2.0, 0.5, 1.0, 0.1, -0.4, 0.7}, {2, 4}, dt);
    x.set_requires_grad();
    const IntTensor mask({2, 4}, {1, 1, 1, 1, 0, 1, 0, 0});
    const Tensor y = softmax(masked_fill(x, mask, -kInf), -1);
    const std::vector<double> v = y.to_vector();
    for (int k = 0; k < 4; ++k) EXPECT_EQ(v[k], 0.0);
    EXPECT_NEAR(v[4] + v[5] + v[6] + v[7], 1.0, 1e-6);
    EXPECT_EQ(v[5], 0.0);
    y.backward(Tensor::from_vector({0.5, -1, 2, 3, 1, -2, 0.25, 4}, {2, 4}, dt));
    const std::vector<double> g = x.grad().to_vector();
    for (int k = 0; k < 4; ++k) EXPECT_EQ(g[k], 0.0) << k;
    for (double e : g) EXPECT_TRUE(std::isfinite(e));
    EXPECT_NE(g[4], 0.0);
  }
}

TEST(Softmax, FullyMaskedColumnAlongLeadingDim) {
  Tensor x = Tensor::from_vector({-kInf, 0.5, -kInf, -0.5}, {2, 2}, DType::f64);
  x.set_requires_grad();
  const Tensor y = softmax(x, 0);
  const std::vector<double> v = y.to_vector();  // column 0 is masked, column 1 is sigmoid(+-1)
  EXPECT_EQ(v[0], 0.0);
  EXPECT_EQ(v[2], 0.0);
  EXPECT_NEAR(v[1], 1 / (1 + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(v[3], 1 / (1 + std::exp(1.0)), 1e-15);
  y.backward(Tensor::full({2, 2}, 1.0, DType::f64));
  const std::vector<double> g = x.grad().to_vector();
  EXPECT_EQ(g[0], 0.0);
  EXPECT_EQ(g[2], 0.0);
}

TEST(LogSoftmax, FullyMaskedRowGivesZerosAndZeroGradient) {
  Tensor x = Tensor::from_vector({-kInf, -kInf, -kInf, 1.0, 2.0, 3.0}, {2, 3}, DType::f64);
  x.set_requires_grad();
  const Tensor y = log_softmax(x, -1);
  const std::vector<double> v = y.to_vector();
  EXPECT_EQ(v[0], 0.0);
  EXPECT_EQ(v[1], 0.0);
  EXPECT_EQ(v[2], 0.0);
  EXPECT_NEAR(std::exp(v[3]) + std::exp(v[4]) + std::exp(v[5]), 1.0, 1e-12);
  y.backward(Tensor::from_vector({1, 2, 3, 1, 2, 3}, {2, 3}, DType::f64));
  const std::vector<double> g = x.grad().to_vector();
  EXPECT_EQ(g[0], 0.0);
  EXPECT_EQ(g[1], 0.0);
  EXPECT_EQ(g[2], 0.0);
  EXPECT_NEAR(g[3] + g[4] + g[5], 0.0, 1e-12);  // rows of a log_softmax gradient sum to 0
}

// ---- dropout

TEST(Dropout, SameGeneratorStateGivesSameMaskAndAdvancesByOneDrawPerCall) {
  const Tensor x = Tensor::full({1000}, 1.0, DType::f32);
  Generator a(42), b(42), c(43);
  const std::vector<double> ya = dropout(x, 0.5, a).to_vector();
  EXPECT_EQ(ya, dropout(x, 0.5, b).to_vector());
  EXPECT_NE(ya, dropout(x, 0.5, c).to_vector());
  Generator expected(42);
  const uint64_t key = expected.next_u64();
  EXPECT_EQ(a.state(), expected.state());
  // Element i is kept iff word i of the key's counter sequence is at least p 2^64.
  for (int64_t i = 0; i < 1000; ++i)
    ASSERT_EQ(ya[i] != 0.0, counter_u64(key, static_cast<uint64_t>(i)) >= (uint64_t{1} << 63)) << i;
}

// The mask is a function of the key and the position: the same bits on 1 and 2 threads, over a
// tensor large enough to be split, forward and backward.
TEST(Dropout, SameMaskAndGradientAtAnyThreadCount) {
  const int before = num_threads();
  Generator data(5);
  const Tensor x0 = Tensor::randn({300, 1000}, data, DType::f32);
  const Tensor up = Tensor::randn({300, 1000}, data, DType::f32);
  std::vector<std::vector<double>> ys, gs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor x = x0.detach();
    x.set_requires_grad();
    Generator g(11);
    const Tensor y = dropout(x, 0.1, g);
    y.backward(up);
    ys.push_back(y.to_vector());
    gs.push_back(x.grad().to_vector());
  }
  set_num_threads(before);
  EXPECT_EQ(ys[0], ys[1]);
  EXPECT_EQ(gs[0], gs[1]);
}

TEST(Dropout, RateAndExactScaleOver100kElements) {
  for (DType dt : {DType::f32, DType::f64}) {
    const double p = 0.3;
    Tensor x = Tensor::full({100, 1000}, 1.0, dt);
    x.set_requires_grad();
    Generator g(7);
    const Tensor y = dropout(x, p, g);
    const std::vector<double> v = y.to_vector();
    const double scale =
        dt == DType::f32 ? double(static_cast<float>(1.0 / (1.0 - p))) : 1.0 / (1.0 - p);
    int64_t zeros = 0;
    for (double e : v) {
      if (e == 0.0)
        ++zeros;
      else
        ASSERT_EQ(e, scale);
    }
    // Binomial(100000, 0.3) has standard deviation 145: 0.3 +- 0.01 is ~7 of them.
    EXPECT_NEAR(double(zeros) / double(v.size()), p, 0.01);
    // The gradient of sum(y) is the same mask times the same scale.
    y.backward(Tensor::full({100, 1000}, 1.0, dt));
    EXPECT_EQ(x.grad().to_vector(), v);
  }
}

TEST(Dropout, EvalModeAndZeroRateReturnTheInput) {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}, DType::f64);
  x.set_requires_grad();
  Generator g(1);
  const Generator::State before = g.state();
  EXPECT_TRUE(dropout(x, 0.5, g, false).same(x));
  EXPECT_TRUE(dropout(x, 0.0, g, true).same(x));
  EXPECT_EQ(g.state(), before);  // no draws
}

TEST(Dropout, RejectsRatesOutsideZeroToOneAndZeroesAtOne) {
  const Tensor x = Tensor::full({4}, 2.0, DType::f64);
  Generator g(3);
  EXPECT_THROW(dropout(x, -0.1, g), std::invalid_argument);
  EXPECT_THROW(dropout(x, 1.5, g), std::invalid_argument);
  EXPECT_THROW(dropout(x, std::nan(""), g), std::invalid_argument);
  EXPECT_EQ(dropout(x, 1.0, g).to_vector(), (std::vector<double>{0, 0, 0, 0}));
}

// ---- errors and edge cases

TEST(Embedding, OutOfRangeIdThrowsNamingTheIdAndVocabulary) {
  const Tensor w = Tensor::zeros({5, 3}, DType::f32);
  try {
    embedding(w, IntTensor({2}, {1, 7}));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(embedding(w, IntTensor({1}, {-1})), std::invalid_argument);
  EXPECT_EQ(embedding(w, IntTensor({2, 2}, {0, 4, 4, 0})).shape(), (Shape{2, 2, 3}));
}

TEST(CrossEntropy, OutOfRangeTargetThrowsButIgnoreIndexIsAllowed) {
  const Tensor x = Tensor::zeros({2, 5}, DType::f64);
  EXPECT_THROW(cross_entropy(x, IntTensor({2}, {1, 5})), std::invalid_argument);
  EXPECT_THROW(cross_entropy(x, IntTensor({2}, {-1, 0})), std::invalid_argument);
  EXPECT_THROW(cross_entropy(x, IntTensor({3}, {0, 1, 2})), std::invalid_argument);
  EXPECT_NEAR(cross_entropy(x, IntTensor({2}, {1, -100})).item(), std::log(5.0), 1e-12);
}

TEST(CrossEntropy, AllTargetsIgnoredGivesZeroLossAndZeroGradient) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::f32);
  x.set_requires_grad();
  const Tensor loss = cross_entropy(x, IntTensor({2}, {0, 0}), 0, 0.1);
  EXPECT_EQ(loss.item(), 0.0);
  loss.backward();
  EXPECT_EQ(x.grad().to_vector(), std::vector<double>(6, 0.0));
}

TEST(MaskedFill, MaskThatDoesNotBroadcastThrows) {
  const Tensor x = Tensor::zeros({2, 3}, DType::f32);
  EXPECT_THROW(masked_fill(x, IntTensor({2}, {0, 1}), 1.0), std::invalid_argument);
  EXPECT_THROW(masked_fill(x, IntTensor({1, 2, 3}, {0, 1, 0, 1, 0, 1}), 1.0),
               std::invalid_argument);
}

TEST(LayerNorm, WeightOfTheWrongSizeThrows) {
  const Tensor x = Tensor::zeros({2, 3}, DType::f32);
  EXPECT_THROW(layer_norm(x, Tensor::zeros({4}, DType::f32), Tensor()), std::invalid_argument);
  EXPECT_THROW(layer_norm(x, Tensor::zeros({3}, DType::f64), Tensor()), std::invalid_argument);
}

TEST(NnOps, NoNodeRecordedWithoutGrad) {
  const int64_t before = live_node_count();
  const Tensor x = Tensor::full({2, 3}, 0.5, DType::f32);
  const Tensor y = softmax(layer_norm(x, Tensor(), Tensor()), -1);
  EXPECT_EQ(live_node_count(), before);
  EXPECT_FALSE(y.requires_grad());
}

// ---- parallel results equal serial ones bit for bit

struct NnOutputs {
  std::vector<std::vector<double>> values;
};

// Runs every op on inputs large enough to be split across threads; returns outputs and grads.
NnOutputs run_large(int threads) {
  const int saved = num_threads();
  set_num_threads(threads);
  Generator g(11);
  const int64_t R = 2048, C = 64, V = 50;
  Tensor x = Tensor::randn({R, C}, g, DType::f32), w = Tensor::randn({C}, g, DType::f32),
         b = Tensor::randn({C}, g, DType::f32), emb = Tensor::randn({V, C}, g, DType::f32);
  for (Tensor* t : {&x, &w, &b, &emb}) t->set_requires_grad();
  const IntTensor ids = [&] {
    IntTensor t = IntTensor::zeros({R});
    for (auto& v : t.data) v = static_cast<int64_t>(g.below(V));
    return t;
  }();
  const Tensor h = layer_norm(x + embedding(emb, ids), w, b);
  const Tensor s = softmax(h, 0) + log_softmax(h, -1);
  const Tensor loss = cross_entropy(mul(s, h), ids, 3, 0.1);
  loss.backward();
  NnOutputs out;
  out.values = {loss.to_vector(), x.grad().to_vector(), w.grad().to_vector(), b.grad().to_vector(),
                emb.grad().to_vector()};
  set_num_threads(saved);
  return out;
}

TEST(NnOps, ResultsDoNotDependOnTheThreadCount) {
  const NnOutputs one = run_large(1), two = run_large(2);
  ASSERT_EQ(one.values.size(), two.values.size());
  for (size_t i = 0; i < one.values.size(); ++i) EXPECT_EQ(one.values[i], two.values[i]) << i;
}

}  // namespace
}  // namespace sg
