#include "train/config/config.h"

#include <nlohmann/json.hpp>

namespace sg {

// nlohmann's NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT takes at most 63 fields, and Config
// has more: the same two functions, each over the fields in two lists. A key missing from the
// JSON keeps the default's value.
#define SG_CONFIG_FIELDS_DATA_MODEL                                                           \
  task, train_file, valid_file, data_file, min_len, max_len, symbols, tokenize, min_freq,     \
      vocab_size, spm_model, spm_sample, shared_vocab, valid_size, image_height, image_width, \
      patch, d_model, heads, enc_layers, dec_layers, ff, dropout, norm_first, share_embeddings
#define SG_CONFIG_FIELDS_RUN                                                                      \
  optim, lr, beta1, beta2, eps, weight_decay, momentum, nesterov, clip_norm, schedule, warmup,    \
      label_smoothing, ema, batch, max_tokens, micro_batches, steps, epochs, shuffle, seed,       \
      threads, out, save_every, keep, eval_every, patience, log_every, resume, checkpoint, input, \
      image, beam, decode_max_len, best_metric, length_penalty, n_best, sample, top_k, top_p,     \
      temperature, json

void to_json(nlohmann::json& nlohmann_json_j, const Config& nlohmann_json_t) {
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, SG_CONFIG_FIELDS_DATA_MODEL))
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, SG_CONFIG_FIELDS_RUN))
}

void from_json(const nlohmann::json& nlohmann_json_j, Config& nlohmann_json_t) {
  const Config nlohmann_json_default_obj;
  NLOHMANN_JSON_EXPAND(
      NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, SG_CONFIG_FIELDS_DATA_MODEL))
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, SG_CONFIG_FIELDS_RUN))
}

#undef SG_CONFIG_FIELDS_DATA_MODEL
#undef SG_CONFIG_FIELDS_RUN

nlohmann::json Config::to_json() const {
  return nlohmann::json(*this);
}

Config Config::from_json(const nlohmann::json& j) {
  return j.get<Config>();
}

}  // namespace sg
