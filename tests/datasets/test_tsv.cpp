// TSV corpora: good files (LF, CRLF, BOM, no final newline, char tokens), vocabularies from the
// training file, the exact one-line error of every bad input, seeded samples of lines, and
// examples re-read from their file (TsvExamples) equal to those read at once, and the file's
// fingerprint (size and FNV-1a hash).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <stdexcept>

#include <unistd.h>

#include "datasets/file_batcher.h"
#include "datasets/tsv.h"
#include "datasets/tsv_examples.h"
#include "tests/exception_message.h"

namespace sg {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

class Tsv : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("seqgrad_tsv_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // The message of the error reading `bytes` gives, which must be one line.
  std::string error_of(const std::string& bytes, TsvOptions opt = {}) {
    const std::string path = write("bad.tsv", bytes);
    try {
      TsvReader(opt).read(path);
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      return msg;
    }
    ADD_FAILURE() << "no error for: " << bytes.substr(0, 60);
    return "";
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(Tsv, ReadsWordPairsWithLineNumbers) {
  const auto pairs = TsvReader().read(write("a.tsv", "the cat\tdie Katze\n a  dog \tein Hund\n"));
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].src, (Strings{"the", "cat"}));
  EXPECT_EQ(pairs[0].tgt, (Strings{"die", "Katze"}));
  EXPECT_EQ(pairs[1].src, (Strings{"a", "dog"}));
  EXPECT_EQ(pairs[1].line, 2);
}

TEST_F(Tsv, AcceptsCrlfBomAndAMissingFinalNewline) {
  const auto lf = TsvReader().read(write("lf.tsv", "a b\tc\nd\te f\n"));
  EXPECT_EQ(TsvReader().read(write("crlf.tsv", "a b\tc\r\nd\te f\r\n"))[1].tgt, lf[1].tgt);
  const auto crlf = TsvReader({TokenizeMode::character}).read(write("c.tsv", "ab\tc\r\nd\tef\r\n"));
  EXPECT_EQ(crlf[0].tgt, (Strings{"c"}));  // no "\r" token
  EXPECT_EQ(crlf[1].tgt, (Strings{"e", "f"}));
  const auto bom = TsvReader().read(write("bom.tsv",
                                          "\xEF\xBB\xBF"
                                          "a b\tc\nd\te f"));
  ASSERT_EQ(bom.size(), 2u);
  EXPECT_EQ(bom[0].src, lf[0].src);
  EXPECT_EQ(bom[1].tgt, lf[1].tgt);
}

TEST_F(Tsv, CharModeKeepsSpacesAsAToken) {
  const auto pairs = TsvReader({TokenizeMode::character}).read(write("c.tsv", "né x\tyz\n"));
  EXPECT_EQ(pairs[0].src, (Strings{"n", "\xC3\xA9", Tokenizer::kSpaceToken, "x"}));
  EXPECT_EQ(pairs[0].tgt, (Strings{"y", "z"}));
}

TEST_F(Tsv, BuildsVocabulariesFromTrainingAndMapsUnseenValidTokensToUnk) {
  const std::string train = write("train.tsv", "a b a\tx y\nb c\ty y\na\tz\n");
  const std::string valid = write("valid.tsv", "a q\tx w\n");
  const TsvCorpus c = TsvReader().load(train, valid, 2);
  // Source counts a:3 b:2 c:1; target y:3 x:1 z:1.
  EXPECT_EQ(c.src_vocab.tokens(), (Strings{"<pad>", "<bos>", "<eos>", "<unk>", "a", "b"}));
  EXPECT_EQ(c.tgt_vocab.tokens(), (Strings{"<pad>", "<bos>", "<eos>", "<unk>", "y"}));
  ASSERT_EQ(c.train.size(), 3u);
  EXPECT_EQ(c.train[1].src, (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(c.train[1].tgt, (std::vector<int64_t>{4, 4}));
  ASSERT_EQ(c.valid.size(), 1u);
  EXPECT_EQ(c.valid[0].src, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(c.valid[0].tgt, (std::vector<int64_t>{3, 3}));
  const TsvCorpus joint = TsvReader().load(train, "", 1, true);
  EXPECT_EQ(joint.src_vocab, joint.tgt_vocab);
  EXPECT_EQ(joint.src_vocab.size(), 4 + 6);
  EXPECT_TRUE(joint.valid.empty());
}

TEST_F(Tsv, LineWithoutTab) {
  EXPECT_EQ(error_of("a\tb\nno tab here\n"),
            path("bad.tsv") + ":2: no tab, expected source<TAB>target");
}

TEST_F(Tsv, LineWithTwoTabs) {
  EXPECT_EQ(error_of("a\tb\tc\n"),
            path("bad.tsv") + ":1: more than one tab, expected source<TAB>target");
}

TEST_F(Tsv, EmptySides) {
  EXPECT_EQ(error_of("a\tb\n\tb\n"), path("bad.tsv") + ":2: empty source");
  EXPECT_EQ(error_of("a\tb\r\nc\t\r\n"), path("bad.tsv") + ":2: empty target");
  EXPECT_EQ(error_of("  \tb\n"), path("bad.tsv") + ":1: empty source");  // spaces: no word
}

TEST_F(Tsv, InvalidUtf8NamesLineByteAndOffset) {
  EXPECT_EQ(error_of("ok\tgood\nab\xFF\tc\n"),
            path("bad.tsv") + ":2: invalid UTF-8: byte 0xff at file offset 10 (column 3)");
  EXPECT_EQ(error_of("x\t\xC3\n"),
            path("bad.tsv") + ":1: invalid UTF-8: byte 0xc3 at file offset 2 (column 3)");
}

TEST_F(Tsv, EmptyFile) {
  EXPECT_EQ(error_of(""), path("bad.tsv") + ": empty file, no source<TAB>target pairs");
  EXPECT_EQ(error_of("\xEF\xBB\xBF"), path("bad.tsv") + ": empty file, no source<TAB>target pairs");
}

TEST_F(Tsv, BlankLines) {
  EXPECT_EQ(error_of("a\tb\n\nc\td\n"),
            path("bad.tsv") + ":2: blank line, expected source<TAB>target");
  EXPECT_EQ(error_of("a\tb\r\n\r\n"),
            path("bad.tsv") + ":2: blank line, expected source<TAB>target");
  EXPECT_EQ(error_of("\n"), path("bad.tsv") + ":1: blank line, expected source<TAB>target");
}

TEST_F(Tsv, TenThousandTokenLine) {
  std::string line;
  for (int i = 0; i < 10000; ++i) line += "w ";
  EXPECT_EQ(error_of("a\tb\n" + line + "\tshort\n"),
            path("bad.tsv") + ":2: source has 10000 tokens, more than the maximum of 1024");
  EXPECT_EQ(error_of("a\tb c d\n", {TokenizeMode::word, 2}),
            path("bad.tsv") + ":1: target has 3 tokens, more than the maximum of 2");
}

TEST_F(Tsv, MissingFileAndDirectory) {
  try {
    TsvReader().read(path("missing.tsv"));
    FAIL() << "missing file accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(e.what(), path("missing.tsv") + ": cannot open (No such file or directory)");
  }
  try {
    TsvReader().read(dir_.string());
    FAIL() << "directory accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(e.what(), dir_.string() + ": is a directory, expected a TSV file");
  }
}

TEST_F(Tsv, SampleKeepsEveryLineOfASmallFileAndASeededSubsetOfALargeOne) {
  std::string text;
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    text.append("s").append(n).append("\tt").append(n).append("\n");
  }
  const std::string f = write("f.tsv", text);
  const auto all = sample_tsv_lines(f, 50, 1);
  ASSERT_EQ(all.size(), 50u);
  EXPECT_EQ(all[7], (std::pair<std::string, std::string>{"s7", "t7"}));
  const auto a = sample_tsv_lines(f, 10, 1), b = sample_tsv_lines(f, 10, 1),
             c = sample_tsv_lines(f, 10, 2);
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<std::string> distinct;
  for (const auto& [src, tgt] : a) {
    EXPECT_EQ(src.substr(1), tgt.substr(1));
    distinct.insert(src);
  }
  EXPECT_EQ(distinct.size(), 10u);
  // A bad line after the sample is full is still found.
  const std::string bad = write("bad.tsv", text + "no tab\n");
  EXPECT_EQ(testing::exception_message([&] { sample_tsv_lines(bad, 5, 1); }),
            bad + ":51: no tab, expected source<TAB>target");
  EXPECT_THROW(sample_tsv_lines(f, 0, 1), std::invalid_argument);
}

TEST_F(Tsv, ExamplesReReadFromTheFileEqualThoseReadAtOnce) {
  const std::string train = write("train.tsv",
                                  "\xEF\xBB\xBF"
                                  "a b a\tx y\r\nb c\ty y\na\tz");
  const auto [sv, tv] = TsvReader().vocabularies(train, 1, false);
  const TextCodec src(TokenizeMode::word, sv), tgt(TokenizeMode::word, tv);
  const auto at_once = read_tsv_examples(train, src, tgt, {});
  auto file = std::make_shared<TsvExamples>(train, src, tgt, TsvOptions{});
  ASSERT_EQ(file->size(), 3);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(file->get(i), at_once[static_cast<size_t>(i)]) << i;
    EXPECT_EQ(file->src_len(i), static_cast<int64_t>(at_once[i].src.size()));
    EXPECT_EQ(file->tgt_len(i), static_cast<int64_t>(at_once[i].tgt.size()));
  }
  EXPECT_EQ(at_once, TsvReader::encode(TsvReader().read(train), sv, tv));
  // The same batches as from the examples in memory, with bucketing by length.
  const FileBatcherOptions o{.batch_size = 2, .bucket_batches = 2, .seed = 3};
  FileBatcher from_file(file, o), from_memory(at_once, o);
  for (int k = 0; k < 5; ++k) {
    const Batch a = from_file.next(), b = from_memory.next();
    EXPECT_EQ(a.src.data, b.src.data);
    EXPECT_EQ(a.tgt_out.data, b.tgt_out.data);
  }
}

TEST_F(Tsv, ExamplesFromAFileThatChangedAreAnErrorNamingTheLine) {
  const std::string train = write("train.tsv", "a b\tx\nc\ty\n");
  const TextCodec codec(TokenizeMode::word, Vocab::from_tokens({"a", "b", "c", "x", "y"}));
  TsvExamples file(train, codec, codec, {});
  write("train.tsv", "a b c\tx\n");
  EXPECT_EQ(testing::exception_message([&] { file.get(0); }),
            train + ":1: the file changed since training started reading it");
  EXPECT_EQ(testing::exception_message([&] { file.get(1); }),
            train + ":2: the file changed since training started reading it");
}

TEST_F(Tsv, TheFirstBadLineIsReportedWhateverComesAfterIt) {
  const TextCodec codec(TokenizeMode::word, Vocab::from_tokens({"a"}));
  const TsvOptions two{TokenizeMode::word, 2};
  std::string text = "a\ta\na a a\ta\nno tab\n";
  const std::string f = write("f.tsv", text);
  EXPECT_EQ(testing::exception_message([&] { TsvExamples(f, codec, codec, two); }),
            f + ":2: source has 3 tokens, more than the maximum of 2");
  EXPECT_EQ(testing::exception_message([&] { read_tsv_examples(f, codec, codec, two); }),
            f + ":2: source has 3 tokens, more than the maximum of 2");
  // Past the first chunk of lines, and with the bad line's error from encoding.
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "a\ta\n";
  const std::string g = write("g.tsv", many + "a\t \n" + "a\ta a a\n");
  EXPECT_EQ(testing::exception_message([&] { TsvExamples(g, codec, codec, two); }),
            g + ":5001: empty target");
}

// A file's fingerprint (a resume's test of its training file) is its size and the FNV-1a hash of
// every byte, the byte-order mark and line ends included; one byte more or one other byte changes
// it.
TEST_F(Tsv, TheFingerprintIsTheSizeAndFnv1aHashOfEveryByte) {
  FileFingerprint none, a;
  a.add("a");
  EXPECT_EQ(none.hash, 0xcbf29ce484222325ull);  // the published FNV-1a 64 test vectors
  EXPECT_EQ(a.hash, 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(a.bytes, 1);
  FileFingerprint foobar;
  foobar.add("foo");
  foobar.add("bar");  // in pieces, as lines are read
  EXPECT_EQ(foobar.hash, 0x85944171f73967e8ull);
  EXPECT_EQ(foobar.describe(), "6 bytes, FNV-1a 85944171f73967e8");

  const std::string bytes =
      "\xEF\xBB\xBF"
      "a b\tc\r\nd\te";
  FileFingerprint whole;
  whole.add(bytes);
  const TextCodec codec(TokenizeMode::word, Vocab::from_tokens({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(TsvExamples(write("t.tsv", bytes), codec, codec, {}).fingerprint(), whole);
  std::string other = bytes;
  other.back() = 'd';
  EXPECT_NE(TsvExamples(write("u.tsv", other), codec, codec, {}).fingerprint(), whole);
  EXPECT_NE(TsvExamples(write("v.tsv", bytes + "\n"), codec, codec, {}).fingerprint(), whole);
}

}  // namespace
}  // namespace sg
