// Parallel corpora in TSV (docs/data.md): one pair a line, source<TAB>target, UTF-8.
//
// Accepted: LF or CRLF line ends (a trailing CR is stripped), a UTF-8 byte-order mark at the
// start, a missing newline after the last line. Rejected, each with a one-line
// std::runtime_error "FILE:LINE: problem" (or "FILE: problem" for the whole file):
//   a missing or unreadable file or a directory; an empty file (no pairs);
//   a blank line anywhere (a single newline ending the last line is not a blank line);
//   a line without a tab, or with more than one tab;
//   an empty source or target side (no tokens after tokenization);
//   invalid UTF-8 (naming the byte and its offset in the file);
//   a side with more than max_len tokens.
//
// TsvScanner reads a file line by line through one line's buffer, so that memory does not grow
// with the file; TsvReader turns a whole (small) file into token strings and vocabularies;
// tsv_examples.h holds the encoded pairs of a large one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "autograd/random.h"
#include "datasets/example.h"
#include "datasets/tokenizer.h"
#include "datasets/vocab.h"

namespace sg {

struct TsvOptions {
  TokenizeMode tokenize = TokenizeMode::word;  // --tokenize word|char (TsvReader)
  int64_t max_len = 1024;                      // most tokens allowed on one side of a line
  // How the error for a longer side names the limit: "<max_len_name> <max_len>".
  std::string max_len_name = "the maximum of";
};

// What a file holds, in 16 bytes: its size and the 64-bit FNV-1a hash of its bytes. A checkpoint
// records its training file's, so that a resume can tell the same data under another name (the
// corpus moved to another folder) from other data.
struct FileFingerprint {
  int64_t bytes = 0;
  uint64_t hash = 14695981039346656037ull;  // FNV-1a's offset basis: the hash of no bytes

  // Takes the next bytes of the file.
  void add(std::string_view data);
  bool operator==(const FileFingerprint&) const = default;
  // "N bytes, FNV-1a 0123456789abcdef".
  std::string describe() const;
};

// One line of a TSV file, split at its tab: valid UTF-8, the line end and the byte-order mark
// removed. The views point into the scanner's buffer, valid until its next call.
struct TsvLine {
  int64_t line = 0;    // 1-based line number in the file
  int64_t offset = 0;  // byte offset in the file of the line's first byte (after a BOM)
  int64_t bytes = 0;   // bytes the line takes in the file, its line end included
  std::string_view src, tgt;
};

class TsvScanner {
 public:
  // Throws std::runtime_error naming the file if it is missing, unreadable or a directory. With
  // `fingerprint`, hashes every byte it reads: a serial pass, so only the reader whose file a
  // checkpoint records asks for it (not the vocabulary's or the SentencePiece sample's).
  explicit TsvScanner(std::string path, bool fingerprint = false);
  ~TsvScanner();
  TsvScanner(const TsvScanner&) = delete;
  TsvScanner& operator=(const TsvScanner&) = delete;

  // The next line, or false after the last one. Throws "FILE:LINE: ..." for a malformed line
  // and "FILE: empty file, ..." when the file holds no line at all.
  bool next(TsvLine& out);
  const std::string& path() const { return path_; }
  // With `fingerprint`, the bytes read so far (the byte-order mark and line ends included): once
  // next() returned false, the whole file's. Without it, that of no bytes.
  const FileFingerprint& fingerprint() const { return read_; }

  // Splits and checks one raw line (its line end included) as next() does; `line_no` and
  // `offset` only go into the result and the error messages.
  static TsvLine parse(const std::string& path, std::string_view raw, int64_t line_no,
                       int64_t offset);

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  char* buf_ = nullptr;
  size_t cap_ = 0;
  int64_t line_no_ = 0, offset_ = 0;
  bool fingerprint_ = false;
  FileFingerprint read_;
};

// "FILE:LINE: " for error messages.
std::string tsv_where(const std::string& path, int64_t line);
// Throws "FILE:LINE: empty source" or "FILE:LINE: source has N tokens, more than <name> <max>".
void check_tsv_side(const std::string& path, int64_t line, const char* side, int64_t tokens,
                    const TsvOptions& opt);

// Up to n lines of a file, a uniform sample drawn with `seed` (reservoir sampling, one pass) when
// the file has more, else every line in file order. Every line is checked on the way.
std::vector<std::pair<std::string, std::string>> sample_tsv_lines(const std::string& path,
                                                                  int64_t n, uint64_t seed);

struct TsvPair {
  std::vector<std::string> src, tgt;
  int64_t line = 0;  // 1-based line number in the file
};

// A training corpus: vocabularies built from the training file, and both files' examples
// mapped through them (tokens not in a vocabulary become <unk>).
struct TsvCorpus {
  Vocab src_vocab, tgt_vocab;
  std::vector<Example> train, valid;
};

class TsvReader {
 public:
  explicit TsvReader(TsvOptions opt = {}) : opt_(opt) {}

  std::vector<TsvPair> read(const std::string& path) const;

  // The source and target vocabularies of a file with min_freq (one vocabulary for both sides
  // when `joint`), counting tokens as the file streams by. Throws std::invalid_argument for
  // min_freq < 1 (naming --min-freq).
  std::pair<Vocab, Vocab> vocabularies(const std::string& path, int64_t min_freq, bool joint) const;

  // Reads the training file (and the validation file unless valid_path is empty), builds the
  // vocabularies from the training pairs with min_freq (one vocabulary for both sides when
  // `joint`, for shared embeddings), and encodes both files.
  TsvCorpus load(const std::string& train_path, const std::string& valid_path, int64_t min_freq,
                 bool joint = false) const;

  static std::vector<Example> encode(const std::vector<TsvPair>& pairs, const Vocab& src,
                                     const Vocab& tgt);

 private:
  TsvOptions opt_;
};

}  // namespace sg
