#include "train/draw/attention_maps.h"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

#include "autograd/engine.h"
#include "train/decode/decode.h"

namespace sg {

namespace {

std::vector<std::string> labels_of(const std::vector<int64_t>& ids, const Vocab& vocab) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int64_t id : ids) out.push_back(vocab.token(id));
  return out;
}

// w: (1, H, Q, K) probabilities of one layer -> the mean map, then one map per head.
void add_layer_maps(std::vector<AttentionMap>& out, const std::string& kind, int64_t layer,
                    const Tensor& w, const std::vector<std::string>& rows,
                    const std::vector<std::string>& cols) {
  const Shape& s = w.shape();
  const int64_t H = s.at(1), Q = s.at(2), K = s.at(3);
  if (s.at(0) != 1 || Q != static_cast<int64_t>(rows.size()) ||
      K != static_cast<int64_t>(cols.size()))
    throw std::logic_error("attention: " + kind + " weights of layer " + std::to_string(layer) +
                           " have shape " + shape_str(s) + ", expected (1, H, " +
                           std::to_string(rows.size()) + ", " + std::to_string(cols.size()) + ")");
  const std::vector<double> v = w.to_vector();
  auto blank = [&](int64_t head) {
    AttentionMap m{kind, layer, head, rows, cols, {}};
    m.weights.assign(Q, std::vector<double>(K, 0.0));
    return m;
  };
  AttentionMap mean = blank(kHeadMean);
  std::vector<AttentionMap> heads;
  for (int64_t h = 0; h < H; ++h) {
    AttentionMap m = blank(h);
    for (int64_t q = 0; q < Q; ++q)
      for (int64_t k = 0; k < K; ++k) {
        m.weights[q][k] = v[(h * Q + q) * K + k];
        mean.weights[q][k] += m.weights[q][k] / static_cast<double>(H);
      }
    heads.push_back(std::move(m));
  }
  out.push_back(std::move(mean));
  for (auto& m : heads) out.push_back(std::move(m));
}

}  // namespace

std::vector<const AttentionMap*> AttentionResult::select(const std::string& kind,
                                                         int64_t layer) const {
  std::vector<const AttentionMap*> out;
  for (const auto& m : maps)
    if (m.kind == kind && m.layer == layer) out.push_back(&m);
  return out;
}

namespace {

// Decodes greedily, then collects every map of the teacher-forced pass over <bos> + output.
AttentionResult collect(const Seq2SeqTransformer& model, const Source& src,
                        std::vector<std::string> src_labels, const Vocab& tgt_vocab,
                        const DecodeOptions& opt, DecodeCuts* cuts) {
  NoGradGuard ng;
  AttentionResult r;
  r.output = greedy_decode(model, src, opt, cuts).at(0);
  std::vector<int64_t> tgt_in = {kBos};
  tgt_in.insert(tgt_in.end(), r.output.begin(), r.output.end());
  std::vector<int64_t> next = r.output;
  next.push_back(kEos);
  r.src_labels = std::move(src_labels);
  r.tgt_labels = labels_of(tgt_in, tgt_vocab);
  r.next_labels = labels_of(next, tgt_vocab);

  const IntTensor tgt_t({1, static_cast<int64_t>(tgt_in.size())}, tgt_in);
  std::vector<Tensor> enc;
  std::vector<DecoderWeights> dec;
  const Tensor memory = model.encode(src, &enc);
  model.decode(memory, src, tgt_t, &dec);
  r.heads = model.config().heads;
  r.enc_layers = static_cast<int64_t>(enc.size());
  r.dec_layers = static_cast<int64_t>(dec.size());
  for (int64_t l = 0; l < r.enc_layers; ++l)
    add_layer_maps(r.maps, "encoder_self", l, enc[l], r.src_labels, r.src_labels);
  for (int64_t l = 0; l < r.dec_layers; ++l)
    add_layer_maps(r.maps, "decoder_self", l, dec[l].self_attn, r.tgt_labels, r.tgt_labels);
  for (int64_t l = 0; l < r.dec_layers; ++l)
    add_layer_maps(r.maps, "cross", l, dec[l].cross_attn, r.tgt_labels, r.src_labels);
  return r;
}

}  // namespace

AttentionResult collect_attention(const Seq2SeqTransformer& model, const std::vector<int64_t>& src,
                                  const Vocab& src_vocab, const Vocab& tgt_vocab,
                                  const DecodeOptions& opt, DecodeCuts* cuts) {
  if (src.empty() || src.back() != kEos)
    throw std::invalid_argument("attention: the source ids must end in <eos>");
  return collect(model, IntTensor({1, static_cast<int64_t>(src.size())}, src),
                 labels_of(src, src_vocab), tgt_vocab, opt, cuts);
}

AttentionResult collect_attention(const Seq2SeqTransformer& model, const Image& image,
                                  const Vocab& tgt_vocab, const DecodeOptions& opt,
                                  DecodeCuts* cuts) {
  const ModelConfig& c = model.config();
  if (!c.reads_images() || image.height != c.image_height || image.width != c.image_width)
    throw std::invalid_argument("attention: the model does not read " +
                                std::to_string(image.width) + " x " + std::to_string(image.height) +
                                " images");
  const int64_t rows = c.image_height / c.patch, cols = c.image_width / c.patch;
  std::vector<std::string> labels;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k)
      labels.push_back(std::to_string(r) + "," + std::to_string(k));
  AttentionResult r =
      collect(model, Source(Tensor::from_floats(image.ink, {1, image.height, image.width})),
              std::move(labels), tgt_vocab, opt, cuts);
  r.image = image;
  r.patch = c.patch;
  r.patch_rows = rows;
  r.patch_cols = cols;
  return r;
}

nlohmann::ordered_json to_json(const AttentionMap& map) {
  // Shortest decimal that reads back as the same float32, as a JSON number.
  auto number = [](double w) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, static_cast<float>(w));
    *res.ptr = '\0';
    return std::strtod(buf, nullptr);
  };
  nlohmann::ordered_json weights = nlohmann::ordered_json::array();
  for (const auto& row : map.weights) {
    nlohmann::ordered_json r = nlohmann::ordered_json::array();
    for (double w : row) r.push_back(number(w));
    weights.push_back(std::move(r));
  }
  return {{"kind", map.kind},
          {"layer", map.layer},
          {"head", map.head == kHeadMean ? nlohmann::ordered_json("mean")
                                         : nlohmann::ordered_json(map.head)},
          {"rows", map.rows},
          {"cols", map.cols},
          {"weights", std::move(weights)}};
}

}  // namespace sg
