#include "train/decode/inference.h"

#include "datasets/task.h"
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

}  // namespace sg
