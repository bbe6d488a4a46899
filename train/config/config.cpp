#include "train/config/config.h"

#include <nlohmann/json.hpp>

namespace sg {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Config, task, train_file, valid_file, data_file, min_len, max_len, symbols, tokenize, min_freq,
    vocab_size, spm_model, spm_sample, shared_vocab, valid_size, d_model, heads, enc_layers,
    dec_layers, ff, dropout, norm_first, share_embeddings, optim, lr, beta1, beta2, eps,
    weight_decay, momentum, nesterov, clip_norm, schedule, warmup, label_smoothing, ema, batch,
    max_tokens, micro_batches, steps, epochs, shuffle, seed, threads, out, save_every, keep,
    eval_every, patience, log_every, resume, checkpoint, input, beam, decode_max_len, best_metric,
    length_penalty, n_best, sample, top_k, top_p, temperature, json)

nlohmann::json Config::to_json() const {
  return nlohmann::json(*this);
}

Config Config::from_json(const nlohmann::json& j) {
  return j.get<Config>();
}

}  // namespace sg
