// keep_rows (train/decode/stepper.h), the reordering of the cached decoder's rows that beam search
// does every step: whole histories move with their rows (permutation cycles, repeats, rows leaving,
// more rows than before) through self_rows, without copying the self cache, which keeps its
// capacity, and the cross keys and values a row reads change only when asked to, without being
// copied (cross_kv.rows).
#include <gtest/gtest.h>

#include <memory>

#include "autograd/engine.h"
#include "train/decode/stepper.h"

namespace sg {
namespace {

constexpr int64_t H = 2, Cap = 4, Dh = 2;

// Entry (row, h, pos, d) of a buffer whose row r held history r: 1000 r + 100 h + 10 pos + d.
double value(int64_t r, int64_t h, int64_t pos, int64_t d) {
  return static_cast<double>(1000 * r + 100 * h + 10 * pos + d);
}

// A cache of N rows with len positions decoded (in a buffer of capacity Cap); v = -k; cross keys
// and values (N, H, 1, Dh) hold the row number.
DecoderCache filled_cache(int64_t N, int64_t len) {
  std::vector<double> k(N * H * Cap * Dh, -1.0), v(k.size(), 1.0), cross(N * H * Dh);
  for (int64_t r = 0; r < N; ++r)
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t p = 0; p < len; ++p)
        for (int64_t d = 0; d < Dh; ++d) {
          k[((r * H + h) * Cap + p) * Dh + d] = value(r, h, p, d);
          v[((r * H + h) * Cap + p) * Dh + d] = -value(r, h, p, d);
        }
      for (int64_t d = 0; d < Dh; ++d) cross[(r * H + h) * Dh + d] = static_cast<double>(r);
    }
  DecoderCache c;
  c.self_buf.k = Tensor::from_vector(k, {N, H, Cap, Dh});
  c.self_buf.v = Tensor::from_vector(v, {N, H, Cap, Dh});
  const Shape strides{H * Cap * Dh, Cap * Dh, Dh, 1};
  c.self_kv.k = Tensor::view_of(c.self_buf.k, {N, H, len, Dh}, strides, 0);
  c.self_kv.v = Tensor::view_of(c.self_buf.v, {N, H, len, Dh}, strides, 0);
  const Tensor x = Tensor::from_vector(cross, {N, H, 1, Dh});
  c.cross_kv = {x, x, {}};
  return c;
}

// The cross keys (N, H, 1, Dh) that row i reads: row cross_kv.rows[i], or row i without a map.
double cross_key(const DecoderCache& c, int64_t i, int64_t h) {
  const int64_t r = c.cross_kv.rows.empty() ? i : c.cross_kv.rows.at(i);
  return c.cross_kv.k.contiguous_data().to_vector().at((r * H + h) * Dh);
}

// Row i of the cache holds history[i] (the row it had in filled_cache) at every position, read
// through self_rows, and the cross keys and values it reads hold cross[i].
void expect_rows(const DecoderCache& c, const std::vector<int64_t>& history,
                 const std::vector<int64_t>& cross, int64_t len) {
  const int64_t N = static_cast<int64_t>(history.size()), Nb = c.self_kv.k.size(0);
  ASSERT_EQ(c.self_kv.k.shape(), (Shape{Nb, H, len, Dh}));
  ASSERT_GE(Nb, N);
  ASSERT_EQ(c.self_rows.size(), static_cast<size_t>(N * len));
  EXPECT_EQ(c.self_buf.k.size(2), Cap);  // the capacity is kept
  const auto k = c.self_kv.k.contiguous_data().to_vector();
  const auto v = c.self_kv.v.contiguous_data().to_vector();
  if (!c.cross_kv.rows.empty()) {
    ASSERT_EQ(c.cross_kv.rows.size(), static_cast<size_t>(N));
  }
  for (int64_t i = 0; i < N; ++i)
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t p = 0; p < len; ++p)
        for (int64_t d = 0; d < Dh; ++d) {
          const int64_t r = c.self_rows[i * len + p];
          ASSERT_TRUE(r >= 0 && r < Nb) << r;
          const size_t at = ((r * H + h) * len + p) * Dh + d;
          EXPECT_EQ(k[at], value(history[i], h, p, d)) << "row " << i;
          EXPECT_EQ(v[at], -value(history[i], h, p, d)) << "row " << i;
        }
      EXPECT_EQ(cross_key(c, i, h), static_cast<double>(cross[i])) << "row " << i;
    }
}

TEST(DecoderCache, KeepRowsMovesWholeHistories) {
  NoGradGuard ng;
  DecoderCache c = filled_cache(4, 3);
  const void* const buffer = c.self_buf.k.raw_data();
  // A cycle (0 <- 2 <- 3 <- 0), a row kept in place: cross keys and values stay.
  keep_rows(c, {2, 1, 3, 0}, false);
  expect_rows(c, {2, 1, 3, 0}, {0, 1, 2, 3}, 3);
  // Repeats and rows leaving (row 1 now holds history 1), with the cross keys and values.
  keep_rows(c, {1, 1, 0}, true);
  expect_rows(c, {1, 1, 2}, {1, 1, 0}, 3);
  // Fewer rows again: the buffer is neither copied nor moved.
  keep_rows(c, {2, 0}, true);
  expect_rows(c, {2, 1}, {0, 1}, 3);
  EXPECT_EQ(c.self_buf.k.raw_data(), buffer);
  // More rows than the buffer holds: one of 5 rows, the 4 histories kept in place.
  keep_rows(c, {1, 0, 1, 1, 0}, true);
  expect_rows(c, {1, 2, 1, 1, 2}, {1, 0, 1, 1, 0}, 3);
  EXPECT_EQ(c.self_buf.k.size(0), 5);
}

