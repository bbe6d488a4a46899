#include "datasets/sentencepiece_model.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <unordered_map>

#include "datasets/spm_progress.h"

namespace sg {

namespace {

// Feeds the trainer from memory, so the sample never goes through a temporary file.
class Sentences : public sentencepiece::SentenceIterator {
 public:
  explicit Sentences(const std::vector<std::string>& s) : s_(s) {}
  bool done() const override { return i_ >= s_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return s_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& s_;
  size_t i_ = 0;
};

// The digits that follow `marker` in `message`, or "" when the marker is absent.
std::string number_after(const std::string& message, std::string_view marker) {
  const size_t at = message.find(marker);
  if (at == std::string::npos) return {};
  size_t i = at + marker.size(), j = i;
  while (j < message.size() && message[j] >= '0' && message[j] <= '9') ++j;
  return message.substr(i, j - i);
}

// The trainer's two data-dependent limits, as errors naming the flag. Its messages read
// "Vocabulary size is too large. Please set it to a value <= N." and
// "Vocabulary size is smaller than required_chars. V vs N. ...".
[[noreturn]] void vocab_size_error(const std::string& message, int64_t vocab_size) {
  if (const std::string most = number_after(message, "set it to a value <= "); !most.empty())
    throw std::invalid_argument("--vocab-size: " + std::to_string(vocab_size) +
                                " is too large for this data: SentencePiece finds at most " + most +
                                " pieces in it");
  const std::string vs = std::to_string(vocab_size) + " vs ";
  if (const std::string need = number_after(message, "required_chars. " + vs); !need.empty())
    throw std::invalid_argument("--vocab-size: " + std::to_string(vocab_size) +
                                " is too small for this data: its characters and the special "
                                "tokens alone need " +
                                need);
  throw std::runtime_error("SentencePiece training failed: " + message);
}

// While it lives, what the library writes on std::cerr (its log) goes to an SpmLogProgress
// instead of the terminal.
class CerrToProgress : public std::streambuf {
 public:
  explicit CerrToProgress(SpmLogProgress& log) : log_(log), saved_(std::cerr.rdbuf(this)) {}
  ~CerrToProgress() override { std::cerr.rdbuf(saved_); }
  CerrToProgress(const CerrToProgress&) = delete;
  CerrToProgress& operator=(const CerrToProgress&) = delete;

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      const char ch = traits_type::to_char_type(c);
      log_.write(std::string_view(&ch, 1));
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    log_.write(std::string_view(s, static_cast<size_t>(n)));
    return n;
  }

