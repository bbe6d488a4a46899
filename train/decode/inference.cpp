#include "train/decode/inference.h"

#include "datasets/task.h"
#include "datasets/task_stream.h"
#include "datasets/tsv.h"
#include "train/config/errors.h"
#include "train/config/memory_check.h"
#include "train/config/model_config.h"

namespace sg {

LoadedModel load_for_inference(const std::string& path) {
  LoadedModel m;
  m.contents = read_checkpoint(path);
  m.src_vocab = Vocab(m.contents.src_vocab);
  m.tgt_vocab = Vocab(m.contents.tgt_vocab);
  m.mode = tokenize_mode_of(m.contents.config);
  check_model_fits(m.contents.config, m.src_vocab.size(), m.tgt_vocab.size(), false);
  m.model = std::make_unique<Seq2SeqTransformer>(
      model_config(m.contents.config, m.src_vocab.size(), m.tgt_vocab.size()),
      m.contents.config.seed);
  load_model(path, *m.model);
  m.model->eval();
  m.train_lengths = training_lengths(m.contents);
  return m;
}

LengthStats training_lengths(const CheckpointContents& c) {
  if (c.state.lengths.known()) return c.state.lengths;
  const Config& run = c.config;
  if (run.task == "tsv") return {run.max_len, 2, 1};
  try {
    return make_task(run.task, {run.symbols, run.min_len, run.max_len})->length_stats();
  } catch (const std::exception&) {
    return {};
  }
}

std::vector<int64_t> encode_source(const std::string& text, const Vocab& vocab, TokenizeMode mode) {
  return vocab.encode(Tokenizer(mode).tokenize(text));
}

std::string decode_target(const std::vector<int64_t>& ids, const Vocab& vocab, TokenizeMode mode) {
  return Tokenizer(mode).detokenize(vocab.decode(ids));
}

std::vector<Example> held_out_data(const LoadedModel& m, const std::string& data_file) {
  const Config& run = m.contents.config;
  // A side (plus <bos> or <eos>) must fit the model's positional table.
  const TsvReader reader(TsvOptions{m.mode, m.model->config().max_len - 1, "the model's limit of"});
  if (!data_file.empty())
    return TsvReader::encode(reader.read(data_file), m.src_vocab, m.tgt_vocab);
  if (run.task == "tsv") {
    if (run.valid_file.empty())
      throw UsageError("--data: required, the checkpoint's run had no --valid file");
    return TsvReader::encode(reader.read(run.valid_file), m.src_vocab, m.tgt_vocab);
  }
  TaskOptions to{run.symbols, run.min_len, run.max_len};
  return TaskStream(make_task(run.task, to), run.valid_size, run.seed).held_out();
}

}  // namespace sg
