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
#pragma once

#include <string>
#include <vector>

#include "datasets/example.h"
#include "datasets/tokenizer.h"
#include "datasets/vocab.h"

namespace sg {

struct TsvOptions {
  TokenizeMode tokenize = TokenizeMode::word;  // --tokenize word|char
  int64_t max_len = 1024;                      // most tokens allowed on one side of a line
  // How the error for a longer side names the limit: "<max_len_name> <max_len>".
  std::string max_len_name = "the maximum of";
};

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
