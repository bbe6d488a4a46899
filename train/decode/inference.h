// A trained model loaded from a checkpoint for eval, translate and attention: the model (eval
// mode), its vocabularies and tokenization, and the checkpoint's contents.
#pragma once

#include <memory>
#include <string>

#include "datasets/tokenizer.h"
#include "datasets/vocab.h"
#include "layers/transformer.h"
#include "train/checkpoint/checkpoint.h"

namespace sg {

struct LoadedModel {
  CheckpointContents contents;
  std::unique_ptr<Seq2SeqTransformer> model;
  Vocab src_vocab, tgt_vocab;
  TokenizeMode mode = TokenizeMode::word;
};

LoadedModel load_for_inference(const std::string& path);

}  // namespace sg
