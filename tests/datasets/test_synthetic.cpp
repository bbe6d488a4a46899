// Synthetic tasks: vocabulary, targets of copy/reverse/sort, lengths, the held-out set and a
// training stream that never meets it, determinism and resumption of the stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "datasets/stream_batcher.h"
#include "datasets/synthetic.h"
#include "datasets/task_stream.h"

namespace sg {
namespace {

TEST(Synthetic, VocabularyIsSpecialsThenSymbols) {
  const auto task = make_task("copy", {.symbols = 10});
  const Vocab& v = task->src_vocab();
  ASSERT_EQ(v.size(), 14);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(v.id(std::to_string(k)), 4 + k);
  EXPECT_EQ(task->tgt_vocab(), v);
  EXPECT_EQ(task->tokenize_mode(), TokenizeMode::word);
}

void expect_task_targets(const std::string& name) {
  const auto task = make_task(name, {.symbols = 7, .min_len = 2, .max_len = 6});
  Generator g(3);
  std::set<size_t> lengths;
  std::vector<Example> drawn;
  for (int i = 0; i < 2000; ++i) {
    const Example e = drawn.emplace_back(task->draw_train(g));
    lengths.insert(e.src.size());
    for (const int64_t id : e.src) {
      EXPECT_GE(id, 4);
      EXPECT_LT(id, 11);
    }
    std::vector<int64_t> want = e.src;
    if (name == "reverse") std::reverse(want.begin(), want.end());
    if (name == "sort") std::sort(want.begin(), want.end());
    ASSERT_EQ(e.tgt, want) << name;
  }
  EXPECT_EQ(lengths, (std::set<size_t>{2, 3, 4, 5, 6}));  // every length of [2, 6], no other
  // The task's length bounds (the default decode limit's basis) are those of what it draws.
  EXPECT_EQ(length_stats(drawn), task->length_stats());
  EXPECT_EQ(task->length_stats(), (LengthStats{6, 1, 1}));
}

TEST(Synthetic, CopyTargetIsSource) {
  expect_task_targets("copy");
}
TEST(Synthetic, ReverseTargetIsReversedSource) {
  expect_task_targets("reverse");
}
TEST(Synthetic, SortTargetIsAscendingSource) {
  expect_task_targets("sort");
}

TEST(Synthetic, SortIsAscendingBySymbolIdNotText) {
  const SyntheticTask task(SyntheticKind::sort, {.symbols = 12});
  const Vocab& v = task.src_vocab();
  const auto tgt = task.target_for(v.encode({"11", "2", "10", "0"}));
  EXPECT_EQ(v.decode(tgt), (std::vector<std::string>{"0", "2", "10", "11"}));
}

TEST(Synthetic, HeldOutSetIsDistinctDeterministicAndCappedPerLength) {
  const auto task = make_task("copy");
  const auto a = task->held_out(1000, 42), b = task->held_out(1000, 42);
  ASSERT_EQ(a.size(), 1000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, task->held_out(1000, 43));
  std::set<std::vector<int64_t>> sources;
  std::map<size_t, int> per_len;
  for (const auto& e : a) {
    sources.insert(e.src);
    ++per_len[e.src.size()];
    EXPECT_EQ(e.tgt, e.src);
  }
  EXPECT_EQ(sources.size(), 1000u);
  EXPECT_LE(per_len[1], 1);   // 10% of the 10 sequences of length 1
  EXPECT_LE(per_len[2], 10);  // 10% of 100
  EXPECT_GT(per_len[10], 0);
}

TEST(Synthetic, TrainingStreamSkipsEveryHeldOutSource) {
  // Length 3 over 10 symbols: 1000 sequences, 100 held out; the stream must produce exactly
  // the other 900 (and, over enough draws, all of them).
  const auto task = make_task("reverse", {.symbols = 10, .min_len = 3, .max_len = 3});
  TaskStream stream(task, 100, 7);
  ASSERT_EQ(stream.held_out().size(), 100u);
  std::set<std::vector<int64_t>> seen;
  for (int i = 0; i < 20000; ++i) {
    const Example e = stream.next();
    ASSERT_FALSE(stream.in_held_out(e.src));
    seen.insert(e.src);
  }
  EXPECT_EQ(seen.size(), 900u);
  // The raw task does draw held-out sources; the stream is what removes them.
  Generator g(7);
  int hits = 0;
  for (int i = 0; i < 1000; ++i) hits += stream.in_held_out(task->draw_train(g).src);
  EXPECT_GT(hits, 50);
}

TEST(Synthetic, HeldOutDoesNotDependOnTheTrainingSeed) {
  const auto task = make_task("sort");
  TaskStream a(task, 200, 1), b(task, 200, 2);
  EXPECT_EQ(a.held_out(), b.held_out());
  bool differ = false;
  for (int i = 0; i < 10; ++i) differ |= a.next() != b.next();
  EXPECT_TRUE(differ);
}

TEST(Synthetic, StreamResumesFromItsGeneratorState) {
  const auto task = make_task("copy");
  TaskStream a(task, 1000, 5);
  for (int i = 0; i < 37; ++i) a.next();
  const Generator::State saved = a.generator().state();
  TaskStream b(task, 1000, 999);
  b.generator().set_state(saved);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(Synthetic, StreamBatcherDrawsFreshExamples) {
  const auto task = make_task("copy");
  TaskStream s1(task, 10, 11), s2(task, 10, 11);
  StreamBatcher batcher(s1, 8);
  const Batch batch = batcher.next();
  ASSERT_EQ(batch.size(), 8);
  std::vector<Example> want;
  for (int i = 0; i < 8; ++i) want.push_back(s2.next());
  const Batch expected = make_batch(want);
  EXPECT_EQ(batch.src.data, expected.src.data);
  EXPECT_EQ(batch.tgt_out.data, expected.tgt_out.data);
  EXPECT_THROW(StreamBatcher(s1, 0), std::invalid_argument);
}

void expect_invalid(const TaskOptions& opt, const std::string& message) {
  try {
    make_task("copy", opt);
    FAIL() << "accepted: " << message;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(e.what(), message);
  }
}

TEST(Synthetic, RejectsInvalidOptionsNamingTheFlag) {
  expect_invalid({.symbols = 0}, "--symbols must be in [1, 1000000], got 0");
  expect_invalid({.min_len = 0}, "--min-len must be >= 1, got 0");
  expect_invalid({.min_len = 5, .max_len = 4}, "--max-len (4) must be >= --min-len (5)");
  try {
    make_task("translate");
    FAIL() << "unknown task accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "unknown task 'translate' (expected copy, reverse, sort or dates)");
  }
}

TEST(Synthetic, RejectsAHeldOutSetTooLargeForTheTask) {
  const auto task = make_task("copy", {.symbols = 2, .min_len = 1, .max_len = 4});
  // 10% of 2, 4, 8, 16 sequences: 0 + 0 + 0 + 1.
  EXPECT_EQ(task->held_out(1, 0).size(), 1u);
  try {
    TaskStream(task, 2, 0);
    FAIL() << "oversized held-out set accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "task copy: a held-out set of 2 distinct examples does not fit (at most 1 with "
                 "10% of each length); raise --symbols or --max-len");
  }
}

}  // namespace
}  // namespace sg
