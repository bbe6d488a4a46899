#include "datasets/sentencepiece_model.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

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

// The trainer's two data-dependent limits, as errors naming the flag.
[[noreturn]] void vocab_size_error(const std::string& message, int64_t vocab_size) {
  std::smatch m;
  if (std::regex_search(message, m, std::regex(R"(set it to a value <= ([0-9]+))")))
    throw std::invalid_argument("--vocab-size: " + std::to_string(vocab_size) +
                                " is too large for this data: SentencePiece finds at most " +
                                m[1].str() + " pieces in it");
  if (std::regex_search(message, m, std::regex(R"(required_chars\. [0-9]+ vs ([0-9]+))")))
    throw std::invalid_argument("--vocab-size: " + std::to_string(vocab_size) +
                                " is too small for this data: its characters and the special "
                                "tokens alone need " +
                                m[1].str());
  throw std::runtime_error("SentencePiece training failed: " + message);
}

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
      // own, from the returned status, so nothing below FATAL is printed.
      {"minloglevel", "3"}};
  Sentences it(sentences);
  std::string bytes;
  const auto st = sentencepiece::SentencePieceTrainer::Train(args, &it, &bytes);
  if (!st.ok()) vocab_size_error(st.message(), opt.vocab_size);
  return from_bytes(std::move(bytes), "the trained SentencePiece model");
}

std::shared_ptr<const SentencePieceModel> SentencePieceModel::from_bytes(std::string bytes,
                                                                         const std::string& what) {
  std::shared_ptr<SentencePieceModel> m(new SentencePieceModel);
  m->sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto st = m->sp_->LoadFromSerializedProto(bytes);
  if (!st.ok()) {
    const std::string msg = st.message();
    throw std::runtime_error(what + ": not a SentencePiece model (" +
                             (msg.find("ParseFromArray") != std::string::npos
                                  ? std::string("cannot parse it")
                                  : msg) +
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
  if (!st.ok()) throw std::runtime_error(std::string("SentencePiece cannot encode the text: ") + st.message());
  std::vector<int64_t> out;
  out.reserve(ids.size());
  for (const int i : ids)
    out.push_back(i >= 0 && static_cast<size_t>(i) < to_ours_.size() ? to_ours_[i] : Vocab::kUnk);
  return out;
}

std::string SentencePieceModel::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> sp_ids;
  sp_ids.reserve(ids.size());
  for (const int64_t i : ids) {
    if (i == Vocab::kEos) break;
    if (i < 0 || i >= vocab_.size())
      throw std::out_of_range("vocabulary: id " + std::to_string(i) + " outside [0, " +
                              std::to_string(vocab_.size()) + ")");
    if (const int s = to_sp_[static_cast<size_t>(i)]; s >= 0) sp_ids.push_back(s);
  }
  std::string text;
  const auto st = sp_->Decode(sp_ids, &text);
  if (!st.ok()) throw std::runtime_error(std::string("SentencePiece cannot decode: ") + st.message());
  return text;
}

}  // namespace sg
