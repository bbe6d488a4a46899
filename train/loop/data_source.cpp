#include "train/loop/data_source.h"

#include <stdexcept>
#include <tuple>

#include "autograd/parallel.h"
#include "datasets/tsv.h"
#include "datasets/tsv_examples.h"
#include "progress/progress.h"
#include "train/config/errors.h"
#include "train/config/model_config.h"
#include "train/loop/distributed.h"

namespace sg {

namespace {

// Runs f, turning the std::invalid_argument that the datasets library throws for a bad option
// value into a usage error naming the flag (exit 2). File problems stay run-time errors.
template <class F>
auto option_errors(const char* flag, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    throw UsageError(msg.rfind("--", 0) == 0 ? msg : "--" + std::string(flag) + ": " + msg);
  }
}

// The SentencePiece model of a TSV run that has none yet: read from --spm-model, or trained on
// --spm-sample lines of the training file.
std::shared_ptr<const SentencePieceModel> spm_model_for(const Config& c) {
  if (!c.spm_model.empty()) {
    try {
      return SentencePieceModel::from_file(c.spm_model);
    } catch (const std::runtime_error& e) {
      throw RunError(std::string("--spm-model: ") + e.what());
    }
  }
  std::vector<std::string> sentences;
  for (auto& [src, tgt] : option_errors(
           "spm-sample", [&] { return sample_tsv_lines(c.train_file, c.spm_sample, c.seed); })) {
    sentences.push_back(std::move(src));
    sentences.push_back(std::move(tgt));
  }
  // A bar over the trainer's EM rounds (plain lines in a log; nothing under --json, nor on the
  // ranks other than 0, which train the same model).
  ProgressOptions po = ProgressOptions::automatic(c.json || !dist::is_root());
  Progress bar("spm", 0, "EM rounds", po);
  SpmTrainOptions o{c.vocab_size, num_threads()};
  o.progress = &bar;
  auto model = option_errors("vocab-size", [&] { return SentencePieceModel::train(sentences, o); });
  bar.finish();
  return model;
}

}  // namespace

