#include "train/loop/data_source.h"

#include <stdexcept>

#include "datasets/tsv.h"
#include "train/config/errors.h"

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

}  // namespace

DataSource::DataSource(const Config& c, const std::vector<std::vector<std::string>>* vocabs) {
  if (c.task == "tsv") {
    if (c.train_file.empty()) throw UsageError("--train: the tsv task needs a training file");
    mode_ = option_errors("tokenize", [&] { return Tokenizer::parse_mode(c.tokenize); });
    TsvReader reader(TsvOptions{mode_, c.max_len, "--max-len"});
    std::vector<Example> train;
    if (vocabs) {
      src_vocab_ = Vocab((*vocabs)[0]);
      tgt_vocab_ = Vocab((*vocabs)[1]);
      train = TsvReader::encode(reader.read(c.train_file), src_vocab_, tgt_vocab_);
      if (!c.valid_file.empty())
        valid_ = TsvReader::encode(reader.read(c.valid_file), src_vocab_, tgt_vocab_);
    } else {
      TsvCorpus corpus = option_errors(
          "min-freq", [&] { return reader.load(c.train_file, c.valid_file, c.min_freq); });
      src_vocab_ = corpus.src_vocab;
      tgt_vocab_ = corpus.tgt_vocab;
      train = std::move(corpus.train);
      valid_ = std::move(corpus.valid);
    }
    lengths_ = length_stats(train);
    FileBatcherOptions o;
    o.batch_size = c.batch;
    o.shuffle = c.shuffle;
    o.seed = c.seed;
    files_ =
        option_errors("batch", [&] { return std::make_unique<FileBatcher>(std::move(train), o); });
    return;
  }
  TaskOptions to;
  to.symbols = c.symbols;
  to.min_len = c.min_len;
  to.max_len = c.max_len;
  auto task = option_errors("task", [&] { return make_task(c.task, to); });
  mode_ = task->tokenize_mode();
  lengths_ = task->length_stats();
  src_vocab_ = task->src_vocab();
  tgt_vocab_ = task->tgt_vocab();
  stream_ = option_errors("valid-size",
                          [&] { return std::make_unique<TaskStream>(task, c.valid_size, c.seed); });
  stream_batches_ =
      option_errors("batch", [&] { return std::make_unique<StreamBatcher>(*stream_, c.batch); });
  valid_ = stream_->held_out();
}

Batch DataSource::next() {
  return stream_ ? stream_batches_->next() : files_->next();
}

void DataSource::save(TrainState& st) const {
  st.lengths = lengths_;
  if (stream_) {
    st.rngs["data"] = stream_->generator().state();
    return;
  }
  const BatcherPosition p = files_->position();
  st.data["epoch"] = p.epoch;
  st.data["batch"] = p.batch;
  st.rngs["data"] = p.epoch_rng;
}

void DataSource::restore(const TrainState& st) {
  auto rng = st.rngs.find("data");
  if (rng == st.rngs.end()) throw std::runtime_error("checkpoint has no data position (/rng/data)");
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
