// SentencePiece models through seqgrad's ids: a trained model's pieces are its vocabulary with
// the specials at 0-3, text round-trips, training is deterministic, the vocabulary size is
// checked against the data, a model made by spm_train's defaults is mapped, and bad model bytes
// are one-line errors.
#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "datasets/sentencepiece_model.h"
#include "datasets/spm_progress.h"
#include "datasets/text_codec.h"
#include "progress/progress.h"
#include "tests/exception_message.h"

namespace sg {
namespace {

using Ids = std::vector<int64_t>;

// Short sentences over a few German and English words: text for about 45 pieces.
std::vector<std::string> corpus() {
  const char* words[] = {"the",  "cat",     "sat",    "on",    "mat",   "dog",  "ran",
                         "fast", "über",    "straße", "die",   "katze", "saß",  "hund",
                         "lief", "schnell", "a",      "house", "haus",  "green"};
  std::vector<std::string> out;
  for (int k = 0; k < 120; ++k) {
    std::string s;
    for (int j = 0; j < 5; ++j) {
      if (j) s += ' ';
      s += words[(k * 7 + j * 3 + k / 5) % 20];
    }
    if (k % 3) s += '.';
    out.push_back(s);
  }
  return out;
}

std::shared_ptr<const SentencePieceModel> trained(int64_t vocab_size = 40) {
  return SentencePieceModel::train(corpus(), {vocab_size, 1});
}

using testing::exception_message;

TEST(SentencePiece, TrainedPiecesAreTheVocabularyWithTheSpecialsFirst) {
  const auto m = trained(40);
  const Vocab& v = m->vocab();
  ASSERT_EQ(v.size(), 40);
  EXPECT_EQ(std::vector<std::string>(v.tokens().begin(), v.tokens().begin() + 4),
            Vocab::special_tokens());
  for (int64_t i = 4; i < v.size(); ++i) EXPECT_NE(v.token(i)[0], '<') << v.token(i);
  const Ids ids = m->encode("the cat sat on the mat.");
  ASSERT_FALSE(ids.empty());
  for (const int64_t id : ids) EXPECT_GE(id, Vocab::kNumSpecial);
  EXPECT_EQ(m->decode(ids), "the cat sat on the mat.");
  // Pieces mark a word's start with "▁", as SentencePiece writes them.
  EXPECT_EQ(v.token(ids[0]).rfind("\xe2\x96\x81", 0), 0u) << v.token(ids[0]);
}

TEST(SentencePiece, UnknownCharactersAreUnkAndDecodeStopsAtEos) {
  const auto m = trained();
  const Ids ids = m->encode("the \xe4\xb8\xad cat");  // U+4E2D never seen
  EXPECT_NE(std::find(ids.begin(), ids.end(), Vocab::kUnk), ids.end());
  EXPECT_EQ(m->decode(ids), "the \xe2\x81\x87 cat");  // SentencePiece's unknown surface " ⁇ "
  Ids framed = {Vocab::kBos};
  const Ids cat = m->encode("cat");
  framed.insert(framed.end(), cat.begin(), cat.end());
  framed.push_back(Vocab::kEos);
  framed.insert(framed.end(), cat.begin(), cat.end());
  framed.push_back(Vocab::kPad);
  EXPECT_EQ(m->decode(framed), "cat");
  EXPECT_THROW(m->decode({40}), std::out_of_range);
}

TEST(SentencePiece, TrainingIsDeterministic) {
  EXPECT_EQ(trained()->bytes(), trained()->bytes());
  EXPECT_NE(trained(40)->bytes(), trained(35)->bytes());
  const auto again = SentencePieceModel::from_bytes(trained()->bytes(), "x");
  EXPECT_EQ(again->vocab(), trained()->vocab());
}

// The trainer prunes by 3/4 a round down to 1.1 x the vocabulary: from 1000 pieces to 110,
// 1000 750 562 421 315 236 177 132 110 (nine rounds); a round at or below 110 is the last.
TEST(SpmLogProgress, RoundsFollowTheTrainersPruning) {
  EXPECT_EQ(SpmLogProgress::rounds_left(1000, 100), 9);
  EXPECT_EQ(SpmLogProgress::rounds_left(110, 100), 1);
  EXPECT_EQ(SpmLogProgress::rounds_left(50, 100), 1);
  EXPECT_EQ(SpmLogProgress::rounds_left(147, 100), 2);  // 147 -> 110
  SpmLogProgress log(nullptr, 100);
  // Log text arrives in arbitrary pieces; only the first EM line of a round counts.
  log.write("unigram_model_trainer.cc(201) LOG(INFO) Initialized 2000 seed sentencepieces\nunigr");
  log.write("am_model_trainer.cc(507) LOG(INFO) EM sub_iter=0 size=1000 obj=5.8 num_tokens=9\n");
  EXPECT_EQ(log.rounds_total(), 9);
  EXPECT_EQ(log.rounds_done(), 0);
  log.write("x LOG(INFO) EM sub_iter=1 size=1000 obj=5.1\nx LOG(INFO) EM sub_iter=0 size=750 ");
  EXPECT_EQ(log.rounds_done(), 0);  // the line is not complete yet
  log.write("obj=4.9\n");
  EXPECT_EQ(log.rounds_done(), 1);
  EXPECT_EQ(log.rounds_total(), 9);
  log.finish();
  EXPECT_EQ(log.rounds_done(), 9);
}

// Training with a progress bar gives the same model and moves the bar to its end; the bar's
// lines reach stderr while the library's own log, read from std::cerr, shows nowhere.
TEST(SentencePiece, TrainingShowsItsRoundsOnAProgressBar) {
  double t = 0;
  ProgressOptions po;
  po.style = ProgressStyle::lines;  // to stderr (out not set)
  po.line_every_s = 1;
  po.clock = [&] { return t += 10; };
  std::streambuf* const cerr_before = std::cerr.rdbuf();
  ::testing::internal::CaptureStderr();
  int64_t rounds = 0;
  std::shared_ptr<const SentencePieceModel> m;
  {
    Progress bar("spm", 0, "EM rounds", po);
    SpmTrainOptions o{40, 1};
    o.progress = &bar;
    m = SentencePieceModel::train(corpus(), o);
    rounds = bar.done();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::cerr.rdbuf(), cerr_before);
  EXPECT_EQ(m->bytes(), trained(40)->bytes());
  EXPECT_GE(rounds, 1);
  const std::string last =
      "spm " + std::to_string(rounds) + "/" + std::to_string(rounds) + " EM rounds (100%)";
  EXPECT_NE(err.find(last), std::string::npos) << err;
  EXPECT_EQ(err.find("LOG("), std::string::npos) << err;
}

TEST(SentencePiece, VocabularySizeMustFitTheData) {
  EXPECT_EQ(exception_message([] { trained(100000); })
                .rfind("--vocab-size: 100000 is too large for this "
                       "data: SentencePiece finds at most ",
                       0),
            0u);
  EXPECT_EQ(exception_message([] { trained(8); })
                .rfind("--vocab-size: 8 is too small for this data: its "
                       "characters and the special tokens alone need ",
                       0),
            0u);
  EXPECT_THROW(trained(8), std::invalid_argument);
}

TEST(SentencePiece, BadModelBytesAreOneLineErrors) {
  EXPECT_EQ(exception_message([] { SentencePieceModel::from_bytes("", "m.model"); }),
            "m.model: not a SentencePiece model (unk is not defined.)");
  EXPECT_EQ(exception_message([] { SentencePieceModel::from_bytes("\x01\x02garbage", "m.model"); }),
            "m.model: not a SentencePiece model (cannot parse it)");
  const std::string good = trained()->bytes();
  EXPECT_EQ(
      exception_message([&] { SentencePieceModel::from_bytes(good.substr(0, 1000), "m.model"); }),
      "m.model: not a SentencePiece model (cannot parse it)");
  const std::string missing = "/nonexistent/seqgrad/m.model";
  EXPECT_EQ(exception_message([&] { SentencePieceModel::from_file(missing); }),
            missing + ": cannot open (No such file or directory)");
  EXPECT_EQ(exception_message([] { SentencePieceModel::from_file("/"); }),
            "/: is a folder, expected a SentencePiece model file");
}

// A model as spm_train makes it by default (<unk> 0, <s> 1, </s> 2, no padding piece).
std::string default_spm_train_model() {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("seqgrad_spm_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream in(dir + "/in.txt");
    for (const auto& s : corpus()) in << s << '\n';
  }
  const auto st = sentencepiece::SentencePieceTrainer::Train({{"input", dir + "/in.txt"},
                                                              {"model_prefix", dir + "/m"},
                                                              {"vocab_size", "40"},
                                                              {"minloglevel", "3"}});
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::ifstream f(dir + "/m.model", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  return bytes;
}

TEST(SentencePiece, AModelWithOtherSpecialIdsIsMapped) {
  const auto m = SentencePieceModel::from_bytes(default_spm_train_model(), "m.model");
  // Its 40 pieces less <unk>, <s> and </s>, after seqgrad's four specials.
  ASSERT_EQ(m->vocab().size(), 4 + 37);
  for (const char* control : {"<s>", "</s>"}) EXPECT_FALSE(m->vocab().contains(control));
  const Ids ids = m->encode("the dog ran \xe4\xb8\xad");
  for (const int64_t id : ids) EXPECT_GE(id, Vocab::kUnk);
  EXPECT_EQ(ids.back(), Vocab::kUnk);
  EXPECT_EQ(m->decode(ids), "the dog ran \xe2\x81\x87");
}

TEST(TextCodec, WordCharAndSentencePieceSides) {
  const TextCodec word(TokenizeMode::word, Vocab::from_tokens({"a", "b"}));
  EXPECT_EQ(word.name(), "word");
  EXPECT_EQ(word.encode("a  b c"), (Ids{4, 5, 3}));
  EXPECT_EQ(word.decode({1, 4, 5, 3, 2, 4}), "a b <unk>");
  const TextCodec chars(TokenizeMode::character, Vocab::from_tokens({"a", "\xe2\x96\x81"}));
  EXPECT_EQ(chars.encode("a a"), (Ids{4, 5, 4}));
  EXPECT_EQ(chars.decode({4, 5, 4}), "a a");
  const TextCodec spm(trained());
  EXPECT_EQ(spm.name(), "spm");
  EXPECT_EQ(spm.vocab().size(), 40);
  EXPECT_EQ(spm.decode(spm.encode("die katze lief")), "die katze lief");
  EXPECT_EQ(spm, TextCodec(trained()));
  EXPECT_FALSE(spm == word);
  EXPECT_EQ(exception_message([&] { spm.encode("a\xff"); }), "invalid UTF-8 byte 0xff at offset 1");
}

}  // namespace
}  // namespace sg