DataSource::DataSource(const Config& c, const std::pair<TextCodec, TextCodec>* stored) {
  if (c.task == "tsv") {
    if (c.train_file.empty()) throw UsageError("--train: the tsv task needs a training file");
    const TokenizeMode mode =
        c.tokenize == "spm"
            ? TokenizeMode::word
            : option_errors("tokenize", [&] { return Tokenizer::parse_mode(c.tokenize); });
    const TsvOptions limits{mode, c.max_len, "--max-len"};
    if (stored) {
      std::tie(src_codec_, tgt_codec_) = *stored;
    } else if (c.tokenize == "spm") {
      src_codec_ = tgt_codec_ = TextCodec(spm_model_for(c));
    } else {
      auto [src, tgt] = option_errors("min-freq", [&] {
        return TsvReader(limits).vocabularies(c.train_file, c.min_freq,
                                              c.shared_vocab || c.share_embeddings);
      });
      src_codec_ = TextCodec(mode, std::move(src));
      tgt_codec_ = TextCodec(mode, std::move(tgt));
    }
    auto train = std::make_shared<TsvExamples>(c.train_file, src_codec_, tgt_codec_, limits);
    train_fingerprint_ = train->fingerprint();
    if (!c.valid_file.empty())
      valid_ = read_tsv_examples(c.valid_file, src_codec_, tgt_codec_, limits, &valid_refs_,
                                 &valid_fingerprint_.emplace());
    lengths_ = length_stats(*train);
    if (c.max_tokens > 0) {
      // The longest example must fit a batch on its own.
      const int64_t i = FileBatcher::longest(*train);
      if (FileBatcher::tokens_of(*train, i) > c.max_tokens)
        throw UsageError("--max-tokens: " + std::to_string(c.max_tokens) +
                         " is smaller than the longest sentence, line " + std::to_string(i + 1) +
                         " of " + c.train_file + " (" +
                         std::to_string(FileBatcher::tokens_of(*train, i)) + " tokens with <eos>)");
    }
    FileBatcherOptions o;
    o.batch_size = c.batch;
    o.shuffle = c.shuffle;
    o.seed = c.seed;
    o.max_tokens = c.max_tokens;
    files_ = option_errors("batch", [&] { return std::make_unique<FileBatcher>(train, o); });
    return;
  }
  if (c.max_tokens > 0)
    throw UsageError("--max-tokens: token-based batches need a TSV corpus (--task tsv); the " +
                     c.task + " task makes batches of --batch sequences");
  if (c.task == "glyphs") {
    auto task =
        option_errors("task", [&] { return std::make_shared<const GlyphsTask>(glyph_options(c)); });
    if (c.batch < 1) throw UsageError("--batch must be >= 1, got " + std::to_string(c.batch));
    batch_size_ = c.batch;
    // An image model has no source tokens: its source codec holds only the specials.
    tgt_codec_ = TextCodec(TokenizeMode::character, task->vocab());
    glyphs_ = option_errors("valid-size", [&] {
      try {
        return std::make_unique<GlyphStream>(task, c.valid_size, c.seed);
      } catch (const std::invalid_argument& e) {
        // The strings are drawn as the copy task's; the error names the task the user gave.
        std::string msg = e.what();
        if (msg.rfind("task copy", 0) == 0) msg.replace(0, 9, "task glyphs");
        throw std::invalid_argument(msg);
      }
    });
    valid_images_ = glyphs_->held_out();
    // No source tokens: the longest string bounds decoding (the ratio is unused; 1 is the
    // smallest a checkpoint accepts).
    lengths_ = {c.max_len, 1, 1};
    return;
  }
  TaskOptions to;
  to.symbols = c.symbols;
  to.min_len = c.min_len;
  to.max_len = c.max_len;
  auto task = option_errors("task", [&] { return make_task(c.task, to); });
  lengths_ = task->length_stats();
  src_codec_ = TextCodec(task->tokenize_mode(), task->src_vocab());
  tgt_codec_ = TextCodec(task->tokenize_mode(), task->tgt_vocab());
  stream_ = option_errors("valid-size",
                          [&] { return std::make_unique<TaskStream>(task, c.valid_size, c.seed); });
  stream_batches_ =
      option_errors("batch", [&] { return std::make_unique<StreamBatcher>(*stream_, c.batch); });
  valid_ = stream_->held_out();
}

std::string DataSource::spm_model() const {
  return src_codec_.spm() ? src_codec_.spm()->bytes() : std::string();
}

Batch DataSource::next() {
  if (glyphs_) {
    std::vector<ImageExample> examples;
    examples.reserve(static_cast<size_t>(batch_size_));
    for (int64_t b = 0; b < batch_size_; ++b) examples.push_back(glyphs_->next());
    return make_image_batch(examples);
  }
  return stream_ ? stream_batches_->next() : files_->next();
}

void DataSource::save(TrainState& st) const {
  st.lengths = lengths_;
  if (glyphs_) {
    st.rngs["data"] = glyphs_->generator().state();
    return;
  }
  if (stream_) {
    st.rngs["data"] = stream_->generator().state();
    return;
  }
  const BatcherPosition p = files_->position();
  st.data["epoch"] = p.epoch;
  st.data["batch"] = p.batch;
  auto record = [&](const std::string& option, const FileFingerprint& f) {
    st.data[option + "_bytes"] = f.bytes;
    st.data[option + "_hash"] = static_cast<int64_t>(f.hash);  // the uint64's bits
  };
  if (train_fingerprint_) record("train", *train_fingerprint_);
  if (valid_fingerprint_) record("valid", *valid_fingerprint_);
  st.rngs["data"] = p.epoch_rng;
}

void DataSource::restore(const TrainState& st) {
  auto rng = st.rngs.find("data");
  if (rng == st.rngs.end()) throw std::runtime_error("checkpoint has no data position (/rng/data)");
  if (glyphs_) {
    glyphs_->generator().set_state(rng->second);
    return;
  }
  if (stream_) {
    stream_->generator().set_state(rng->second);
    return;
  }
  BatcherPosition p;
  p.epoch = st.data.count("epoch") ? st.data.at("epoch") : 0;
  p.batch = st.data.count("batch") ? st.data.at("batch") : 0;
  p.epoch_rng = rng->second;
  files_->restore(p);
}

}  // namespace sg