TEST(DecoderCache, KeepRowsBeforeAnyStepMovesTheCrossKeysOnly) {
  NoGradGuard ng;
  DecoderCache c = filled_cache(2, 0);
  c.self_kv = KeyValue{};
  c.self_buf = KeyValue{};
  keep_rows(c, {1, 1, 0}, true);
  EXPECT_FALSE(c.self_kv.k.defined());
  EXPECT_EQ(c.cross_kv.rows, (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(c.cross_kv.v.size(0), 2);  // not copied
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(cross_key(c, i, 1), i < 2 ? 1.0 : 0.0) << i;
}

// Beam search's use: `copies` rows per source share one encoding, rows move between and leave the
// batch, and every row then scores exactly as a fresh decoder fed its source and history.
// A 2+2-layer model of width 16 in eval mode (vocabularies 13 and 11).
std::unique_ptr<Seq2SeqTransformer> small_model() {
  ModelConfig cfg;
  cfg.src_vocab = 13, cfg.tgt_vocab = 11, cfg.d_model = 16, cfg.heads = 4, cfg.ff = 32;
  cfg.enc_layers = cfg.dec_layers = 2, cfg.dropout = 0.0;
  auto model = std::make_unique<Seq2SeqTransformer>(cfg, 5);
  model->eval();
  return model;
}

TEST(Stepper, RowsThatMoveOrLeaveScoreAsAFreshDecoder) {
  const auto owner = small_model();
  const Seq2SeqTransformer& model = *owner;
  NoGradGuard ng;
  const IntTensor src({2, 4}, {4, 5, 6, 2, 7, 2, 0, 0});
  Stepper step({&model}, src, 3);  // rows 0-2: source 0, rows 3-5: source 1
  std::vector<int64_t> source{0, 0, 0, 1, 1, 1};
  std::vector<std::vector<int64_t>> history(6);
  auto feed = [&](int64_t t) {
    std::vector<int64_t> tok;
    for (size_t i = 0; i < history.size(); ++i) tok.push_back(3 + (t * 7 + i * 3) % 8);
    step.next(tok);
    for (size_t i = 0; i < history.size(); ++i) history[i].push_back(tok[i]);
  };
  auto keep = [&](const std::vector<int64_t>& rows, bool memory) {
    step.keep(rows, memory);
    std::vector<int64_t> s;
    std::vector<std::vector<int64_t>> h;
    for (int64_t r : rows) s.push_back(source[r]), h.push_back(history[r]);
    source = s;
    history = h;
  };
  feed(0);
  feed(1);
  keep({1, 0, 0, 5, 3, 3}, false);  // hypotheses move within their sources
  feed(2);
  keep({4, 5, 3}, true);  // source 0 leaves
  feed(3);
  keep({2, 2, 0}, false);
  ASSERT_EQ(step.rows(), 3);
  // A fresh decoder of each row's source, fed its history.
  std::vector<int64_t> rows_src;
  for (int64_t s : source)
    rows_src.insert(rows_src.end(), src.data.begin() + s * 4, src.data.begin() + s * 4 + 4);
  Stepper fresh({&model}, IntTensor({3, 4}, rows_src));
  for (size_t t = 0; t < history[0].size(); ++t) {
    std::vector<int64_t> tok;
    for (const auto& h : history) tok.push_back(h[t]);
    fresh.next(tok);
  }
  const std::vector<int64_t> last{3, 4, 5};
  const auto got = step.next(last).to_vector(), want = fresh.next(last).to_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
}

// Rows that left the batch leave the self cache when it next grows: the histories of the rows
// still decoding move into a buffer of that many rows, and those rows score as a fresh decoder
// of their sources fed the same tokens.
TEST(Stepper, RowsThatLeftAreDroppedWhenTheCacheGrows) {
  const auto owner = small_model();
  const Seq2SeqTransformer& model = *owner;
  NoGradGuard ng;
  const IntTensor src({3, 3}, {4, 5, 2, 6, 2, 0, 7, 8, 2});
  DecodeState st = model.start_decoding(Source(src));
  auto tokens = [](int64_t t, int64_t n) {
    std::vector<int64_t> tok;
    for (int64_t i = 0; i < n; ++i) tok.push_back(3 + (t * 5 + i * 3) % 8);
    return tok;
  };
  constexpr int64_t kFirst = 16;  // the cache's first capacity: full after these steps
  for (int64_t t = 0; t < kFirst; ++t) model.decode_step(st, tokens(t, 3));
  for (auto& c : st.caches) {
    ASSERT_EQ(c.self_buf.k.size(2), kFirst);
    keep_rows(c, {2, 0}, true);  // source 1 leaves; rows 0 and 1 now decode sources 2 and 0
  }
  const auto got = model.decode_step(st, {9, 10}).to_vector();
  for (const auto& c : st.caches) {
    EXPECT_EQ(c.self_buf.k.size(0), 2);  // not the 3 rows it started with
    EXPECT_EQ(c.self_buf.v.size(0), 2);
    EXPECT_TRUE(c.self_rows.empty());
    EXPECT_EQ(c.self_kv.k.shape(), (Shape{2, 4, kFirst + 1, 4}));
  }
  DecodeState fresh = model.start_decoding(Source(IntTensor({2, 3}, {7, 8, 2, 4, 5, 2})));
  for (int64_t t = 0; t < kFirst; ++t) {
    const auto all = tokens(t, 3);
    model.decode_step(fresh, {all[2], all[0]});
  }
  const auto want = model.decode_step(fresh, {9, 10}).to_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
}

}  // namespace
}  // namespace sg