 private:
  SpmLogProgress& log_;
  std::streambuf* saved_;
};

}  // namespace

SentencePieceModel::~SentencePieceModel() = default;

std::shared_ptr<const SentencePieceModel> SentencePieceModel::train(
    const std::vector<std::string>& sentences, const SpmTrainOptions& opt) {
  if (sentences.empty()) throw std::invalid_argument("SentencePiece: no sentences to train on");
  sentencepiece::SetRandomGeneratorSeed(0x5EED);
  const auto& sp = Vocab::special_tokens();
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", "unigram"},
      {"vocab_size", std::to_string(opt.vocab_size)},
      {"pad_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"unk_id", "3"},
      {"pad_piece", sp[0]},
      {"bos_piece", sp[1]},
      {"eos_piece", sp[2]},
      {"unk_piece", sp[3]},
      {"num_threads", std::to_string(std::max(1, opt.threads))},
      // The library logs its progress on stderr; seqgrad reports a failure as one line of its
      // own, from the returned status, so nothing below FATAL is printed, unless the log is
      // read for a progress bar (and then never shown).
      {"minloglevel", opt.progress ? "0" : "3"}};
  Sentences it(sentences);
  std::string bytes;
  SpmLogProgress log(opt.progress, opt.vocab_size);
  sentencepiece::util::Status st;
  if (opt.progress) {
    const CerrToProgress capture(log);
    st = sentencepiece::SentencePieceTrainer::Train(args, &it, &bytes);
  } else {
    st = sentencepiece::SentencePieceTrainer::Train(args, &it, &bytes);
  }
  if (!st.ok()) vocab_size_error(st.message(), opt.vocab_size);
  log.finish();
  return from_bytes(std::move(bytes), "the trained SentencePiece model");
}

std::shared_ptr<const SentencePieceModel> SentencePieceModel::from_bytes(std::string bytes,
                                                                         const std::string& what) {
  std::shared_ptr<SentencePieceModel> m(new SentencePieceModel);
  m->sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto st = m->sp_->LoadFromSerializedProto(bytes);
  if (!st.ok()) {
    const std::string msg = st.message();
    throw std::runtime_error(
        what + ": not a SentencePiece model (" +
        (msg.find("ParseFromArray") != std::string::npos ? std::string("cannot parse it") : msg) +
        ")");
  }
  m->bytes_ = std::move(bytes);
  m->map_ids();
  if (m->vocab_.size() <= Vocab::kNumSpecial)
    throw std::runtime_error(what + ": the SentencePiece model has no ordinary piece");
  return m;
}

std::shared_ptr<const SentencePieceModel> SentencePieceModel::from_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error(path + ": is a folder, expected a SentencePiece model file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": read error (" + std::strerror(errno) + ")");
  return from_bytes(ss.str(), path);
}

void SentencePieceModel::map_ids() {
  const int n = sp_->GetPieceSize();
  const auto& specials = Vocab::special_tokens();
  std::vector<std::string> pieces;  // real pieces in the model's order
  to_ours_.assign(static_cast<size_t>(n), Vocab::kUnk);
  for (int i = 0; i < n; ++i) {
    if (sp_->IsUnknown(i) || sp_->IsControl(i) || sp_->IsUnused(i)) continue;
    const std::string& p = sp_->IdToPiece(i);
    if (std::find(specials.begin(), specials.end(), p) != specials.end()) continue;
    to_ours_[static_cast<size_t>(i)] = Vocab::kNumSpecial + static_cast<int64_t>(pieces.size());
    pieces.push_back(p);
  }
  vocab_ = Vocab::from_tokens(pieces);
  to_sp_.assign(static_cast<size_t>(vocab_.size()), -1);
  to_sp_[Vocab::kUnk] = sp_->unk_id();
  for (int i = 0; i < n; ++i)
    if (to_ours_[static_cast<size_t>(i)] >= Vocab::kNumSpecial)
      to_sp_[static_cast<size_t>(to_ours_[static_cast<size_t>(i)])] = i;
}

std::vector<int64_t> SentencePieceModel::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto st = sp_->Encode(text, &ids);
  if (!st.ok())
    throw std::runtime_error(std::string("SentencePiece cannot encode the text: ") + st.message());
  std::vector<int64_t> out;
  out.reserve(ids.size());
  for (const int i : ids)
    out.push_back(i >= 0 && static_cast<size_t>(i) < to_ours_.size() ? to_ours_[i] : Vocab::kUnk);
  return out;
}

std::string SentencePieceModel::decode(const std::vector<int64_t>& ids) const {
  // SentencePiece writes <unk> as " ⁇ ", doubling the spaces next to it; here each run of known
  // pieces is decoded on its own, and the runs (without spaces at their ends) and the ⁇ are
  // joined by single spaces.
  std::string text;
  std::vector<int> run;
  auto append = [&](std::string_view part) {
    // A run may end in a lone "▁" piece (the space before the unknown word): no double space.
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.empty()) return;
    if (!text.empty()) text += ' ';
    text += part;
  };
  auto flush = [&] {
    if (run.empty()) return;
    std::string part;
    const auto st = sp_->Decode(run, &part);
    if (!st.ok())
      throw std::runtime_error(std::string("SentencePiece cannot decode: ") + st.message());
    append(part);
    run.clear();
  };
  for (const int64_t i : ids) {
    if (i == Vocab::kEos) break;
    if (i < 0 || i >= vocab_.size())
      throw std::out_of_range("vocabulary: id " + std::to_string(i) + " outside [0, " +
                              std::to_string(vocab_.size()) + ")");
    if (i == Vocab::kUnk) {
      flush();
      append("\xe2\x81\x87");  // ⁇, SentencePiece's surface of an unknown piece
    } else if (const int s = to_sp_[static_cast<size_t>(i)]; s >= 0) {
      run.push_back(s);
    }
  }
  flush();
  return text;
}

}  // namespace sg
