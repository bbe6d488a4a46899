// Attention maps of one input, for `seqgrad attention`: the input is decoded greedily, then
// <bos> + output is run through the model teacher-forced once, and every attention
// probability is collected, per layer and head plus the mean over heads:
//   encoder_self  (S x S)  source queries attend to source keys (source tokens + <eos>)
//   decoder_self  (T x T)  decoder-input queries attend to earlier decoder inputs (causal)
//   cross         (T x S)  decoder-input queries attend to the encoder memory
// Decoder query rows are the decoder input <bos> + output; row t predicts output token t (the
// last row predicts <eos>). For an image model the source is the image's patches, labelled
// "r,c" (patch row and column) in row-major order, and the result keeps the image so that the
// renderer can draw the cross-attention of each output character over it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/image.h"
#include "datasets/vocab.h"
#include "layers/transformer.h"
#include "train/decode/decode.h"

namespace sg {

// The head index of the mean over heads (printed as "mean" in JSON).
constexpr int64_t kHeadMean = -1;

struct AttentionMap {
  std::string kind;  // "encoder_self" | "decoder_self" | "cross"
  int64_t layer = 0;
  int64_t head = kHeadMean;
  std::vector<std::string> rows, cols;       // query and key token labels
  std::vector<std::vector<double>> weights;  // rows x cols, each row sums to 1
};

struct AttentionResult {
  std::vector<std::string> src_labels;   // source tokens + <eos> (the encoder input)
  std::vector<std::string> tgt_labels;   // <bos> + output tokens (the decoder input)
  std::vector<std::string> next_labels;  // output tokens + <eos> (what each decoder row predicts)
  std::vector<int64_t> output;           // generated ids without <bos>/<eos>
  int64_t heads = 0, enc_layers = 0, dec_layers = 0;
  // An image model's input (fitted to the model's size) and its grid of patch_rows x patch_cols
  // patches of `patch` pixels; image.height == 0 for a text model.
  Image image;
  int64_t patch = 0, patch_rows = 0, patch_cols = 0;
  bool is_image() const { return image.height > 0; }
  // Grouped by kind (encoder_self, decoder_self, cross), then layer, then the mean followed by
  // heads 0..H-1.
  std::vector<AttentionMap> maps;

  // The maps of one kind and layer, mean first.
  std::vector<const AttentionMap*> select(const std::string& kind, int64_t layer) const;
};

// src: source ids ending in <eos> (no padding). Decodes greedily (opt.beam is not used; the
// length limit is opt's, and `cuts` gets the row as greedy_decode gives it), then collects the
// maps of the teacher-forced pass over <bos> + output. Runs without a graph.
AttentionResult collect_attention(const Seq2SeqTransformer& model, const std::vector<int64_t>& src,
                                  const Vocab& src_vocab, const Vocab& tgt_vocab,
                                  const DecodeOptions& opt, DecodeCuts* cuts = nullptr);
// The same for an image model; `image` has the model's input size.
AttentionResult collect_attention(const Seq2SeqTransformer& model, const Image& image,
                                  const Vocab& tgt_vocab, const DecodeOptions& opt,
                                  DecodeCuts* cuts = nullptr);
// {"kind","layer","head","rows","cols","weights"}; head is an integer, or "mean" for the mean
// over heads. Weights are the float32 values in their shortest decimal form.
nlohmann::ordered_json to_json(const AttentionMap& map);

}  // namespace sg
